"""``openisp compare SCENARIO``: the same world and traffic under several plans, one table."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

HELP = ("run a scenario under several plans (market, hierarchical, shortest, poc), one after the other, "
        "and compare what each carried through the backbone, latency, rates and payments (needs root)")


def add_arguments(parser) -> None:
    from dataplane.compare import COMPARED

    parser.add_argument("scenario", metavar="SCENARIO")
    parser.add_argument("--plans", default=",".join(COMPARED), metavar="P1,P2,...",
                        help="comma-separated plans, in order (default %(default)s): market is the auction; "
                             "hierarchical today's Internet (each provider buys transit from one backbone, no "
                             "peering); shortest shortest paths with no market; poc the auction in POC mode")
    parser.add_argument("--seconds", type=int, default=3,
                        help="how long each traffic phase runs per plan (default %(default)s; two phases per "
                             "plan: the neighbour demands alone, then every demand)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the switches (default %(default)s)")
    parser.add_argument("--png", metavar="FILE", help="where to write the picture (default: compare.png in the "
                                                        "comparison's directory under runs/)")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object on stdout (progress goes to stderr)")


def run(args) -> int:
    from dataplane.compare import COMPARED, compare
    from dataplane.errors import DataplaneError

    from topologies.draw import supported_formats
    from topologies.loader import load_scenario

    load_scenario(args.scenario)  # a file's problems first
    plans = tuple(p.strip() for p in args.plans.split(",") if p.strip())
    unknown = [p for p in plans if p not in COMPARED]
    if not plans or unknown:
        raise DataplaneError(f"--plans: unknown plan {', '.join(unknown) or '(none given)'}; "
                             f"choose from {', '.join(COMPARED)}")
    if len(set(plans)) != len(plans):
        raise DataplaneError("--plans: a plan is named twice")
    if not 1 <= args.seconds <= 60:
        raise DataplaneError("--seconds must be between 1 and 60")
    if not 0 < args.timeout <= 3600:
        raise DataplaneError("--timeout must be more than 0 and at most 3600 seconds")
    if args.png is not None:
        suffix = os.path.splitext(args.png)[1].lstrip(".").lower()
        if suffix not in supported_formats():
            raise DataplaneError(f"--png {args.png}: cannot write a .{suffix or '(no suffix)'} picture "
                                 f"(one of: {', '.join(sorted(supported_formats()))})")
        parent = os.path.dirname(os.path.abspath(args.png))
        if not os.path.isdir(parent):
            raise DataplaneError(f"--png {args.png}: no directory {parent}")
    if os.geteuid() != 0:
        raise DataplaneError("Mininet needs root: run as root (sudo), or try `openisp doctor`")
    progress = (lambda line: print(line, file=sys.stderr, flush=True)) if args.json else \
        (lambda line: print(line, flush=True))
    code, report = compare(args.scenario, plans, out=progress, flow_seconds=args.seconds,
                           ready_timeout_s=args.timeout, png=args.png, payments=paid)
    if args.json:
        print(json.dumps(report, indent=2))
    return code


def paid(report: dict) -> dict[str, str] | None:
    """What each participant paid at the run's first settled epoch, from its ledger (None: no market)."""
    ledger_path = report.get("market", {}).get("ledger")
    if not ledger_path or not Path(ledger_path).exists():
        return None
    from controller.ledger import Ledger

    ledger = Ledger(ledger_path, readonly=True)
    try:
        invoices = ledger.invoices()
    finally:
        ledger.close()
    if not invoices:
        return None
    first = min(i.epoch for i in invoices)
    return {i.participant: str(i.pays) for i in invoices if i.epoch == first and i.pays}
