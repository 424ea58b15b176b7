"""``openisp doctor``: what the emulation needs, present or missing, with fixes."""
from __future__ import annotations

HELP = "check this machine for what the emulation needs (root, OVS, Mininet, tc, os-ken) and say how to fix gaps"


def add_arguments(parser) -> None:
    pass


def run(args) -> int:
    from dataplane.doctor import diagnose, report

    text, can_run = report(diagnose())
    print(text)
    return 0 if can_run else 1
