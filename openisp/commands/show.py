"""``openisp show SCENARIO -o FILE.png``: a picture of the topology."""
from __future__ import annotations

from topologies.loader import load_scenario

HELP = "draw a scenario's topology to a PNG, coloured by provider, with link capacities"


def add_arguments(parser) -> None:
    parser.add_argument("scenario", metavar="SCENARIO")
    parser.add_argument("-o", "--output", required=True, metavar="FILE.png")


def run(args) -> int:
    from topologies.draw import draw_scenario

    scenario = load_scenario(args.scenario)
    draw_scenario(scenario, args.output)
    print(f"{args.output}: {scenario.name} drawn")
    return 0
