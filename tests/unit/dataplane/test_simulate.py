"""The flow-level simulator: max-min sharing, flows walked through the rules the controller
would install, and the verdict of a run (openisp simulate)."""
from __future__ import annotations

import dataclasses
import json

import pytest

from controller.planner import build_plan
from dataplane.simulate import max_min, simulate
from openisp.cli import main
from topologies.loader import load_scenario

DEFAULT = "topologies/default.yaml"
SPLIT = "topologies/library/split.yaml"


def test_max_min_gives_the_smallest_fair_share_first_and_never_more_than_a_want():
    # x (6) is shared by a and b; y (4) by b and c; c wants 1: c 1, then b and a share what is left.
    assert max_min({"a": 5, "b": 5, "c": 1}, {"a": ["x"], "b": ["x", "y"], "c": ["y"]},
                   {"x": 6, "y": 4}) == {"a": 3.0, "b": 3.0, "c": 1.0}
    # b is held to 1 by y; a takes the rest of x, up to its want.
    assert max_min({"a": 10, "b": 10}, {"a": ["x"], "b": ["x", "y"]}, {"x": 6, "y": 1}) == {"a": 5.0, "b": 1.0}
    assert max_min({"a": 2, "b": 0}, {"a": ["x"], "b": ["x"]}, {"x": 6}) == {"a": 2.0, "b": 0.0}
    assert max_min({"a": 2}, {"a": ["x"]}, {"x": 0}) == {"a": 0.0}
    assert max_min({"a": 2.5}, {}, {}) == {"a": 2.5}  # nothing in its way
    rates = max_min({k: 3 for k in "abcd"}, {k: ["x"] for k in "abcd"}, {"x": 10})
    assert rates == pytest.approx({k: 2.5 for k in "abcd"}) and sum(rates.values()) == pytest.approx(10)


@pytest.mark.parametrize("path", [DEFAULT, SPLIT, "topologies/library/local-first.yaml"])
def test_every_demand_is_predicted_its_allocation_on_library_worlds(path):
    scenario = load_scenario(path)
    sim = simulate(scenario)
    for d in scenario.demands:
        alloc = sim.allocated.get(d.id, 0)
        if alloc:
            assert sim.received[d.id] == pytest.approx(min(alloc, sim.offered[d.id]), rel=1e-6), d.id
    # the meters cut what is offered above the allocations, and no link carries more than its capacity
    assert any(m["dropped_kbps"] > 0 for m in sim.meters.values())
    for (link, a, b), load in sim.link_load.items():
        assert load <= scenario.emulation.emulated_kbps(scenario.link[link].capacity_kbps) * (1 + 1e-9)


def test_a_split_demand_sent_as_one_flow_is_predicted_to_fall_short_and_the_command_says_so(capsys):
    """Issue 9's case: one flow goes down one path, and only that path's meter lets it by."""
    scenario = load_scenario(SPLIT)
    whole = simulate(scenario)
    one = simulate(scenario, flows_per_demand=1)
    assert whole.received["video"] == pytest.approx(whole.allocated["video"])
    assert one.received["video"] < 0.6 * one.allocated["video"]
    assert one.received["call"] == pytest.approx(one.allocated["call"])  # the floor holds all the same
    assert main(["simulate", SPLIT, "--flows", "1"]) == 1
    out = capsys.readouterr().out
    assert "PROBLEM: video: received" in out and "SHORT" in out


