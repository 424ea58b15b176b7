"""Markets small enough to clear by hand."""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest

from controller.market import MarketError, clear_market

from .helpers import build


def one_link():
    return build(["a", "b"], [("l1", "a", "b", 10_000, "p1", "0.2")], [("d1", "ha", "hb", 5_000, "1.0")])


def test_one_link_under_each_mechanism():
    s = one_link()
    vcg = clear_market(s, "vcg")
    assert vcg.demand("d1").allocated_kbps == 5000
    assert vcg.demand("d1").paths[0].links == ("l1",)
    assert vcg.welfare == D("4.000000")  # 5 Mbps x (1.0 - 0.2)
    # The provider gets its cost (1.0) plus its whole contribution (4.0); the buyer
    # pays its value (5.0) minus its contribution (4.0): a deficit of 4.
    assert (vcg.participant("p1").receives, vcg.participant("cha").pays) == (D("5.000000"), D("1.000000"))
    assert vcg.budget_balance == D("-4.000000")
    lmp = clear_market(s, "lmp")
    assert lmp.links[0].price_per_mbps == D("0.200000") and lmp.demand("d1").pays == D("1.000000")
    assert lmp.budget_balance == 0
    pab = clear_market(s, "pay-as-bid")
    assert (pab.demand("d1").pays, pab.participant("p1").receives) == (D("5.000000"), D("1.000000"))
    assert pab.budget_balance == pab.welfare


def test_two_parallel_links_vcg_pays_the_winner_the_losers_ask():
    s = build(["a", "b"], [("cheap", "a", "b", 10_000, "p1", "0.2"), ("dear", "a", "b", 10_000, "p2", "0.3")],
              [("d1", "ha", "hb", 5_000, "1.0")])
    r = clear_market(s, "vcg")
    assert r.demand("d1").paths[0].links == ("cheap",)
    assert r.participant("p1").receives == D("1.500000")  # 5 Mbps at the second price 0.3
    assert r.participant("p2").receives == 0
    assert r.participant("cha").pays == D("1.000000")
    assert r.budget_balance == D("-0.500000")


def test_path_auction_pays_each_cheapest_path_link_cost_plus_distance_gap():
    # s -l1- m -l2- t costs 1 + 1; the bypass s -l3- t costs 3 (per Mbps).
    s = build(["s", "m", "t"], [("l1", "s", "m", 1_000, "p1", "1"), ("l2", "m", "t", 1_000, "p2", "1"),
                                ("l3", "s", "t", 1_000, "p3", "3")],
              [("d1", "hs", "ht", 1_000, "10")])
    r = clear_market(s, "vcg")
    assert r.demand("d1").paths[0].links == ("l1", "l2")
    # cost 1 + (distance without the link 3 - distance with it 2) = 2 each
    assert r.participant("p1").receives == D("2.000000")
    assert r.participant("p2").receives == D("2.000000")
    assert r.participant("p3").receives == 0
    # The lone buyer pays its value 10 minus its contribution (W* 8 - 0): the path's cost.
    assert r.participant("chs").pays == D("2.000000")
    assert r.budget_balance == D("-2.000000")


def test_infeasible_floors_name_the_floor_and_the_blocking_link():
    s = build(["a", "b"], [("thin", "a", "b", 5_000, "p1", "0.1")], [("big", "ha", "hb", 9_000, "1.0", 8_000)])
    with pytest.raises(MarketError, match=r"^floors cannot all be met: demand big floor 8000 kbps \(gets 5000\); "
                                          r"full links: thin$"):
        clear_market(s)


