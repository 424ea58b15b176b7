"""The timeline as pure functions: who is in the market when, and what each event changes."""
from __future__ import annotations

from decimal import Decimal

import pytest

from topologies.errors import ScenarioError
from topologies.loader import load_scenario, load_scenario_text
from topologies.model import Event
from topologies.timeline import (
    apply_market_event, demand_windows, link_events, market_events, timeline_seconds,
)

S = load_scenario("topologies/library/timeline.yaml")


def test_link_and_market_events_go_to_their_players_in_time_order():
    assert [(e.at_s, e.target) for e in link_events(S)] == [(10.0, "bb"), (16.0, "bb")]
    assert [(e.at_s, e.action) for e in market_events(S)] == [(6.0, "demand_withdraw"), (20.0, "demand_add")]
    assert timeline_seconds(S, after_s=5) == 25.0
    assert timeline_seconds(load_scenario("topologies/default.yaml")) == 0.0


def test_demands_are_in_the_market_from_their_add_to_their_withdraw():
    assert demand_windows(S, 26) == {"video": (0.0, 26), "bulk": (0.0, 6.0), "late": (20.0, 26)}
    assert demand_windows(S, 5) == {"video": (0.0, 5), "bulk": (0.0, 5)}  # late would start after the end


def test_a_withdrawn_demand_leaves_and_an_added_one_joins():
    after = apply_market_event(S, S.timeline[0])
    assert [d.id for d in after.demands] == ["video"] and [d.id for d in S.demands] == ["video", "bulk"]
    joined = apply_market_event(after, S.timeline[-1])
    assert [d.id for d in joined.demands] == ["video", "late"] and joined.demand["late"].max_kbps == 2000


def test_changes_apply_their_fields_only():
    s = load_scenario("topologies/default.yaml")
    cheaper = apply_market_event(s, Event(1, "offer_change", "offer-at1", {"ask_per_mbps": Decimal("0.01")}))
    offer = next(o for o in cheaper.offers if o.id == "offer-at1")
    assert offer.ask_per_mbps == Decimal("0.01") and offer.capacity_kbps == s.link["at1"].capacity_kbps
    bigger = apply_market_event(s, Event(1, "demand_change", "ben-gus", {"max_rate": 6000}))
    assert bigger.demand["ben-gus"].max_kbps == 6000
    assert bigger.demand["ben-gus"].value_per_mbps == s.demand["ben-gus"].value_per_mbps


@pytest.mark.parametrize("event, reason", [
    (Event(1, "demand_change", "nobody", {"max_rate": 1}), "no demand 'nobody'"),
    (Event(1, "demand_change", "ana-dev", {"max_rate": 100}), "floor 500 kbps above max_rate 100 kbps"),
    (Event(1, "offer_change", "offer-at1", {"capacity": 30_000}), "more than its capacity"),
    (Event(1, "link_down", "at1"), "not a market event"),
])
def test_an_event_that_no_longer_fits_is_refused_with_a_reason(event, reason):
    with pytest.raises(ScenarioError, match=reason):
        apply_market_event(load_scenario("topologies/default.yaml"), event)


def test_adding_a_demand_twice_is_refused():
    with pytest.raises(ScenarioError, match="already in the market"):
        apply_market_event(S, Event(1, "demand_add", "video", {"demand": S.demand["video"]}))
