"""Demands that bid for latency (``max_latency_ms``): the market prices only paths within
the bound (a resource-constrained shortest path in the column generation), and says
which demands it cannot serve within theirs.  Hand cases, then properties against
the independent oracle restricted to paths within the bounds."""
from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import event, example, given

from controller.market import MarketError, clear_market
from controller.market.compare import utility
from controller.market.rcsp import cheapest_within

from .helpers import build
from .oracle import clarke, markets, optimum
from .test_properties import ROUNDING, paths_budget  # noqa: F401  (the profiles are registered there)


def slow_and_fast(bound=None, capacity_fast=10_000, floor=0):
    """s -l1- m -l2- t: cheap (0.1 each) and slow (10 ms each); s -fast- t: dear (0.5) and quick (5 ms)."""
    links = [("l1", "s", "m", 10_000, "p1", "0.1"), ("l2", "m", "t", 10_000, "p2", "0.1"),
             ("fast", "s", "t", capacity_fast, "p3", "0.5")]
    return build(["s", "m", "t"], links, [("d1", "hs", "ht", 5_000, "1.0", floor)],
                 latency={"l1": 10, "l2": 10, "fast": 5}, bounds={"d1": bound} if bound else None)


def path_ms(s, path) -> float:
    return sum(s.link[l].latency_ms for l in path.links)


def test_a_bound_moves_a_demand_to_the_fast_dear_path():
    assert clear_market(slow_and_fast(), "lmp").demand("d1").paths[0].links == ("l1", "l2")
    assert clear_market(slow_and_fast(bound=20), "lmp").demand("d1").paths[0].links == ("l1", "l2")  # 20 ms is enough
    r = clear_market(slow_and_fast(bound=19.5), "lmp")
    assert r.demand("d1").paths[0].links == ("fast",)
    assert r.welfare == D("2.500000")  # 5 Mbps x (1.0 - 0.5)
    assert not r.notes


def test_a_bound_no_path_meets_is_noted_and_the_demand_gets_nothing():
    r = clear_market(slow_and_fast(bound=4), "vcg")
    assert r.demand("d1").allocated_kbps == 0 and r.welfare == 0
    assert r.notes == ("demand d1 cannot be served within its max_latency_ms 4: the fastest path it may use takes 5 ms",)


def test_a_floor_no_path_can_meet_within_its_bound_is_an_error_naming_the_bound():
    with pytest.raises(MarketError, match=r"demand d1 floor 500 kbps \(gets 0: no path meets its max_latency_ms 4\)"):
        clear_market(slow_and_fast(bound=4, floor=500), "lmp")


def test_a_host_is_not_guaranteed_its_universal_floor_through_a_demand_no_path_can_serve_in_time():
    s = build(["s", "t"], [("l", "s", "t", 10_000, "p", "0.1")], [("d1", "hs", "ht", 1_000, "1.0")],
              floor_kbps=300, latency={"l": 8}, bounds={"d1": 5})
    r = clear_market(s, "lmp")  # without the bound the host's floor would force 300 kbps over l
    assert r.demand("d1").allocated_kbps == 0 and len(r.notes) == 1


def test_the_fast_path_rations_the_demand_to_its_capacity():
    r = clear_market(slow_and_fast(bound=12, capacity_fast=2_000), "lmp")
    d = r.demand("d1")
    assert d.allocated_kbps == 2_000 and [p.links for p in d.paths] == [("fast",)]
    assert r.links[2].price_per_mbps == D("1.000000")  # rationed: the fast link is priced at the demand's value


def test_parallel_links_the_cheaper_of_which_is_too_slow():
    # Pricing keeps only the cheapest of parallel arcs for its first Dijkstra: the bound must still find the other.
    s = build(["a", "b"], [("cheap", "a", "b", 10_000, "p1", "0.1"), ("quick", "a", "b", 10_000, "p2", "0.3")],
              [("d1", "ha", "hb", 3_000, "1.0")], latency={"cheap": 20, "quick": 2}, bounds={"d1": 10})
    assert clear_market(s, "lmp").demand("d1").paths[0].links == ("quick",)


def test_vcg_pays_the_winner_what_the_next_path_within_the_bound_asks():
    # Two quick parallel links (asks 0.5 and 0.7) and a cheap slow one (0.1) the bound excludes:
    # the winner gets the runner-up within the bound, 0.7 per Mbps, not the slow path's 0.1.
    s = build(["a", "b"], [("q1", "a", "b", 10_000, "p1", "0.5"), ("q2", "a", "b", 10_000, "p2", "0.7"),
                           ("slow", "a", "b", 10_000, "p3", "0.1")],
              [("d1", "ha", "hb", 5_000, "1.0")], latency={"q1": 2, "q2": 2, "slow": 50}, bounds={"d1": 10})
    r = clear_market(s, "vcg")
    assert r.demand("d1").paths[0].links == ("q1",)
    assert (r.participant("p1").receives, r.participant("p3").receives) == (D("3.500000"), 0)
    assert r.participant("cha").pays == D("2.500000")