def test_an_infeasible_market_names_each_floor_it_misses_and_what_blocks_it():
    from .test_latency import slow_and_fast
    from .test_poc_hand_cases import TWO_CORES, poc

    hosts = {"ha": "a", "ha2": "a", "hb": "b"}
    cases = [
        (build(["a", "b", "c"], [("l1", "a", "b", 10_000, "p1", "0.1"), ("l2", "b", "c", 10_000, "p2", None)],
               [("d1", "ha", "hc", 1_000, "1.0", 500)]),  # l2 is not offered
         "demand d1 floor 500 kbps (gets 0); no offered path joins them"),
        (build(["a", "b"], [("l1", "a", "b", 1_000, "p1", "0.1")],
               [("d1", "ha", "hb", 1_000, "1.0", 600), ("d2", "ha2", "hb", 1_000, "1.0", 600)], hosts_on=hosts),
         "demand d1 floor 600 kbps (gets 0); full links: l1"),
        (build(["a", "b", "c"], [("l1", "a", "b", 1_000, "p1", "0.1"), ("l2", "a", "c", 1_000, "p2", "0.1")],
               [("d1", "ha", "hb", 3_000, "1.0", 2_000), ("d2", "ha", "hc", 3_000, "1.0", 2_000)]),
         "demand d1 floor 2000 kbps (gets 1000), demand d2 floor 2000 kbps (gets 1000); full links: l1, l2"),
        (build(["a", "b"], [("l1", "a", "b", 100, "p1", "0.1")],
               [("d1", "ha", "hb", 1_000, "1.0"), ("d2", "ha2", "hb", 1_000, "1.0")], floor_kbps=80, hosts_on=hosts),
         "host ha2 universal floor 80 kbps (gets 0); full links: l1"),
        (slow_and_fast(bound=4, floor=500),
         "demand d1 floor 500 kbps (gets 0: no path meets its max_latency_ms 4); no offered path joins them "
         "(within the demands' max_latency_ms)"),
        (poc(TWO_CORES.replace("max_rate: 5Mbps", "max_rate: 25Mbps, floor: 22Mbps")),
         "demand d1 floor 22000 kbps (gets 10000); full links: one, ua, ub (POC mode: only the core and each "
         "access provider's own links carry traffic)"),
    ]
    for s, why in cases:
        with pytest.raises(MarketError) as caught:
            clear_market(s)
        assert str(caught.value) == f"floors cannot all be met: {why}"


def test_universal_floor_is_served_even_to_a_low_bid():
    s = build(["a", "b"], [("l1", "a", "b", 1_000, "p1", "0.5")],
              [("rich", "ha", "hb", 1_000, "2.0"), ("poor", "hb", "ha", 1_000, "0.1")], floor_kbps=200)
    for formulation in ("paths", "arcs"):
        r = clear_market(s, "vcg", options={"formulation": formulation})
        assert r.demand("poor").allocated_kbps == 200  # below its ask, but guaranteed
        assert r.demand("rich").allocated_kbps == 1000  # the other direction is its own capacity


def test_local_pairs_cost_nothing_and_skip_links():
    s = build(["a", "b"], [("l1", "a", "b", 1_000, "p1", "0.5")], [("nb", "ha", "ha2", 3_000, "1.0")],
              hosts_on={"ha": "a", "ha2": "a", "hb": "b"})
    r = clear_market(s, "lmp")
    assert r.demand("nb").allocated_kbps == 3000 and r.demand("nb").paths[0].links == ()
    assert r.demand("nb").pays == 0


def test_tiers_make_the_second_megabit_dearer():
    from dataclasses import replace
    from topologies.model import PriceTier

    s = build(["a", "b"], [("l1", "a", "b", 4_000, "p1", "0.9")], [("d1", "ha", "hb", 4_000, "0.5")])
    tiered = replace(s.offers[0], ask_per_mbps=D("0.9"), tiers=(PriceTier(1_000, D("0.1")),))
    s = replace(s, offers=(tiered,))
    r = clear_market(s, "pay-as-bid")
    assert r.demand("d1").allocated_kbps == 1000  # only the 0.1 tier is worth buying at 0.5
    assert r.participant("p1").receives == D("0.100000")
    # The demand is rationed, so the link's price is its value: 0.5, not the tier's 0.1 nor the next tier's 0.9.
    lmp = clear_market(s, "lmp")
    assert lmp.links[0].price_per_mbps == D("0.500000") and lmp.demand("d1").pays == D("0.500000")
    vcg = clear_market(s, "vcg")  # W* = 1 Mbps x (0.5 - 0.1); without either party, 0
    assert (vcg.participant("cha").pays, vcg.participant("p1").receives) == (D("0.100000"), D("0.500000"))


def test_default_scenario_clears_under_all_mechanisms():
    from topologies.loader import load_scenario

    s = load_scenario("topologies/default.yaml")
    for mechanism in ("vcg", "lmp", "pay-as-bid"):
        r = clear_market(s, mechanism)
        assert r.welfare > 0
        assert r.demand("ana-dev").paths[0].switches == ("mn1", "lk1")  # local first: the direct link
        assert set(r.to_json_dict()) == {"mechanism", "welfare", "demands", "links", "participants", "budget_balance",
                                         "floors_cost"}
    # VCG splits streamco's payment among its demands by the value each is served (by kbps: 1.890 and 1.890).
    r = clear_market(s, "vcg")
    assert (r.demand("cdn-eli").pays, r.demand("cdn-hana").pays) == (D("1.989474"), D("1.790526"))
    assert r.participant("streamco").pays == D("3.780000")


