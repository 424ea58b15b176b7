"""``openisp check SCENARIO...``: validate scenario files, report every problem, then every warning."""
from __future__ import annotations

import sys
import threading
import time
from typing import Callable

from topologies.errors import ScenarioError
from topologies.loader import load_checked

HELP = "validate scenario files; print every problem with file, line and key path"


def add_arguments(parser) -> None:
    parser.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="scenario YAML files")
    parser.add_argument("--strict", action="store_true",
                        help="fail on warnings too (e.g. a demand no offered path can serve)")


class Heartbeat:
    """Says what a long job is doing, once it has taken more than ``after`` seconds, then every ``every``.

    Call it with the name of each phase; use it as a context manager around the job.

    >>> with Heartbeat("x.yaml", out=print, after=60) as beat:
    ...     beat("reading YAML")  # a fast job says nothing
    """

    def __init__(self, label: str, out: Callable[[str], None] | None = None, after: float = 2.0,
                 every: float = 2.0):
        self.label, self.after, self.every = label, after, every
        self.out = out or (lambda line: print(line, file=sys.stderr, flush=True))
        self.phase = "starting"
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True)

    def __call__(self, phase: str) -> None:
        self.phase = phase

    def __enter__(self) -> "Heartbeat":
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()

    def _beat(self) -> None:
        wait = self.after
        while not self._done.wait(wait):
            self.out(f"{self.label}: still working ({time.monotonic() - self._started:.0f} s): {self.phase}")
            wait = self.every


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
            with Heartbeat(path) as beat:
                scenario, warnings = load_checked(path, beat)
        except ScenarioError as exc:
            failed += 1
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            continue
        print(summary(scenario), flush=True)
        for warning in warnings:
            print(warning, file=sys.stderr)
        failed += bool(warnings and args.strict)
    return 1 if failed else 0
