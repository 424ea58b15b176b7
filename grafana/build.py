"""Write the dashboards of :mod:`grafana.dashboards` to ``grafana/dashboards/*.json``.

    .venv/bin/python -m grafana.build            # (re)write them
    .venv/bin/python -m grafana.build --check    # exit 1 and name each file that is stale

The JSON is committed, so Grafana (and ``openisp report``) need no Python
library to read it; a unit test runs ``--check``.  Panel ids are numbered in
order, so a change shows as a small diff.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from grafana_foundation_sdk.cog.encoder import JSONEncoder

from .dashboards import DASHBOARDS

__all__ = ["render", "stale", "OUT"]

OUT = Path(__file__).resolve().parent / "dashboards"


def render(build) -> str:
    """One dashboard as the JSON Grafana reads: sorted keys, panels numbered from 1."""
    dashboard = json.loads(json.dumps(build(), cls=JSONEncoder))
    for number, panel in enumerate(dashboard["panels"], start=1):
        panel["id"] = number
    return json.dumps(dashboard, indent=2, sort_keys=True) + "\n"


def stale(out: Path = OUT) -> list[Path]:
    """The files under ``out`` that differ from what the code builds (or are missing, or extra)."""
    wanted = {out / name: render(build) for name, build in DASHBOARDS.items()}
    extra = [p for p in sorted(out.glob("*.json")) if p not in wanted]
    return [p for p, text in wanted.items() if not p.exists() or p.read_text() != text] + extra


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file is stale")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    if args.check:
        bad = stale(args.out)
        for p in bad:
            print(f"{p}: stale: run `.venv/bin/python -m grafana.build`", file=sys.stderr)
        return 1 if bad else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, build in DASHBOARDS.items():
        (args.out / name).write_text(render(build))
        print(args.out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