def test_duality_settles_uncongested_customers_and_re_solves_congested_ones():
    # Two customers on switch a share link l1 (4 Mbps, ask 0.1) towards b.
    hosts = {"h1": "a", "h2": "a", "hb": "b"}
    links = [("l1", "a", "b", 4_000, "p1", "0.1")]
    roomy = build(["a", "b"], links, [("d1", "h1", "hb", 1_000, "1.0"), ("d2", "h2", "hb", 1_000, "0.5")], hosts_on=hosts)
    r = clear_market(roomy, "vcg")
    assert r.timings["settled_by_duality"] == 2 and r.timings["re_solves"] == 1  # only the provider p1
    off = clear_market(roomy, "vcg", options={"duality": False})  # every winner re-solved, paying the same
    assert off.timings["settled_by_duality"] == 0 and off.timings["re_solves"] == 3  # p1, ch1 and ch2
    assert off.participants == r.participants
    assert r.participant("ch1").pays == D("0.100000")  # the ask: it displaces nobody
    crowded = build(["a", "b"], links, [("d1", "h1", "hb", 4_000, "1.0"), ("d2", "h2", "hb", 4_000, "0.5")], hosts_on=hosts)
    r = clear_market(crowded, "vcg")
    assert r.timings["settled_by_duality"] == 0
    assert r.participant("ch1").pays == D("2.000000")  # d2's lost value 4 x (0.5 - 0.1), plus the asks 0.4


def test_a_hosts_access_link_caps_what_it_receives():
    # Two senders on roomy links towards hc, whose own access link carries 5 Mbps.
    links = [("l1", "a", "c", 10_000, "p1", "0.1"), ("l2", "b", "c", 10_000, "p1", "0.1")]
    demands = [("d1", "ha", "hc", 4_000, "1.0"), ("d2", "hb", "hc", 4_000, "0.5")]
    s = build(["a", "b", "c"], links, demands, access_kbps={"hc": 5_000})
    for formulation in ("paths", "arcs"):
        r = clear_market(s, "vcg", options={"formulation": formulation})
        assert (r.demand("d1").allocated_kbps, r.demand("d2").allocated_kbps) == (4_000, 1_000)
        # d1 displaces 3 Mbps of d2 (worth 0.5 - 0.1 each) and pays the 0.4 of asks besides.
        assert r.participant("cha").pays == D("1.600000")
        lmp = clear_market(s, "lmp", options={"formulation": formulation})
        assert lmp.participant("cha").pays == D("0.400000")  # no one sells access: its rent is not charged


def test_floors_blocked_by_an_access_link_say_so():
    s = build(["a", "b"], [("l1", "a", "b", 10_000, "p1", "0.1")], [("big", "ha", "hb", 9_000, "1.0", 8_000)],
              access_kbps={"hb": 5_000})
    with pytest.raises(MarketError, match=r"^floors cannot all be met: demand big floor 8000 kbps \(gets 5000\); "
                                          r"full links: access of hb \(down\)$"):
        clear_market(s)


def test_prices_carry_no_tie_break():
    # One link, one rationed demand: the link's price is the demand's value, exactly
    # (with the tie-break in the duals it would read 0.999999).
    s = build(["a", "b"], [("l1", "a", "b", 1_000, "p1", "0.1")], [("d1", "ha", "hb", 1_500, "1.0")])
    for formulation in ("paths", "arcs"):
        options = {"formulation": formulation}
        lmp = clear_market(s, "lmp", options=options)
        assert lmp.links[0].price_per_mbps == D("1.000000") and lmp.demand("d1").pays == D("1.000000")
        assert (lmp.budget_balance, lmp.floors_cost) == (0, 0)
        vcg = clear_market(s, "vcg", options=options)  # W* 0.9; without the buyer or the seller, nothing
        assert (vcg.participant("cha").pays, vcg.participant("p1").receives) == (D("0.100000"), D("1.000000"))


def floor_held():
    """A customer held at its 500 kbps floor on a link whose ask (0.5) is above its value (0.1)."""
    return build(["a", "b"], [("l1", "a", "b", 1_000, "p1", "0.5")], [("d1", "ha", "hb", 1_000, "0.1", 500)])