def test_the_paths_come_from_the_switches_not_from_the_plan_s_own_account():
    """Rules that send a demand elsewhere than the plan says change the prediction: halve every
    meter of the default plan and every demand is predicted half its allocation."""
    scenario = load_scenario(DEFAULT)
    plan = build_plan(scenario)
    halved = dataclasses.replace(plan, rules=dataclasses.replace(plan.rules, meters=tuple(
        dataclasses.replace(m, rate_kbps=m.rate_kbps // 2) for m in plan.rules.meters)))
    sim = simulate(scenario, epoch_plan=halved)
    for d in scenario.demands:
        assert sim.received[d.id] == pytest.approx(sim.allocated[d.id] / 2, rel=0.02), d.id


def test_links_are_loaded_along_the_walked_paths_and_shortest_paths_overload_one():
    scenario = load_scenario(DEFAULT)
    sim = simulate(scenario, plan="shortest")
    lost = {d.id for d in scenario.demands if sim.received[d.id] < 0.9 * sim.offered[d.id]}
    assert lost and lost != {d.id for d in scenario.demands}
    full = [(l, a, b) for (l, a, b), kbps in sim.link_load.items()
            if kbps >= scenario.emulation.emulated_kbps(scenario.link[l].capacity_kbps) * (1 - 1e-6)]
    assert full  # the losses are made at a link that is full
    for d in lost:  # every demand that loses crosses a full link
        crossed = {link for b in sim.branches if b.demand == d for link, _ in b.links}
        assert crossed & {l for l, _, _ in full}, d


def test_the_json_report_has_a_run_s_demand_fields(capsys):
    assert main(["simulate", DEFAULT, "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["ok"] and not rep["problems"]
    first = rep["demands"][0]
    assert {"demand", "src", "dst", "paths", "allocated_kbps", "offered_kbps", "received_kbps", "ok"} <= set(first)
    assert {m["owner"][0] for m in rep["meters"] if m["owner"]} >= {"demand"}
    assert all(l["load_kbps"] <= l["capacity_kbps"] for l in rep["links"])


def test_bad_flows_are_refused(capsys):
    assert main(["simulate", DEFAULT, "--flows", "0"]) == 2


def test_the_timeline_is_played_in_simulated_time_through_the_controller_s_own_core(capsys):
    """timeline.yaml: bulk leaves at 6 s (video takes the 6 Mbps trunk), the trunk fails at 10 s
    (video falls to the 2 Mbps detour), heals at 16 s, and late joins at 20 s."""
    scenario = load_scenario("topologies/library/timeline.yaml")
    sim = simulate(scenario)
    video = sim.received_per_s["video"]
    assert [round(video[i]) for i in (3, 8, 13, 18, 23)] == [4000, 6000, 2000, 6000, 6000]
    assert round(sim.received_per_s["bulk"][3]) == 4000 and sim.received_per_s["bulk"][8] == 0
    assert sim.received_per_s["late"][19] == 0 and round(sim.received_per_s["late"][23]) == 2000
    assert sim.changes == [6.0, 10.0, 16.0, 20.0] and not sim.steady
    assert [(at, action, target) for at, action, target, _ in sim.played] == [(10.0, "link_down", "bb"),
                                                                            (16.0, "link_up", "bb")]
    # while bb is down nothing crosses it; the detour carries video alone
    assert [t for t, allocated in sim.plans] == [0.0, 6.0, 10.0, 16.0, 20.0]
    assert main(["simulate", "topologies/library/timeline.yaml"]) == 0
    assert "received per second" in capsys.readouterr().out


def test_a_link_down_in_the_timeline_is_routed_around_by_the_re_plan_not_by_luck():
    """Without the controller's re-plan the cut would drop video: the prediction at 13 s comes
    from the plan made for the cut, which the fake switches hold."""
    scenario = load_scenario("topologies/library/timeline.yaml")
    sim = simulate(scenario)
    during = sim.plans[2]
    assert during[0] == 10.0 and during[1]["video"] == 2000
    assert round(sim.received_per_s["video"][13]) == during[1]["video"]


def test_on_off_traffic_is_predicted_second_by_second():
    scenario = load_scenario("topologies/library/bursts.yaml")
    sim = simulate(scenario)
    burst = [round(x) for x in sim.received_per_s["burst"][:12]]
    alloc = sim.allocated["burst"]
    assert burst == [alloc, alloc, 0, 0] * 3
    assert [round(x) for x in sim.received_per_s["steady"][:12]] == [sim.allocated["steady"]] * 12
    assert sim.received["burst"] == pytest.approx(alloc / 2)  # its mean over its window, off seconds in
