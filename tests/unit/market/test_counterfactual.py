"""Counterfactuals: each group starts from the optimum and leaves it as it found it;
the duality shortcut agrees with a re-solve where it applies, and steps aside where not."""
from __future__ import annotations

import math
from dataclasses import replace
from decimal import Decimal

from controller.market.allocation import tier_cost
from controller.market.counterfactual import (GROUP, DualitySettlement, Engine, counted, freed_cost, groups, in_process,
                                             optimum_of)
from controller.market.network import Arc, Tier, market_from_scenario
from controller.market.pathlp import PathLP

from .helpers import build, winners
from .test_workers import generated


def solved(s):
    market = market_from_scenario(s)
    lp = PathLP(market)
    return market, lp, lp.solve()


def test_groups_are_cut_from_the_order_alone():
    assert GROUP == 32
    assert groups([str(i) for i in range(67)]) == [[str(i) for i in range(32)], [str(i) for i in range(32, 64)],
                                                   ["64", "65", "66"]]
    assert groups([]) == []


def test_a_group_leaves_the_lp_as_it_found_it_and_order_does_not_matter():
    market, lp, solution = solved(generated(5))
    names = winners(market, solution)
    optimum = optimum_of(lp)
    forward, backward = Engine(optimum), Engine(optimum)
    columns = forward.lp.n_cols
    assert columns == len(optimum.paths) + forward.lp.first_path_col
    ahead = {}
    for group in groups(names):
        ahead.update(forward.welfare_without(group))
        assert forward.lp.n_cols == columns and len(forward.lp.known) == len(optimum.paths)
    behind = {}
    for group in reversed(groups(names)):
        behind.update(backward.welfare_without(group))
    assert ahead == behind  # the same floats, to the last bit
    assert all(w <= solution.welfare + 1e-9 for w, _ in ahead.values())


def test_duality_settles_a_customer_on_unpriced_arcs_exactly():
    # One customer on a roomy link: W* without it is W* minus its value plus the asks it frees.
    s = build(["a", "b"], [("l1", "a", "b", 10_000, "p1", "0.2")], [("d1", "ha", "hb", 2_000, "1.5")])
    market, lp, solution = solved(s)
    duality = DualitySettlement(market, solution)
    assert solution.welfare == 2.6 and abs(duality.welfare_without("cha")) < 1e-12  # 2.6 - 2 Mbps x 1.5 + 2 x 0.2
    assert duality.welfare_without("p1") is None  # a seller: always re-solved
    resolved = in_process(optimum_of(lp))(["cha"])["cha"]
    assert resolved == (0.0, False)


def test_duality_steps_aside_on_a_full_arc_and_a_congested_access_link():
    full = build(["a", "b"], [("l1", "a", "b", 1_000, "p1", "0.2")], [("d1", "ha", "hb", 2_000, "1.5")])
    market, _, solution = solved(full)
    assert DualitySettlement(market, solution).welfare_without("cha") is None
    narrow = build(["a", "b"], [("l1", "a", "b", 10_000, "p1", "0.2")], [("d1", "ha", "hb", 2_000, "1.5")],
                   access_kbps={"hb": 1_000})
    market, _, solution = solved(narrow)
    assert solution.access_price_per_mbps[("hb", "down")] > 0
    assert DualitySettlement(market, solution).welfare_without("cha") is None
    # The sender's own access link, full upwards.
    narrow = build(["a", "b"], [("l1", "a", "b", 10_000, "p1", "0.2")], [("d1", "ha", "hb", 2_000, "1.5")],
                   access_kbps={"ha": 1_000})
    market, _, solution = solved(narrow)
    assert solution.access_price_per_mbps[("ha", "up")] > 0
    assert DualitySettlement(market, solution).welfare_without("cha") is None


def tiered(*tiers):
    """An arc whose tiers are (kbps, ask): 1 Mbps at 0.1, then 1 Mbps at 0.3, ..."""
    return Arc(0, "l1", "a", "b", "p1", tuple(Tier(kbps, Decimal(str(ask))) for kbps, ask in tiers), 1.0)


def test_freed_cost_is_the_asks_of_the_tiers_freed_when_each_is_priced_at_its_ask():
    arc = tiered((1000, "0.1"), (1000, "0.3"), (2000, "0.5"))
    assert math.isclose(tier_cost(arc, 1.5), 1.0 * 0.1 + 0.5 * 0.3)  # the cheapest tier fills first
    assert math.isclose(tier_cost(tiered((1000, "0.3"), (1000, "0.1")), 1.5), 1.0 * 0.1 + 0.5 * 0.3)
    # 1.5 Mbps carried at a price of 0.3: freeing 0.4 stays in the second tier.
    assert math.isclose(freed_cost(arc, 1.5, 0.4, 0.3), 0.4 * 0.3)
    # Freeing 1.0 reaches down into the first tier, whose ask (0.1) is under the price: congested.
    assert freed_cost(arc, 1.5, 1.0, 0.3) is None
    # Freed down to exactly the first tier's end: the first tier is untouched.
    assert math.isclose(freed_cost(arc, 1.5, 0.5, 0.3), 0.5 * 0.3)
    # Carried up to exactly the first tier's end: the second tier is not in use.
    assert math.isclose(freed_cost(arc, 1.0, 0.5, 0.1), 0.5 * 0.1)
    assert math.isclose(freed_cost(arc, 0.9995, 0.5, 0.1), 0.5 * 0.1)
    # The price's tolerance is relative above 1 and absolute below.
    arc = tiered((10_000, "10"))
    assert math.isclose(freed_cost(arc, 5, 1, 10 + 5e-9), 10.0)
    assert freed_cost(arc, 5, 1, 10 + 5e-8) is None
    arc = tiered((10_000, "1"))
    assert freed_cost(arc, 5, 1, 1 + 1.5e-9) is None
    assert math.isclose(freed_cost(arc, 5, 1, 1 + 0.5e-9), 1.0)


