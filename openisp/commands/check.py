"""``openisp check SCENARIO...``: validate scenario files, report every problem."""
from __future__ import annotations

import sys

from topologies.errors import ScenarioError
from topologies.loader import load_scenario

HELP = "validate scenario files; print every problem with file, line and key path"


def add_arguments(parser) -> None:
    parser.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="scenario YAML files")


def summary(s) -> str:
    roles: dict[str, int] = {}
    for p in s.participants:
        roles[p.role] = roles.get(p.role, 0) + 1
    parts = ", ".join(f"{n} {r}" for r, n in roles.items())
    return (f"{s.source}: ok: {s.name}: {parts}; {len(s.switches)} switches, {len(s.hosts)} hosts, "
            f"{len(s.links)} links, {len(s.offers)} offers, {len(s.demands)} demands")


def run(args) -> int:
    failed = 0
    for path in args.scenarios:
        try:
            print(summary(load_scenario(path)))
        except ScenarioError as exc:
            failed += 1
            for problem in exc.problems:
                print(problem, file=sys.stderr)
    return 1 if failed else 0
