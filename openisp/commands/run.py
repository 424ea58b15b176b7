"""``openisp run SCENARIO``: build the network, run the controller and traffic, tear down."""
from __future__ import annotations

import os

HELP = "run a scenario end to end on Mininet and Open vSwitch (needs root)"


def add_arguments(parser) -> None:
    parser.add_argument("scenario", metavar="SCENARIO")
    parser.add_argument("--seconds", type=int, default=3, help="length of each measured flow (default %(default)s)")
    parser.add_argument("--plan", choices=("market", "shortest"), default="market",
                        help="market: enforce the auction's allocation (default); shortest: shortest paths, no market")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the switches (default %(default)s)")


def run(args) -> int:
    from dataplane.network import DataplaneError
    from dataplane.runner import run_scenario

    if os.geteuid() != 0:
        raise DataplaneError("Mininet needs root: run as root (sudo), or try `openisp doctor`")
    if not 1 <= args.seconds <= 60:
        raise DataplaneError("--seconds must be between 1 and 60")
    return run_scenario(args.scenario, flow_seconds=args.seconds, ready_timeout_s=args.timeout, plan=args.plan)
