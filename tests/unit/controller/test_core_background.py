"""Clearing in the background: the core asks, the plan in force keeps forwarding, and the
plan that comes back moves the switches; reasons that come meanwhile wait for the next."""
from __future__ import annotations

from controller import ops as o
from controller.core import ControllerCore, Settings
from controller.planner import build_plan, make_planner
from topologies.loader import load_scenario

S = load_scenario("topologies/library/failover.yaml")
WEST, R1 = S.switch["west"].dpid, S.switch["r1"].dpid


def background_core(epoch_s: float = 3.0) -> ControllerCore:
    core = ControllerCore(S, make_planner(S, "market", "lmp"), Settings(epoch_s=epoch_s, stats_s=0, background=True))
    for dpid in (WEST, R1):
        core.connected(dpid, now=0)
        ops = core.flow_stats(dpid, [], False, now=0)[dpid]
        core.barrier_reply(dpid, ops[-1].token, now=0)
    return core


def clear(request):
    return build_plan(request.market, "market", "lmp", request.epoch, request.down)


def test_an_epoch_asks_for_a_clearing_and_moves_nothing_until_it_comes_back():
    core = background_core()
    assert core.tick(now=3) == {} and core.epoch == 0
    request = core.clearing_request(now=3)
    assert (request.epoch, request.reason, request.down) == (1, "epoch", frozenset())
    assert core.clearing_request(now=3) is None  # one at a time
    moved = core.plan_ready(request, clear(request), "", now=4)
    assert set(moved) == {WEST, R1} and core.epoch == 1
    assert any(isinstance(op, o.AddMeter) for op in moved[WEST])
    assert core.status.snapshot()["history"][-1]["at"] == 4
    # the switches' install time runs from the move, not from the request
    install = "openisp_rule_install_seconds_sum"
    before = core.metrics.registry.get_sample_value(install, {"switch": "west"})
    core.barrier_reply(WEST, moved[WEST][-1].token, now=4.25)
    assert core.metrics.registry.get_sample_value(install, {"switch": "west"}) - before == 0.25


def test_reasons_that_come_while_clearing_are_served_together_by_the_next():
    core = background_core()
    core.tick(now=3)
    first = core.clearing_request(now=3)
    core.tick(now=6)  # the next epoch falls due while the first still clears
    core.port_status(R1, S.graph.link_port("r1", "fast").number, True, now=6.5)
    assert core.clearing_request(now=6.5) is None
    core.plan_ready(first, clear(first), "", now=7)  # planned with fast up: out of date
    assert core.epoch == 0
    second = core.clearing_request(now=7)
    assert second.reason == "epoch, link fast down, links changed while clearing" and second.down == {"fast"}
    core.plan_ready(second, clear(second), "", now=8)
    assert core.epoch == 1
    assert all(not any((a, b) == ("r1", "r2") for a, b in zip(p, p[1:])) for p in core.status.paths["w1-e1"])


def test_a_clearing_longer_than_the_epoch_is_reported():
    core = background_core(epoch_s=1)
    core.tick(now=1)
    request = core.clearing_request(now=1)
    core.plan_ready(request, clear(request), "", now=3.5)
    assert "took 2.5 s to clear, longer than the epoch (1 s)" in core.status.snapshot()["notes"][-1]


def test_a_clearing_that_fails_keeps_the_plan_in_force_and_says_why():
    core = background_core()
    core.tick(now=3)
    request = core.clearing_request(now=3)
    assert core.plan_ready(request, None, "MarketError: floors cannot all be met", now=4) == {}
    assert core.epoch == 0 and "floors cannot all be met" in core.status.snapshot()["notes"][-1]
    assert core.clearing_request(now=4) is None  # nothing more wanted until the next epoch


def test_a_stranger_plan_is_ignored():
    core = background_core()
    core.tick(now=3)
    request = core.clearing_request(now=3)
    stale = type(request)(1, frozenset(), S, "old", 0.0)
    assert core.plan_ready(stale, clear(request), "", now=4) == {} and core.epoch == 0


def test_a_clearing_within_its_epoch_is_not_reported_and_the_plan_it_replaced_is_handed_out():
    core = background_core(epoch_s=3)
    before = core.current
    core.tick(now=3)
    request = core.clearing_request(now=3)
    core.plan_ready(request, clear(request), "", now=3.5)
    assert core.status.snapshot()["notes"] == []
    assert core.take_retired() == [before] and core.take_retired() == []
    assert core.current is not before


def test_a_clearing_of_exactly_one_epoch_or_without_epochs_is_not_late():
    core = background_core(epoch_s=1)
    core.tick(now=1)
    request = core.clearing_request(now=1)
    core.plan_ready(request, clear(request), "", now=2)  # took 1 s: just in time
    assert core.status.snapshot()["notes"] == [] and core.epoch == 1
    # No epochs: a re-plan for a link may take as long as it takes.
    core = background_core(epoch_s=0)
    core.port_status(R1, S.graph.link_port("r1", "fast").number, True, now=1)
    request = core.clearing_request(now=1)
    assert request.down == frozenset({"fast"})
    core.plan_ready(request, clear(request), "", now=60)
    assert core.status.snapshot()["notes"] == [] and core.epoch == 1
