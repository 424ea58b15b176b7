"""From the LP's paths to whole-kbps allocations (controller/market/allocation.py)."""
from __future__ import annotations

from dataclasses import replace

from controller.market.allocation import allocate
from controller.market.network import market_from_scenario
from controller.market.pathlp import PathLP

from .helpers import build


def test_a_path_of_less_than_a_whole_kbps_is_left_out_and_one_of_exactly_one_kbps_is_kept():
    """The LP's rates are rounded down to whole kbps: a path under 1 kbps carries nothing
    (no 0 kbps path for the switches), while a path of exactly 1 kbps stays."""
    s = build(["a", "b"], [("cheap", "a", "b", 5, "bb", 0.1), ("dear", "a", "b", 5, "bb", 0.2)],
              [("d", "ha", "hb", 3, 1.0)])
    market = market_from_scenario(s)
    solution = PathLP(market).solve()
    cheap, dear = (next(a.index for a in market.arcs if a.link == link and a.tail == "a") for link in ("cheap", "dear"))
    odd = replace(solution, paths={"d": (((cheap,), 2.0), ((dear,), 0.6))})
    got = allocate(market, odd)
    assert [(p.links, p.kbps) for p in got.paths["d"]] == [(("cheap",), 2)] and got.kbps["d"] == 2
    one = replace(solution, paths={"d": (((cheap,), 2.0), ((dear,), 1.0))})
    got = allocate(market, one)
    assert [(p.links, p.kbps) for p in got.paths["d"]] == [(("cheap",), 2), (("dear",), 1)] and got.kbps["d"] == 3
