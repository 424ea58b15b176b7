"""The ``openisp`` command line: one sub-command per module in :mod:`openisp.commands`.

Each command module exposes ``HELP`` (one line), ``add_arguments(parser)`` and
``run(args) -> int``.  Errors of any layer derive from
:class:`topologies.errors.OpenIspError` (``ScenarioError``, ``MarketError``,
``ControllerError``, ``DataplaneError``, :class:`CommandError`) and end as one
clear message on stderr and a non-zero exit, never a traceback.
"""
from __future__ import annotations

import argparse
import importlib
import math
import os
import sys

#: sub-command -> module under openisp.commands
COMMANDS = {
    "doctor": "doctor",
    "check": "check",
    "show": "show",
    "generate": "generate",
    "auction": "auction",
    "controller": "controller",
    "run": "run",
    "compare": "compare",
    "simulate": "simulate",
    "serve": "serve",
    "ledger": "ledger",
    "report": "report",
}


from topologies.errors import OpenIspError, ScenarioError


class CommandError(OpenIspError):
    """A command could not do its work; the message says why and what to do."""


def _load(name: str):
    return importlib.import_module(f"openisp.commands.{COMMANDS[name]}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="openisp", description="An open bandwidth market testbed.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        try:
            module = _load(name)
        except ImportError as exc:  # a command whose dependencies are missing still shows up
            p = sub.add_parser(name, help=f"(unavailable: {exc})")
            p.set_defaults(module=None, import_error=exc)
            continue
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(module=module)
    return parser


def _refuse_non_finite(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """argparse's ``type=float`` takes ``nan`` and ``inf``; no option of any command means them."""
    for key, value in vars(args).items():
        if isinstance(value, float) and not math.isfinite(value):
            parser.error(f"--{key.replace('_', '-')}: expected a finite number, got {value}")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _refuse_non_finite(parser, args)
    if args.module is None:
        print(f"openisp {args.command}: cannot start: {args.import_error}", file=sys.stderr)
        return 2
    try:
        return int(args.module.run(args) or 0)
    except ScenarioError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"openisp {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (``openisp auction ... | head``): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OpenIspError as exc:  # any layer's error: its message, no traceback; a real bug still shows one
        print(f"openisp {args.command}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