def test_vcg_with_a_floor_the_fund_keeps_both_sides_whole():
    r = clear_market(floor_held(), "vcg")
    assert r.demand("d1").allocated_kbps == 500 and r.welfare == D("-0.200000")
    # VCG alone: the customer's contribution is W* - 0 = -0.2, so it would pay its value 0.05
    # plus 0.2; the provider, without which the floor fails (relaxed: 0), would receive its
    # cost 0.25 minus 0.2.  The fund caps the one at 0.05 and tops the other up to 0.25.
    cha, p1 = r.participant("cha"), r.participant("p1")
    assert (cha.pays, cha.funded) == (D("0.050000"), D("0.200000"))
    assert (p1.receives, p1.funded) == (D("0.250000"), D("0.200000"))
    assert r.floors_cost == D("0.400000") and r.budget_balance == D("-0.200000")
    assert r.demand("d1").pays == D("0.050000")
    assert any("without p1 the floors cannot be met" in n for n in r.notes)


def test_lmp_and_pay_as_bid_with_a_floor():
    lmp = clear_market(floor_held(), "lmp")
    assert lmp.links[0].price_per_mbps == D("0.500000")  # half the link is sold: the price is the ask
    assert (lmp.participant("cha").pays, lmp.participant("cha").funded) == (D("0.050000"), D("0.200000"))
    assert lmp.participant("p1").receives == D("0.250000")
    assert (lmp.budget_balance, lmp.floors_cost) == (D("-0.200000"), D("0.200000"))
    assert lmp.demand("d1").pays == D("0.050000")
    pab = clear_market(floor_held(), "pay-as-bid")  # bids are paid as bid: no one is short
    assert (pab.participant("cha").pays, pab.participant("p1").receives) == (D("0.050000"), D("0.250000"))
    assert (pab.budget_balance, pab.floors_cost) == (D("-0.200000"), 0)


def test_a_shared_universal_floor_keeps_the_duality_shortcut_out():
    # Two buyers send from ha, whose universal floor is 500 kbps.  cha is served (value 1.0
    # over an ask of 0.2 on an uncongested link), cx is not (0.1).  Without cha the floor
    # makes cx take 500 kbps at a loss of 0.05: cha pays 1.0 - (0.8 + 0.05) = 0.15, not
    # the 0.2 of asks it frees (what the shortcut would say if it ignored the floor).
    s = build(["a", "b"], [("l1", "a", "b", 10_000, "p1", "0.2")],
              [("d1", "ha", "hb", 1_000, "1.0"), ("d2", "ha", "hb", 1_000, "0.1", 0, "cx")], floor_kbps=500)
    r = clear_market(s, "vcg")
    assert (r.demand("d1").allocated_kbps, r.demand("d2").allocated_kbps) == (1000, 0)
    assert r.participant("cha").pays == D("0.150000") and r.participant("cx").pays == 0
    assert r.participant("p1").receives == D("1.000000")  # its cost 0.2 plus all of W* (0.8)
    assert r.timings["settled_by_duality"] == 0 and r.timings["re_solves"] == 2
    assert r.floors_cost == 0


def test_an_unknown_choice_says_what_the_choices_are():
    s = build(["a", "b"], [("l1", "a", "b", 1_000, "p1", "0.1")], [("d1", "ha", "hb", 500, "1.0")])
    cases = [({"mechanism": "nope"}, "unknown mechanism 'nope' (one of: vcg, lmp, pay-as-bid)"),
             ({"options": {"formulation": "nope"}}, "unknown formulation 'nope' (one of: paths, arcs)"),
             ({"options": {"counterfactuals": "nope"}}, "unknown counterfactuals engine 'nope' (one of: local, dask)")]
    for kwargs, message in cases:
        with pytest.raises(MarketError) as caught:
            clear_market(s, **kwargs)
        assert str(caught.value) == message
    with pytest.raises(MarketError) as caught:
        clear_market(replace(s, market=replace(s.market, mode="nope")))
    assert str(caught.value) == "unknown market mode 'nope' (one of: open, poc)"


def test_links_no_one_offers_are_left_out_of_the_result_wherever_they_are_listed():
    s = build(["a", "b", "c"], [("l0", "a", "c", 1_000, "p2", None), ("l1", "a", "b", 1_000, "p1", "0.1")],
              [("d1", "ha", "hb", 500, "1.0")])
    assert [(l.link_id, l.allocated_kbps) for l in clear_market(s).links] == [("l1", 500)]
