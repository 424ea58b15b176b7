"""The hierarchical plan (today's Internet): transit from one backbone, no peering between providers."""
from __future__ import annotations

import itertools

import pytest
import yaml

from controller.hierarchical import (_Hierarchy, hierarchical_path, hierarchical_paths, hierarchical_plan, stranded,
                                     transit_of)
from controller.planner import build_plan
from topologies.generate import generate_world, to_yaml
from topologies.loader import build_scenario, load_scenario, load_scenario_text

from .test_shortest import walk
from .tiny import scenario as tiny


@pytest.fixture(scope="module")
def local_first():
    return load_scenario("topologies/library/local-first.yaml")


def test_neighbours_on_two_last_miles_climb_to_their_transit_even_with_a_direct_link(local_first):
    plan = hierarchical_plan(local_first)
    assert walk(local_first, plan, "h1", "h3") == (["nb1", "bb-west", "nb2"], "h3")
    assert walk(local_first, plan, "h4", "h2") == (["nb2", "bb-west", "nb1"], "h2")
    assert walk(local_first, plan, "h1", "h2") == (["nb1"], "h2")
    assert walk(local_first, plan, "h2", "h5") == (["nb1", "bb-west", "bb-east", "far1"], "h5")


def test_the_planner_reports_the_paths_its_rules_follow(local_first):
    plan = build_plan(local_first, "hierarchical")
    assert plan.allocated_kbps == {} and plan.result is None
    assert plan.paths == {"ann-cy": [["nb1", "bb-west", "nb2"]], "di-bo": [["nb2", "bb-west", "nb1"]],
                          "bo-ed": [["nb1", "bb-west", "bb-east", "far1"]],
                          "ed-ann": [["far1", "bb-east", "bb-west", "nb1"]]}
    assert plan.rules == hierarchical_plan(local_first)


# Two backbones (b1: switches x1, x2; b2: y1), three last miles (p: p1, p2; q: q1; r: r1).
#   p1 -x1 (10 Mbps, 5 ms), p2 - y1 (10 Mbps, 1 ms): p's transit is the tie on capacity, broken by latency
#   q1 - x2 and q1 - y1: a tie on capacity and latency, broken by name
#   r1 - p2 and r1 - q1 only: no transit
#   p1 - p2 inside p (30 ms, longer than through the backbone); x1 - x2, x2 - y1 between backbones
ROLES = {"b1": "backbone", "b2": "backbone", "p": "last_mile", "q": "last_mile", "r": "last_mile"}
SWITCHES = {"x1": "b1", "x2": "b1", "y1": "b2", "p1": "p", "p2": "p", "q1": "q", "r1": "r"}
LINKS = [("x1-x2", "x1", "x2", 1), ("x2-y1", "x2", "y1", 1), ("p1-x1", "p1", "x1", 5), ("p2-y1", "p2", "y1", 1),
         ("p1-p2", "p1", "p2", 30), ("q1-x2", "q1", "x2", 2), ("q1-y1", "q1", "y1", 2), ("r1-p2", "r1", "p2", 1),
         ("r1-q1", "r1", "q1", 1), ("p1-q1", "p1", "q1", 1)]
HOSTS = {"hp1": "p1", "hp2": "p2", "hq": "q1", "hr": "r1", "hx": "x1"}


@pytest.fixture(scope="module")
def hand():
    return tiny(SWITCHES, LINKS, ROLES, HOSTS)


def test_transit_is_the_backbone_with_most_capacity_then_lowest_latency_then_name(hand):
    assert transit_of(hand) == {"p": "b2", "q": "b1"}  # p: 1 ms beats 5 ms; q: b1 before b2; r: none


def test_no_packet_crosses_a_link_between_two_providers_or_a_backbone_not_its_transit(hand):
    plan = hierarchical_plan(hand)
    # p to q: not over the 1 ms p1 - q1 link; p1 goes inside p to its transit b2, then to q's transit b1
    assert walk(hand, plan, "hp1", "hq") == (["p1", "p2", "y1", "x2", "q1"], "hq")
    assert walk(hand, plan, "hq", "hp1") == (["q1", "x2", "y1", "p2", "p1"], "hp1")
    # inside p: the slow internal link, since p1's only link to a backbone is not to p's transit
    assert walk(hand, plan, "hp1", "hp2") == (["p1", "p2"], "hp2")
    # a backbone host reaches p over p's transit only, never x1 - p1
    assert walk(hand, plan, "hx", "hp1") == (["x1", "x2", "y1", "p2", "p1"], "hp1")


def test_a_provider_with_no_transit_is_reached_and_left_by_shortest_steps(hand):
    # r buys no transit: towards hr every switch outside r is stranded, and so is r1 towards anyone
    assert stranded(hand) == {"hr": ["p1", "p2", "q1", "x1", "x2", "y1"], "hp1": ["r1"], "hp2": ["r1"],
                              "hq": ["r1"], "hx": ["r1"]}
    plan = hierarchical_plan(hand)
    assert walk(hand, plan, "hx", "hr") == (["x1", "x2", "q1", "r1"], "hr")
    # r1's shortest step to p1 is q1 (2 ms, not 31 via p2); from q1 on, the hierarchy routes
    assert walk(hand, plan, "hr", "hp1") == (["r1", "q1", "x2", "y1", "p2", "p1"], "hp1")