def shared_host_with_a_late_demand(ask="0.4"):
    """hb sends chb's d1 and cx's d2, which no path serves within 3 ms (l1 takes 5): hb's
    universal floor is d1's alone.  cha's worthless d3 holds ha to its 300 kbps floor."""
    return build(["a", "b"], [("l1", "a", "b", 1_000, "p0", ask)],
                 [("d1", "hb", "ha", 1_000, "0.5"), ("d2", "hb", "ha", 1_000, "0.5", 0, "cx"),
                  ("d3", "ha", "hb", 1_000, "0.0")],
                 floor_kbps=300, access_kbps={"ha": 1_000, "hb": 1_000}, latency={"l1": 5}, bounds={"d2": 3})


def test_without_a_customer_its_host_keeps_no_floor_through_a_demand_no_path_serves_in_time():
    # W* = 1 Mbps x (0.5 - 0.4) - 0.3 Mbps x 0.4 = -0.02.  Without chb, hb has nothing left it could
    # send (d2 is too slow), so no floor: W*_-chb = -0.12, and chb pays 0.5 - (-0.02 + 0.12) = 0.4.
    # (Counting d2 in hb's floor made the counterfactual infeasible: measured with floors relaxed,
    # chb was charged 0.52, and the fund paid the 0.02 above its value.)
    r = clear_market(shared_host_with_a_late_demand(), "vcg")
    assert (r.participant("chb").pays, r.participant("chb").funded) == (D("0.400000"), 0)
    assert not any("without chb" in n for n in r.notes)


def test_the_arc_formulation_refuses_a_bounded_market():
    with pytest.raises(MarketError, match=r"^the arc formulation cannot restrict a demand's paths "
                                          r"\(max_latency_ms, POC mode\): use the path formulation \(the default\)$"):
        clear_market(slow_and_fast(bound=12), "lmp", options={"formulation": "arcs"})


def test_label_setting_keeps_a_dearer_partial_path_that_is_quicker():
    # 0 -> 1 directly is cheap but slow; 0 -> 2 -> 1 dearer and quick; 1 -> 3 closes.  Within 8 ms only
    # the second reaches 3: an algorithm keeping one label per node (the cheapest) finds nothing.
    arcs = [(0, 1, 1.0, 10.0), (0, 2, 2.0, 1.0), (2, 1, 2.0, 1.0), (1, 3, 1.0, 5.0)]
    assert cheapest_within(4, arcs, 0, 3, max_latency=30.0) == (2.0, (0, 3))
    assert cheapest_within(4, arcs, 0, 3, max_latency=8.0) == (5.0, (1, 2, 3))
    assert cheapest_within(4, arcs, 0, 3, max_latency=8.0, budget=5.0) is None  # must beat the budget
    assert cheapest_within(4, arcs, 0, 3, max_latency=6.0) is None


def test_label_setting_keeps_every_label_no_other_dominates():
    # Two ways to node 1, both able to meet 6 ms: cheap (1, 3 ms) and dear (4, 1 ms); then on to 3
    # quickly and dearly (10, 1 ms) or slowly and cheaply (1, 5 ms).  The best is the dear way to 1,
    # then the slow arc: 5.  Keeping only the first label to reach node 1 finds 11.
    arcs = [(0, 1, 1.0, 3.0), (0, 2, 2.0, 0.5), (2, 1, 2.0, 0.5), (1, 3, 10.0, 1.0), (1, 3, 1.0, 5.0)]
    assert cheapest_within(4, arcs, 0, 3, max_latency=6.0) == (5.0, (1, 2, 4))


# --- properties -----------------------------------------------------------------------------------


def clear(s, mechanism):
    try:
        return clear_market(s, mechanism)
    except MarketError as exc:
        assert "floors cannot all be met" in str(exc)
        assert optimum(s) is None, "the market says the floors fail, the oracle meets them"
        event("floors cannot be met")
        return None


@given(markets(latency=True))
def test_every_path_meets_its_bound_and_welfare_is_the_bounded_optimum(s):
    r = clear(s, "lmp")
    if r is None:
        return
    for d in r.demands:
        bound = s.demand[d.demand_id].max_latency_ms
        if bound is not None:
            event("a bounded demand served" if d.allocated_kbps else "a bounded demand not served")
            assert all(path_ms(s, p) <= bound + 1e-9 for p in d.paths), (d, bound)
    best = optimum(s)
    assert best is not None
    assert abs(r.welfare - D(repr(best))) <= paths_budget(r)
    unbounded = optimum(build_unbounded(s))
    if unbounded is not None and unbounded > best + 1e-6:
        event("a bound cost welfare")


def build_unbounded(s):
    from dataclasses import replace

    return replace(s, demands=tuple(replace(d, max_latency_ms=None) for d in s.demands))


