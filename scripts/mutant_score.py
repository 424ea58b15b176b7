"""Score `mutmut results --all true` per package of the pure core; exit 1 below the goal.

    python scripts/mutant_score.py mutmut-results.txt

A mutant that survives, times out or has no test counts against the score.
"""
from __future__ import annotations

import re
import sys
from collections import Counter

GOAL = 0.90
#: package -> module prefixes (mutmut names mutants ``module.x_function__mutmut_N``)
PACKAGES = {
    "market": ("controller.market.",),
    "pathing": ("controller.pathing.",),
    "rule plan": ("controller.ruleplan.", "controller.marketplan."),
    "cookies": ("controller.cookies.",),
    "reconcile": ("controller.reconcile.",),
    "core": ("controller.core.", "controller.ops."),
    "loader": ("topologies.loader.",),
}
LINE = re.compile(r"^\s*([\w.]+)__mutmut_\d+: (\w[\w ]*)$")


def score(lines) -> dict[str, Counter]:
    out = {name: Counter() for name in PACKAGES}
    for line in lines:
        m = LINE.match(line)
        if not m:
            continue
        for name, prefixes in PACKAGES.items():
            if m.group(1).startswith(prefixes):
                out[name][m.group(2).strip()] += 1
    return out


def main(path: str) -> int:
    with open(path, encoding="utf-8") as f:
        counts = score(f)
    print(f"{'package':<10} {'mutants':>7} {'killed':>7} {'survived':>8} {'other':>6} {'score':>6}")
    failed = []
    for name, c in counts.items():
        total = sum(c.values())
        killed = c["killed"]
        rate = killed / total if total else 0.0
        print(f"{name:<10} {total:>7} {killed:>7} {c['survived']:>8} {total - killed - c['survived']:>6} {rate:>6.1%}")
        if rate < GOAL:
            failed.append(name)
    if failed:
        print(f"below the goal of {GOAL:.0%}: {', '.join(failed)}")
        return 1
    print(f"every package at or above {GOAL:.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
