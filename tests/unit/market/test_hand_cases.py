"""Markets small enough to clear by hand."""
from __future__ import annotations

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
    with pytest.raises(MarketError, match=r"demand big floor 8000 kbps.*full links: thin"):
        clear_market(s)


def test_universal_floor_is_served_even_to_a_low_bid():
    s = build(["a", "b"], [("l1", "a", "b", 1_000, "p1", "0.5")],
              [("rich", "ha", "hb", 1_000, "2.0"), ("poor", "hb", "ha", 1_000, "0.1")], floor_kbps=200)
    r = clear_market(s, "vcg")
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


def test_default_scenario_clears_under_all_mechanisms():
    from topologies.loader import load_scenario

    s = load_scenario("topologies/default.yaml")
    for mechanism in ("vcg", "lmp", "pay-as-bid"):
        r = clear_market(s, mechanism)
        assert r.welfare > 0
        assert r.demand("ana-dev").paths[0].switches == ("mn1", "lk1")  # local first: the direct link
        assert set(r.to_json_dict()) == {"mechanism", "welfare", "demands", "links", "participants", "budget_balance"}


def test_parallel_counterfactuals_give_the_same_payments(monkeypatch):
    from controller.market import clearing
    from topologies.loader import load_scenario

    s = load_scenario("topologies/default.yaml")
    alone = clear_market(s, "vcg", options={"workers": 1})
    monkeypatch.setattr(clearing, "PARALLEL_ABOVE_DEMANDS", 0)  # force the worker processes
    together = clear_market(s, "vcg", options={"workers": 2})
    assert together.participants == alone.participants and together.demands == alone.demands
    assert together.notes == alone.notes


def test_duality_settles_uncongested_customers_and_re_solves_congested_ones():
    # Two customers on switch a share link l1 (4 Mbps, ask 0.1) towards b.
    hosts = {"h1": "a", "h2": "a", "hb": "b"}
    links = [("l1", "a", "b", 4_000, "p1", "0.1")]
    roomy = build(["a", "b"], links, [("d1", "h1", "hb", 1_000, "1.0"), ("d2", "h2", "hb", 1_000, "0.5")], hosts_on=hosts)
    r = clear_market(roomy, "vcg")
    assert r.timings["settled_by_duality"] == 2 and r.timings["re_solves"] == 1  # only the provider p1
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
    lmp = clear_market(s, "lmp")
    assert lmp.participant("cha").pays == D("0.400000")  # no one sells access: its rent is not charged


def test_floors_blocked_by_an_access_link_say_so():
    s = build(["a", "b"], [("l1", "a", "b", 10_000, "p1", "0.1")], [("big", "ha", "hb", 9_000, "1.0", 8_000)],
              access_kbps={"hb": 5_000})
    with pytest.raises(MarketError, match=r"demand big floor 8000 kbps.*full links: access of hb \(down\)"):
        clear_market(s)
