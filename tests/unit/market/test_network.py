"""The market's view of a scenario (controller/market/network.py): price tiers as
capacities, access links that can bind, and universal floors."""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

from controller.market.network import _tiers, access_limits, universal_floors
from topologies.model import MarketSettings, Offer, PriceTier

from .helpers import build


def offer(capacity: int, *tiers: tuple[int, str]) -> Offer:
    return Offer("o", "l", "p", capacity, D("0.50"), tuple(PriceTier(up_to, D(ask)) for up_to, ask in tiers))


def test_cumulative_tiers_become_capacities_and_the_rest_sells_at_the_base_ask():
    got = [(t.capacity_kbps, t.ask_per_mbps) for t in _tiers(offer(10_000, (2000, "0.1"), (5000, "0.2")))]
    assert got == [(2000, D("0.1")), (3000, D("0.2")), (5000, D("0.50"))]


def test_a_tier_that_adds_nothing_and_a_full_last_tier_leave_no_empty_tier():
    got = [(t.capacity_kbps, t.ask_per_mbps) for t in _tiers(offer(4000, (2000, "0.1"), (2000, "0.2"), (9000, "0.3")))]
    assert got == [(2000, D("0.1")), (2000, D("0.3"))]  # the repeated 2000 adds nothing; 9000 is cut at 4000
    assert [t.capacity_kbps for t in _tiers(offer(4000))] == [4000]


def test_an_access_link_binds_only_when_its_demands_ask_for_more_than_it_carries():
    s = build(["a", "b"], [("ab", "a", "b", 10_000, "bb", 0.1)],
              [("d1", "ha", "hb", 600, 1.0), ("d2", "ha", "hb", 400, 1.0)], access_kbps={"ha": 1000, "hb": 999})
    limits = {(a.host, a.direction): (a.kbps, a.demands) for a in access_limits(s, s.demands)}
    assert limits == {("hb", "down"): (999, ("d1", "d2"))}  # ha's 1000 up carries exactly what it asks for


def test_a_universal_floor_of_one_kbps_is_a_floor():
    s = build(["a", "b"], [("ab", "a", "b", 10_000, "bb", 0.1)], [("d1", "ha", "hb", 600, 1.0)])
    assert universal_floors(replace(s, market=MarketSettings("vcg", 30, 1))) == (("ha", 1),)
    assert universal_floors(replace(s, market=MarketSettings("vcg", 30, 0))) == ()


def test_a_host_s_universal_floor_is_capped_by_the_sum_of_what_its_given_demands_ask():
    s = build(["a", "b"], [("ab", "a", "b", 10_000, "bb", 0.1)],
              [("d1", "ha", "hb", 100, 1.0), ("d2", "ha", "hb", 200, 1.0), ("d3", "hb", "ha", 600, 1.0)])
    s = replace(s, market=MarketSettings("vcg", 30, 1000))
    assert dict(universal_floors(s)) == {"ha": 300, "hb": 600}  # min(1000, 100 + 200), min(1000, 600)
    assert dict(universal_floors(s, demands=s.demands[:1])) == {"ha": 100}
    assert dict(universal_floors(s, cut=frozenset({"d2", "d3"}))) == {"ha": 100}