def test_the_optimum_carries_the_market_its_formulation_its_columns_and_its_basis():
    from controller.market.wdp import WelfareLP

    market, lp, _ = solved(generated(5))
    optimum = optimum_of(lp)
    assert optimum.market is market
    assert (optimum.formulation, optimum.paths, optimum.basis) == ("paths", tuple(lp.paths), lp.basis_statuses())
    assert optimum.paths and optimum.basis is not None
    engine = Engine(optimum)
    assert engine.lp.basis_statuses() == optimum.basis  # every re-solve starts from it
    arcs = WelfareLP(market)
    arcs.solve()
    for lp_solved in (arcs, lp):
        if lp_solved is lp:  # a path LP that fell back on the arc formulation hands on that one's optimum
            lp._arc_lp, lp.fell_back = arcs, True
        optimum = optimum_of(lp_solved)
        assert optimum.market is market
        assert (optimum.formulation, optimum.paths, optimum.basis) == ("arcs", (), arcs.basis_statuses())
        engine = Engine(optimum)
        assert isinstance(engine.lp, WelfareLP) and engine.lp.basis_statuses() == arcs.basis_statuses()
    cold = Engine(replace(optimum, basis=None))
    assert cold.lp.optimal_basis is None  # nothing to start from: a cold start


def test_floors_relaxed_for_a_seller_who_buys_keep_its_demands_in_a_reverse_auction():
    # d2's floor needs l1, which p1 sells; p1 also buys d3 over p2's l2.
    s = build(["a", "b", "c"], [("l1", "a", "b", 1_000, "p1", "0.5"), ("l2", "b", "c", 1_000, "p2", "0.1")],
              [("d2", "ha", "hb", 1_000, "1.0", 900), ("d3", "hb", "hc", 800, "0.9", 0, "p1")])
    market, lp, solution = solved(s)
    engine = Engine(optimum_of(lp))
    offers = engine.welfare_without(["p1"], offers_only=True)["p1"]
    assert offers[1] is True and math.isclose(offers[0], 0.8 * 0.8)  # d3 still served, over l2
    everything = engine.welfare_without(["p1"])["p1"]
    assert everything[1] is True and abs(everything[0]) < 1e-12  # no d3, no l1: nothing trades


def test_expected_work_is_the_flow_each_participant_carries_or_is_served():
    from controller.market.counterfactual import expected_work

    s = build(["a", "b", "c"], [("l1", "a", "b", 10_000, "p1", "0.1"), ("l2", "b", "c", 10_000, "p1", "0.1")],
              [("d1", "ha", "hc", 1_000, "1.0"), ("d2", "ha", "hb", 500, "1.0")])
    market, lp, solution = solved(s)
    work = expected_work(market, solution)
    assert work == {"p1": 2_500.0, "cha": 1_500.0}  # a provider: both its arcs; a customer: both its demands


def test_duality_settles_the_only_buyer_of_a_floored_host_and_two_buyers_of_one_host():
    from controller.market.counterfactual import with_lp_duality

    # A universal floor the customer alone sends under: its row binds for no one else.
    s = build(["a", "b"], [("l1", "a", "b", 10_000, "p1", "0.2")], [("d1", "ha", "hb", 2_000, "1.5")], floor_kbps=500)
    market, lp, solution = solved(s)
    assert dict(market.host_floors) == {"ha": 500}
    duality = DualitySettlement(market, solution)
    assert duality.welfare_without("cha") is not None and abs(duality.welfare_without("cha")) < 1e-12
    assert duality.welfare_without("lm") == solution.welfare  # neither sells nor buys: the optimum stays
    # Two customers sending from one host, no floor: each settled apart.
    s = build(["a", "b"], [("l1", "a", "b", 10_000, "p1", "0.2")],
              [("d1", "ha", "hb", 2_000, "1.5"), ("d2", "ha", "hb", 1_000, "1.0", 0, "other")])
    market, lp, solution = solved(s)
    duality = DualitySettlement(market, solution)
    resolved = in_process(optimum_of(lp))(["cha", "other"])
    for name in ("cha", "other"):
        assert duality.welfare_without(name) is not None
        assert math.isclose(duality.welfare_without(name), resolved[name][0], abs_tol=1e-9)
    # Asked for both and a seller, the wrapper re-solves the seller alone, and says so.
    calls, counts = [], {}

    def optimiser(names):
        calls.append(list(names))
        return {n: (-1.0, False) for n in names}

    wrapped = with_lp_duality(market, solution, optimiser, counts)
    out = wrapped(["cha", "other", "p1"])
    assert out == {"cha": (duality.welfare_without("cha"), False), "other": (duality.welfare_without("other"), False),
                   "p1": (-1.0, False)}
    assert calls == [["p1"]] and counts == {"settled_by_duality": 2, "re_solves": 1}
    assert wrapped(["cha"]) == {"cha": (duality.welfare_without("cha"), False)}
    assert calls == [["p1"]], "the optimiser is not asked when duality settles everyone"
    assert counts == {"settled_by_duality": 1, "re_solves": 0}


def test_without_duality_every_participant_is_re_solved_and_counted():
    calls, counts = [], {}

    def optimiser(names):
        calls.append(list(names))
        return {n: (-1.0, False) for n in names}

    wrapped = counted(optimiser, counts)
    assert wrapped(iter(["cha", "p1"])) == {"cha": (-1.0, False), "p1": (-1.0, False)}  # any iterable, read once
    assert calls == [["cha", "p1"]] and counts == {"settled_by_duality": 0, "re_solves": 2}