def first_found_by_hypothesis(second: bool):
    """The two markets hypothesis shrank to when counterfactuals counted a demand no path
    serves in time into its host's floor (see the hand case above, which they extend)."""
    links = [("l0", "a", "c", 1_000, "p0", "0.0"), ("l1", "a", "b", 1_000, "p0", "0.1" if second else "0.4"),
             ("l2", "a", "b" if second else "c", 1_000, "p0", "0.1" if second else "0.0", ((166, 0.0),))]
    demands = [("d0", "ha", "hb", 1_000, "0.5", 0, "cha"), ("d1", "hb", "ha", 1_000, "0.5", 0, "chb"),
               ("d2", "hb", "ha", 1_000, "0.5", 0, "cx"), ("d3", "ha", "hb", 1_000, "0.0", 0, "cha")]
    return build(["a", "b", "c"], links, demands, floor_kbps=300, access_kbps={"ha": 1_000, "hb": 1_000, "hc": 1_000},
                 latency={"l0": 1, "l1": 5, "l2": 5 if second else 1}, bounds={"d0": 3, "d2": 3})


@given(markets(latency=True))
@example(first_found_by_hypothesis(second=False))
@example(first_found_by_hypothesis(second=True))
def test_vcg_pays_the_clarke_pivot_of_the_bounded_optimum(s):
    """Counterfactuals keep the bounds: each net transfer is the contribution the oracle
    finds over paths within the bounds (a host is not guaranteed a floor through a demand
    no path serves in time, there too), less the value served, plus the asks carried."""
    r = clear(s, "vcg")
    if r is None:
        return
    best = optimum(s)
    for p in r.participants:
        if not (p.pays or p.receives or p.funded):
            continue
        contribution, relaxed = clarke(s, p.name, best)
        own = utility(s, r, p.name) - (p.receives - p.pays)  # value served minus asks carried
        expected = D(repr(contribution)) - own
        net = p.receives - p.pays - p.funded
        slack = paths_budget(r) + D("0.000002")
        if p.funded:
            assert net + p.funded >= expected - slack
            continue
        assert abs(net - expected) <= slack, (p, contribution, own, relaxed)
        event("a bounded market with a winner")


def test_a_bound_on_hosts_no_path_joins_is_noted_as_such():
    s = build(["s", "m", "t"], [("l1", "s", "m", 10_000, "p1", "0.1")], [("d1", "hs", "ht", 1_000, "1.0")],
              bounds={"d1": 5})  # t is joined to nothing
    assert clear_market(s, "lmp").notes == (
        "demand d1 cannot be served within its max_latency_ms 5: no path it may use joins its hosts",)


def test_a_market_that_drops_unroutable_demands_still_notes_each_bound_it_cannot_meet():
    import dataclasses

    from controller.market.network import market_from_scenario
    from controller.market.pricing import latency_notes, unmeetable_bounds

    links = [("l1", "s", "t", 10_000, "p1", "0.1")]
    s = build(["s", "t", "u"], links, [("d0", "hu", "hs", 1_000, "1.0"), ("d1", "hs", "ht", 1_000, "1.0")],
              latency={"l1": 5}, bounds={"d1": 4})  # d0: u is joined to nothing; d1: 5 ms, over its 4
    poc = dataclasses.replace(market_from_scenario(s), drops_unroutable=True)  # as POC mode builds it
    assert unmeetable_bounds(poc) == {"d0": float("inf"), "d1": 5.0}
    assert latency_notes(poc) == [  # d0 has no bound: poc.py notes it; d1's note still follows
        "demand d1 cannot be served within its max_latency_ms 4: the fastest path it may use takes 5 ms"]


def test_a_counterfactual_that_leaves_a_bound_unmet_drops_floors_only_where_the_market_drops_demands():
    import dataclasses

    from controller.market.network import market_from_scenario
    from controller.market.pricing import floors_without

    market = market_from_scenario(slow_and_fast(bound=19.5, floor=500))
    fast = frozenset(a.index for a in market.arcs if a.link == "fast")
    assert floors_without(market, None, frozenset()) is None  # nothing banned: nothing changes
    assert floors_without(market, None, fast)[0] == set()  # the demand stays, its floor the market's to meet
    poc = dataclasses.replace(market, drops_unroutable=True)
    assert floors_without(poc, None, fast)[0] == {"d1"}  # POC mode drops it, and its floor with it


def test_a_path_exactly_at_the_bound_serves_the_demand():
    s = build(["s", "m", "t"], [("l1", "s", "m", 10_000, "p1", "0.1"), ("l2", "m", "t", 10_000, "p2", "0.1")],
              [("d1", "hs", "ht", 1_000, "1.0")], latency={"l1": 10, "l2": 10}, bounds={"d1": 20})
    r = clear_market(s, "lmp")
    assert r.demand("d1").allocated_kbps == 1_000 and not r.notes
