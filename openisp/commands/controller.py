"""``openisp controller SCENARIO``: run the os-ken controller in the foreground."""
from __future__ import annotations

from controller.launch import DEFAULT_OFP_PORT, DEFAULT_STATUS_PORT
from topologies.model import MECHANISMS, PLANS

HELP = "run the OpenFlow controller for a scenario (os-ken, OpenFlow 1.3, on 127.0.0.1)"


def add_arguments(parser) -> None:
    parser.add_argument("scenario", metavar="SCENARIO")
    parser.add_argument("--ofp-port", type=int, default=DEFAULT_OFP_PORT, help="OpenFlow port (default %(default)s)")
    parser.add_argument("--status-port", type=int, default=DEFAULT_STATUS_PORT,
                        help="HTTP port of GET /status (default %(default)s)")
    parser.add_argument("--plan", choices=PLANS, default=PLANS[0],
                        help="market: enforce the auction's allocation (default); shortest: shortest paths; hierarchical: "
                             "today's Internet, each provider buying transit from one backbone (both with no market)")
    parser.add_argument("--mechanism", choices=MECHANISMS,
                        help="payment rule (default: the scenario's); allocations are the same under all three")
    parser.add_argument("--epoch", type=float, metavar="SECONDS",
                        help="re-clear the market this often (default: the scenario's market.epoch_s; 0: never)")
    parser.add_argument("--stats", type=float, metavar="SECONDS", default=5.0,
                        help="poll the switches' counters this often (default %(default)s; 0: never)")
    parser.add_argument("--run-dir", metavar="DIR",
                        help="run the market as an exchange kept in DIR: participants' tokens, the book and the "
                             "ledger (a restart resumes from it), and the participants' API")
    parser.add_argument("--api-port", type=int, metavar="N", help="port of the participants' API (default: any free one)")
    parser.add_argument("-v", "--verbose", action="store_true")


def run(args) -> int:
    from controller.errors import ControllerError
    from controller.launch import run_controller
    from topologies.loader import load_scenario

    load_scenario(args.scenario)
    ports = {"--ofp-port": args.ofp_port, "--status-port": args.status_port,
             **({"--api-port": args.api_port} if args.api_port else {})}
    for flag, port in ports.items():
        if not 1 <= port <= 65535:
            raise ControllerError(f"{flag} must be a port between 1 and 65535, got {port}")
    if len(set(ports.values())) < len(ports):
        raise ControllerError(f"{', '.join(ports)} must differ")
    for flag, value in (("--epoch", args.epoch), ("--stats", args.stats)):
        if value is not None and value < 0:
            raise ControllerError(f"{flag} must be 0 or more seconds, got {value}")

    run_controller(args.scenario, args.ofp_port, args.status_port, verbose=args.verbose, planner=args.plan,
                   mechanism=args.mechanism, epoch_s=args.epoch, stats_s=args.stats, run_dir=args.run_dir,
                   api_port=args.api_port)
    return 0
