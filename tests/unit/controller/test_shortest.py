"""The skeleton's shortest-path plan, walked through a tiny fake flow table."""
from __future__ import annotations

import itertools

import pytest

from controller.ruleplan import ETH_TYPE_ARP, ETH_TYPE_IP, Output, ToController
from controller.shortest import host_route_cookie, planned_path, shortest_path_plan
from topologies.loader import load_scenario, load_scenario_text


@pytest.fixture(scope="module")
def default():
    return load_scenario("topologies/default.yaml")


def neighbour_at(scenario, switch: str, port: int) -> tuple[str, str]:
    """('host', name) or ('switch', name) at the far end of ``port`` of ``switch``."""
    p = scenario.graph.port_at(switch, port)
    assert p is not None, f"{switch} has no port {port}"
    return ("host", p.peer) if p.kind == "host" else ("switch", scenario.link[p.peer].other_end(switch))


def walk(scenario, plan, src: str, dst: str) -> tuple[list[str], str]:
    """Follow an IPv4 packet hop by hop: the switches crossed and the host reached."""
    packet = {"eth_type": ETH_TYPE_IP, "ipv4_src": str(scenario.host[src].ip), "ipv4_dst": str(scenario.host[dst].ip)}
    switch, crossed = scenario.host[src].switch, []
    while True:
        assert switch not in crossed, f"loop: {crossed + [switch]}"
        crossed.append(switch)
        dpid = scenario.switch[switch].dpid
        hits = [f for f in plan.flows if f.dpid == dpid and all(packet.get(k) == v for k, v in f.match)]
        assert hits, f"no flow for {packet} on {switch}"
        best = max(f.priority for f in hits)
        top = [f for f in hits if f.priority == best]
        assert len(top) == 1, f"ambiguous flows on {switch}"
        (action,) = top[0].actions
        assert isinstance(action, Output)
        kind, name = neighbour_at(scenario, switch, action.port)
        if kind == "host":
            return crossed, name
        switch = name


def test_every_pair_reaches_its_destination_along_the_planned_path(default):
    plan = shortest_path_plan(default)
    for src, dst in itertools.permutations(default.host, 2):
        crossed, reached = walk(default, plan, src, dst)
        assert reached == dst
        assert tuple(crossed) == planned_path(default, src, dst)


def test_arp_goes_to_the_controller_on_every_switch(default):
    plan = shortest_path_plan(default)
    arp = [f for f in plan.flows if dict(f.match).get("eth_type") == ETH_TYPE_ARP]
    assert sorted(f.dpid for f in arp) == sorted(s.dpid for s in default.switches)
    assert all(f.actions == (ToController(),) for f in arp)


def test_neighbours_on_a_direct_link_skip_the_backbone(default):
    assert planned_path(default, "h1", "h4") == ("mn1", "lk1")
    assert planned_path(default, "h3", "h2") == ("mn1",)


def test_paths_prefer_low_latency_over_few_hops():
    s = load_scenario_text("""
name: tri
participants:
  - {name: p, role: backbone}
  - {name: lm, role: last_mile, prefix: 198.18.0.0/24}
switches:
  - {name: a, owner: lm}
  - {name: b, owner: p}
  - {name: c, owner: lm}
hosts:
  - {name: x, owner: lm, switch: a}
  - {name: y, owner: lm, switch: c}
links:
  - {id: slow, a: a, b: c, capacity: 1Mbps, latency_ms: 50, owner: lm}
  - {id: ab, a: a, b: b, capacity: 1Mbps, latency_ms: 5, owner: p}
  - {id: bc, a: b, b: c, capacity: 1Mbps, latency_ms: 5, owner: p}
""")
    assert planned_path(s, "x", "y") == ("a", "b", "c")
    crossed, reached = walk(s, shortest_path_plan(s), "x", "y")
    assert (tuple(crossed), reached) == (("a", "b", "c"), "y")


def test_cookies_name_the_destination_host(default):
    plan = shortest_path_plan(default)
    to_h4 = {f.cookie & ~0xFFFF for f in plan.flows if dict(f.match).get("ipv4_dst") == str(default.host["h4"].ip)}
    assert to_h4 == {host_route_cookie(default, "h4")}  # the low 16 bits are the digest of what the flow does
