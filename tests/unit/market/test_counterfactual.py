"""Counterfactuals: each group starts from the optimum and leaves it as it found it;
the duality shortcut agrees with a re-solve where it applies, and steps aside where not."""
from __future__ import annotations

import math
from decimal import Decimal

from controller.market.allocation import tier_cost
from controller.market.counterfactual import GROUP, DualitySettlement, Engine, freed_cost, groups, in_process, optimum_of
from controller.market.network import Arc, Tier, market_from_scenario
from controller.market.pathlp import PathLP

from .helpers import build
from .test_workers import generated


def solved(s):
    market = market_from_scenario(s)
    lp = PathLP(market)
    return market, lp, lp.solve()


def winners(market, solution):
    return sorted({d.buyer for d in market.demands if solution.x_kbps[d.id] > 0}
                  | {a.seller for a in market.arcs if solution.arc_load_kbps[a.index] > 0})


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
