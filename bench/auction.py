"""Market clearing time over growing markets, VCG overhead as a ratio to one solve.

    .venv/bin/python bench/auction.py [--quick]

For each market: the time of one winner-determination solve (build + LP by
column generation + decomposition; the arc formulation's time beside it, for
reference), the LMP clearing time, the time of a full VCG clearing (that
solve plus one re-solve per winning participant that the optimal duals
cannot settle), and the VCG/solve ratio, all measured in this run.  The
largest market is topologies/library/large.yaml (204 switches, 1,000 demands).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from controller.market import clear_market  # noqa: E402
from controller.market.allocation import allocate  # noqa: E402
from controller.market.network import market_from_scenario  # noqa: E402
from controller.market.pathlp import PathLP  # noqa: E402
from controller.market.wdp import WelfareLP  # noqa: E402
from topologies.generate import generate_world  # noqa: E402
from topologies.loader import build_scenario, load_scenario  # noqa: E402

SIZES = [  # (backbone switches, last miles, demands)
    (4, 5, 20),
    (8, 12, 100),
    (15, 25, 300),
]


def one_solve(scenario, formulation=PathLP) -> float:
    started = time.perf_counter()
    market = market_from_scenario(scenario)
    allocate(market, formulation(market).solve())
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 1,000-demand market")
    args = parser.parse_args()
    worlds = [(f"generated {bs}x2 bb, {lm} lm, {d} demands",
               build_scenario(generate_world(backbones=2, backbone_switches=bs, last_miles=lm, hosts_per_last_mile=4,
                                             demands=d, seed=3), {}, "<bench>")) for bs, lm, d in SIZES]
    if not args.quick:
        worlds.append(("library large.yaml", load_scenario("topologies/library/large.yaml")))
    print(f"{'market':38} {'switches':>8} {'demands':>7} {'solve s':>8} {'arcs s':>7} {'lmp s':>7} {'vcg s':>8} {'by duals':>8} {'re-solves':>9} {'vcg/solve':>9}")
    for label, s in worlds:
        solve = one_solve(s)
        arcs = one_solve(s, WelfareLP)
        t = time.perf_counter()
        clear_market(s, "lmp")
        lmp = time.perf_counter() - t
        t = time.perf_counter()
        vcg = clear_market(s, "vcg")
        vcg_s = time.perf_counter() - t
        print(f"{label:38} {len(s.switches):>8} {len(s.demands):>7} {solve:>8.2f} {arcs:>7.2f} {lmp:>7.2f} {vcg_s:>8.2f} "
              f"{vcg.timings['settled_by_duality']:>8} {vcg.timings['re_solves']:>9} {vcg_s / solve:>9.1f}", flush=True)
    print("aim (issue 4): vcg/solve <= 3 and the 1,000-demand market cleared in under 10 s on 2 cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