def test_a_link_down_moves_the_route_and_can_strand_a_last_mile(local_first):
    assert stranded(local_first) == {}
    down = frozenset({"up-s"})  # southside loses its transit: only the direct link is left
    assert stranded(local_first, down) == {"h3": ["bb-east", "bb-west", "far1", "nb1"],
                                           "h4": ["bb-east", "bb-west", "far1", "nb1"],
                                           **{h: ["nb2"] for h in ("h1", "h2", "h5")}}
    assert hierarchical_path(local_first, "h1", "h3", down) == ("nb1", "nb2")
    assert hierarchical_path(local_first, "h5", "h4", down) == ("far1", "bb-east", "bb-west", "nb1", "nb2")
    assert hierarchical_path(local_first, "h3", "h5", down) == ("nb2", "nb1", "bb-west", "bb-east", "far1")
    assert hierarchical_paths(local_first, frozenset({"up-s", "direct"}))["ann-cy"] == [[]]


# A trap: b1's switch x1 joins only p's two switches, and p1 - q1 is a peering link.
#   p1 - x1 - p2 (1 ms each) is p's quickest way inside, but x1 has no route to q over backbones
#   (its shortest step towards q1 is back to p1): p's packets must not enter x1.
#   p has 30 Mbps to b1 (x1 twice, x2) and 10 Mbps to b2 (y1, 0.5 ms): capacity picks b1.
TRAP_SWITCHES = {"x1": "b1", "x2": "b1", "y1": "b2", "p1": "p", "p2": "p", "q1": "q"}
TRAP_LINKS = [("x1-p1", "x1", "p1", 1), ("x1-p2", "x1", "p2", 1), ("p1-p2", "p1", "p2", 30), ("p2-x2", "p2", "x2", 1),
              ("p2-y1", "p2", "y1", 0.5), ("x2-y1", "x2", "y1", 1), ("q1-x2", "q1", "x2", 1), ("p1-q1", "p1", "q1", 1)]


def test_a_provider_never_routes_through_a_backbone_switch_that_cannot_go_on():
    trap = tiny(TRAP_SWITCHES, TRAP_LINKS, {"b1": "backbone", "b2": "backbone", "p": "last_mile", "q": "last_mile"},
                {"hp": "p1", "hq": "q1"})
    assert transit_of(trap) == {"p": "b1", "q": "b1"}
    assert walk(trap, hierarchical_plan(trap), "hp", "hq") == (["p1", "p2", "x2", "q1"], "hq")
    assert stranded(trap) == {"hq": ["x1"]}


@pytest.mark.parametrize("seed", range(12))
def test_generated_worlds_every_pair_reaches_loop_free_and_never_peers(seed):
    s = load_scenario_text(to_yaml(generate_world(backbones=2, backbone_switches=3, last_miles=4, hosts_per_last_mile=1,
                                                  last_mile_switches=2, content=1, direct_probability=0.6, demands=3, seed=seed)))
    plan = hierarchical_plan(s)
    owner = {sw.name: sw.owner for sw in s.switches}
    backbone = {sw.name for sw in s.switches if s.role_of_switch(sw.name) == "backbone"}
    transit = transit_of(s)
    lost = stranded(s)
    for src, dst in itertools.permutations(s.host, 2):
        crossed, reached = walk(s, plan, src, dst)  # walk fails on a loop or a missing route
        assert reached == dst
        assert tuple(crossed) == hierarchical_path(s, src, dst)
        for a, b in zip(crossed, crossed[1:]):
            if a in lost.get(dst, ()):
                continue
            if a in backbone and b in backbone:
                continue
            if a not in backbone and b not in backbone:
                assert owner[a] == owner[b], f"{src} -> {dst}: peering over {a} - {b}"
            else:
                provider, bb = (a, b) if b in backbone else (b, a)
                assert transit.get(owner[provider]) == owner[bb], f"{src} -> {dst}: {a} - {b} is not a transit link"


def test_a_multihomed_host_keeps_to_its_first_provider_and_uses_the_other_only_when_cut_off():
    s = load_scenario("topologies/library/multihomed.yaml")
    assert hierarchical_path(s, "phone", "web") == ("phone-d", "cell", "core", "dc")
    assert hierarchical_path(s, "web", "phone") == ("dc", "core", "cell", "phone-d")
    assert stranded(s) == {}
    cut = frozenset({"ph-cell"})  # its first attachment fails: the hierarchy strands it, and it falls back
    assert hierarchical_path(s, "phone", "web", cut) == ("phone-d", "home", "core", "dc")
    assert stranded(s, cut)["web"] == ["phone-d"]
    for seed in range(4):  # generated worlds: no switch stranded, no device crossed, no loop
        w = build_scenario(generate_world(last_miles=4, hosts_per_last_mile=2, demands=16, seed=seed, multihomed=3),
                           {}, "<generated>")
        devices = {h.switch for h in w.multihomed}
        assert stranded(w) == {}, seed
        for a in w.hosts:
            for b in w.hosts:
                if a != b:
                    path = hierarchical_path(w, a.name, b.name)
                    assert path and len(set(path)) == len(path) and not devices & set(path[1:-1]), (seed, path)


def test_a_device_first_attached_to_a_backbone_keeps_to_it_and_is_crossed_by_nobody():
    from ..market.test_multihomed import core_first

    s = load_scenario_text(yaml.safe_dump(core_first()), "core-first.yaml")
    assert hierarchical_path(s, "web", "phone") == ("dc", "core", "phone-d")
    assert hierarchical_path(s, "phone", "web") == ("phone-d", "core", "dc")
    assert stranded(s) == {}  # it had stranded every switch towards the phone, and the device towards web
    for a in s.hosts:  # cell and home climb to core themselves, never through the device
        towards, _ = _Hierarchy(s, frozenset()).towards(a.switch)
        assert all(step[1] != "phone-d" or a.switch == "phone-d" for step in towards.values()), towards
    cut = frozenset({"ph-core"})  # its first attachment fails: stranded, it falls back as any device does
    assert stranded(s, cut)["web"] == ["phone-d"]
    assert hierarchical_path(s, "phone", "web", cut) == ("phone-d", "home", "core", "dc")
