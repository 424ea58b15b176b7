"""``openisp run SCENARIO``: build the network, run the controller and traffic, judge, tear down."""
from __future__ import annotations

import json
import os
import sys

from topologies.model import PLANS

HELP = ("run a scenario end to end on Mininet and Open vSwitch (needs root); exits non-zero when a "
        "demand gets under 90%% of its allocation, a floor is missed or a measurement fails")


def add_arguments(parser) -> None:
    parser.add_argument("scenario", metavar="SCENARIO")
    parser.add_argument("--seconds", type=int, default=3, help="how long each demand's traffic runs (default %(default)s)")
    parser.add_argument("--plan", choices=PLANS, default=PLANS[0],
                        help="market: enforce the auction's allocation (default); shortest: shortest paths; hierarchical: "
                             "today's Internet, each provider buying transit from one backbone (both with no market)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the switches (default %(default)s)")
    parser.add_argument("--flows", type=int, metavar="N",
                        help="UDP flows per demand (default: 16, and one per source-port slice, 64, for a demand "
                             "the market split over several paths, so the split is exact)")
    parser.add_argument("--no-prometheus", action="store_true",
                        help="do not start a Prometheus server for the run (by default one scrapes the controller "
                             "and the receivers every second and keeps its database in the run's directory)")
    parser.add_argument("--all-pairs", action="store_true",
                        help="check reachability between every ordered host pair (by default a world of more than "
                             "600 pairs is checked on a sample covering every host and every pair of switches)")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object for the whole run on stdout (progress goes to stderr)")
    parser.add_argument("--cli", action="store_true",
                        help="instead of the traffic, open Mininet's console (mininet>) with the market's commands: "
                             "market, paths, prices, fail, restore, ask, bid, epoch, traffic; leaving it tears down")


def run(args) -> int:
    from dataplane.errors import DataplaneError
    from dataplane.runner import run_scenario

    from topologies.loader import load_scenario

    load_scenario(args.scenario)  # a file's problems first, whoever runs it
    if not 1 <= args.seconds <= 60:
        raise DataplaneError("--seconds must be between 1 and 60")
    if args.flows is not None and not 1 <= args.flows <= 1024:
        raise DataplaneError("--flows must be between 1 and 1024")
    if not 0 < args.timeout <= 3600:
        raise DataplaneError("--timeout must be more than 0 and at most 3600 seconds")
    if args.cli and args.json:
        raise DataplaneError("--cli and --json do not go together: the console talks to you, not to a program")
    if os.geteuid() != 0:
        raise DataplaneError("Mininet needs root: run as root (sudo), or try `openisp doctor`")
    progress = (lambda line: print(line, file=sys.stderr, flush=True)) if args.json else \
        (lambda line: print(line, flush=True))
    result = run_scenario(args.scenario, out=progress, flow_seconds=args.seconds, ready_timeout_s=args.timeout,
                          plan=args.plan, flows=args.flows, prometheus=not args.no_prometheus,
                          all_pairs=args.all_pairs, console=args.cli)
    if args.json:
        print(json.dumps(result.report, indent=2))
    return result.exit_code
