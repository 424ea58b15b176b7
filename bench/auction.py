"""Market clearing time over growing markets, VCG overhead as a ratio to one solve.

    .venv/bin/python bench/auction.py [--quick] [--repeat N] [--strict]

For each market: the time of one winner-determination solve (build + LP by
column generation + decomposition; the arc formulation's time beside it, for
reference), the LMP clearing time, the time of a full VCG clearing (that
solve plus the counterfactuals: settled by the optimal duals, or re-solved by
this process and its worker processes), and the VCG/solve ratio, all
measured in this run.  The largest market is topologies/library/large.yaml
(204 switches, 1,000 demands).  With ``--repeat N`` each time is the median of
N runs, and the VCG line of the largest market gives the spread (min-max).
``--strict`` exits non-zero when the aim of issue 17 is missed.
"""
from __future__ import annotations

import argparse
import statistics
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
from bench.results import record  # noqa: E402

SIZES = [  # (backbone switches, last miles, demands)
    (4, 5, 20),
    (8, 12, 100),
    (15, 25, 300),
]
AIM_RATIO, AIM_SECONDS = 3.0, 5.0


def one_solve(scenario, formulation=PathLP) -> float:
    started = time.perf_counter()
    market = market_from_scenario(scenario)
    allocate(market, formulation(market).solve())
    return time.perf_counter() - started


def timed(f, repeat: int) -> tuple[list[float], object]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t)
    return times, out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 1,000-demand market")
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement (the median is shown)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when the aim is missed")
    args = parser.parse_args()
    worlds = [(f"generated {bs}x2 bb, {lm} lm, {d} demands",
               build_scenario(generate_world(backbones=2, backbone_switches=bs, last_miles=lm, hosts_per_last_mile=4,
                                             demands=d, seed=3), {}, "<bench>")) for bs, lm, d in SIZES]
    if not args.quick:
        worlds.append(("library large.yaml", load_scenario("topologies/library/large.yaml")))
    print(f"{'market':38} {'switches':>8} {'demands':>7} {'solve s':>8} {'arcs s':>7} {'lmp s':>7} {'vcg s':>8} "
          f"{'by duals':>8} {'re-solves':>9} {'vcg/solve':>9}")
    ratio = vcg_s = None
    for label, s in worlds:
        solve = statistics.median(timed(lambda: one_solve(s), args.repeat)[0])
        arcs = statistics.median(timed(lambda: one_solve(s, WelfareLP), 1)[0])
        lmp = statistics.median(timed(lambda: clear_market(s, "lmp"), args.repeat)[0])
        times, vcg = timed(lambda: clear_market(s, "vcg"), args.repeat)
        vcg_s, ratio = statistics.median(times), statistics.median(times) / solve
        print(f"{label:38} {len(s.switches):>8} {len(s.demands):>7} {solve:>8.2f} {arcs:>7.2f} {lmp:>7.2f} {vcg_s:>8.2f} "
              f"{vcg.timings['settled_by_duality']:>8} {vcg.timings['re_solves']:>9} {ratio:>9.1f}", flush=True)
        for step, seconds in (("solve", solve), ("arcs", arcs), ("lmp", lmp), ("vcg", vcg_s)):
            record("auction", "clearing", seconds, "seconds", {"market": label, "step": step})
        record("auction", "vcg_solve", ratio, "ratio", {"market": label})
        if args.repeat > 1:
            print(f"{'':38} vcg over {args.repeat} runs: {min(times):.2f}-{max(times):.2f} s", flush=True)
    met = ratio is not None and ratio <= AIM_RATIO and vcg_s < AIM_SECONDS
    print(f"aim (issue 17): vcg/solve <= {AIM_RATIO:g} and the largest market cleared by VCG in under {AIM_SECONDS:g} s "
          f"on 2 cores: {'met' if met else 'missed'} (vcg/solve {ratio:.1f}, {vcg_s:.2f} s)")
    return 1 if args.strict and not met else 0


if __name__ == "__main__":
    sys.exit(main())
