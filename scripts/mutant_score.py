"""Score `mutmut results --all true` per package of the pure core; exit 1 below the goal.

    python scripts/mutant_score.py mutmut-results.txt            # per package
    python scripts/mutant_score.py mutmut-results.txt --modules  # and per module

A mutant that survives, times out, has no test or was not checked counts against
the score.
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
    "rule plan": ("controller.ruleplan.", "controller.marketplan.", "controller.ofwire."),
    "cookies": ("controller.cookies.",),
    "reconcile": ("controller.reconcile.",),
    "core": ("controller.core.", "controller.ops."),
    "loader": ("topologies.loader.",),
}
LINE = re.compile(r"^\s*([\w.ǁ]+)__mutmut_\d+: (\w[\w ]*)$")
#: where a mutant's module ends: ``.x_function`` or ``.xǁClassǁmethod``
FUNCTION = re.compile(r"\.xǁ|\.x_")


def parse(lines) -> list[tuple[str, str]]:
    """``(mutant name without its number, status)`` for each result line."""
    return [(m.group(1), m.group(2).strip()) for m in map(LINE.match, lines) if m]


def score(entries) -> dict[str, Counter]:
    """Statuses per package, from :func:`parse`'s entries."""
    out = {name: Counter() for name in PACKAGES}
    for mutant, status in entries:
        for name, prefixes in PACKAGES.items():
            if mutant.startswith(prefixes):
                out[name][status] += 1
    return out


def by_module(entries) -> dict[str, Counter]:
    """Statuses per module, for the modules of :data:`PACKAGES`, from :func:`parse`'s entries."""
    prefixes = tuple(p for group in PACKAGES.values() for p in group)
    out: dict[str, Counter] = {}
    for mutant, status in entries:
        if mutant.startswith(prefixes):
            out.setdefault(FUNCTION.split(mutant, maxsplit=1)[0], Counter())[status] += 1
    return dict(sorted(out.items()))


def main(path: str, modules: bool = False) -> int:
    with open(path, encoding="utf-8") as f:
        entries = parse(f.readlines())
    counts = score(entries)
    if modules:
        print(f"{'module':<36} {'mutants':>7} {'killed':>7} {'survived':>8} {'unchecked':>9} {'other':>6} {'score':>6}")
        for name, c in by_module(entries).items():
            total, killed, unchecked = sum(c.values()), c["killed"], c["not checked"]
            other = total - killed - c["survived"] - unchecked
            print(f"{name:<36} {total:>7} {killed:>7} {c['survived']:>8} {unchecked:>9} {other:>6} {killed / total:>6.1%}")
        print()
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
    sys.exit(main(sys.argv[1], "--modules" in sys.argv[2:]))
