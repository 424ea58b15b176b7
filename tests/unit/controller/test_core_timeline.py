"""The core plays the timeline's market events on the run's clock and keeps a history of plans."""
from __future__ import annotations

from controller.core import ControllerCore, Settings
from controller.planner import make_planner
from topologies.loader import load_scenario

S = load_scenario("topologies/library/timeline.yaml")


def connected_core() -> ControllerCore:
    core = ControllerCore(S, make_planner(S, "market", "lmp"), Settings(epoch_s=0, stats_s=0), now=100.0)
    for sw in S.switches:
        core.connected(sw.dpid, now=100.0)
        ops = core.flow_stats(sw.dpid, [], False, now=100.0)[sw.dpid]
        core.barrier_reply(sw.dpid, ops[-1].token, now=100.0)
    return core


def test_nothing_is_played_before_the_run_says_when_its_traffic_starts():
    core = connected_core()
    assert core.tick(now=1000.0) == {} and core.epoch == 0


def test_each_market_event_re_clears_the_market_at_its_second():
    core = connected_core()
    core.start_timeline(200.0, now=110.0)
    assert core.tick(now=205.9) == {} and core.epoch == 0
    moved = core.tick(now=206.0)  # bulk withdrawn at 6 s
    assert core.epoch == 1 and set(moved) == {sw.dpid for sw in S.switches}
    assert core.status.allocated == {"video": 6000}
    assert core.tick(now=219.0) == {}
    core.tick(now=220.5)  # late arrives at 20 s
    assert core.status.allocated == {"video": 6000, "late": 2000}
    history = core.status.snapshot()["history"]
    assert [(h["epoch"], h["at"], h["reason"]) for h in history] == [
        (0, 100.0, "start"), (1, 206.0, "timeline: demand_withdraw bulk"), (2, 220.5, "timeline: demand_add late")]


def test_events_that_fell_due_together_make_one_plan():
    core = connected_core()
    core.start_timeline(0.0, now=0.0)
    core.tick(now=30.0)
    assert core.epoch == 1 and core.status.snapshot()["history"][-1]["reason"] == \
        "timeline: demand_withdraw bulk, demand_add late"


def test_the_flows_of_an_added_demand_are_counted_under_its_name():
    from controller.core import FlowStat

    core = connected_core()
    core.start_timeline(0.0, now=0.0)
    core.tick(now=21.0)
    west = S.switch["west"].dpid
    plan = core.current.rules.for_switch(west)
    late_meter = next(m for (_, m), owner in plan.meter_owners.items() if owner[1] == "late")
    flow = next(f for f in plan.flows if f.meter_id == late_meter)
    core.barrier_reply(west, core.switches[west].pending, now=21.0)
    core.flow_stats(west, [FlowStat(1, flow.priority, flow.match, flow.cookie, 7, 700)], False, now=21.0)
    assert core.status.snapshot()["counters"]["demands"]["late"]["classified"] == {"packets": 7, "bytes": 700}


def test_a_withdrawn_demand_is_shown_allocated_nothing():
    core = connected_core()
    core.start_timeline(0.0, now=0.0)
    core.tick(now=6.0)
    text = core.metrics.exposition()
    assert b'openisp_demand_allocated_bytes_per_second{demand="bulk"} 0.0' in text
    assert b'openisp_demand_allocated_bytes_per_second{demand="video"} 750000.0' in text
