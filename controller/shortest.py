"""The skeleton's planner: proactive shortest-path forwarding between all hosts.

For every destination host, one shortest-path tree (by latency, then hops)
rooted at the host's switch gives each switch its next hop; the flows match on
the destination address, so every pair of hosts is served and the forwarding
is loop-free by construction (each tree is a tree).  ARP goes to the
controller, which answers for known hosts itself.

Table 0 only:

=========  =========================================  ==========================
priority   match                                      actions
=========  =========================================  ==========================
300        ``eth_type=ARP``                           to the controller
100        ``eth_type=IPv4, ipv4_dst=<host>``         output towards the host
(none)     anything else                              dropped (OpenFlow 1.3 miss)
=========  =========================================  ==========================

>>> from topologies.loader import load_scenario
>>> s = load_scenario("topologies/default.yaml")
>>> planned_path(s, "h1", "h4")
('mn1', 'lk1')
>>> len(shortest_path_plan(s).flows) == len(s.switches) * (len(s.hosts) + 1)
True
"""
from __future__ import annotations

import heapq

from topologies.model import Scenario

from .ruleplan import ETH_TYPE_ARP, ETH_TYPE_IP, FlowEntry, Output, RulePlan, ToController, match

PRIORITY_ARP = 300
PRIORITY_HOST_ROUTE = 100
#: Top byte of every cookie this planner writes: 0x01 = "shortest path".
COOKIE_KIND = 0x01 << 56


def host_route_cookie(scenario: Scenario, host: str) -> int:
    """The cookie of the flows that carry traffic to ``host``: kind + host index."""
    return COOKIE_KIND | (list(scenario.host).index(host) + 1)


def next_hops_towards(scenario: Scenario, root: str, down: frozenset[str] = frozenset()) -> dict[str, tuple[str, str]]:
    """Dijkstra from ``root``: ``switch -> (link id, neighbour)`` one step closer to it.

    Costs are (latency, hops, link id) so ties break the same way every time;
    links in ``down`` are left out.
    """
    adjacency: dict[str, list[tuple[str, str, float]]] = {s.name: [] for s in scenario.switches}
    for link in scenario.links:
        if link.id in down:
            continue
        adjacency[link.a].append((link.b, link.id, link.latency_ms))
        adjacency[link.b].append((link.a, link.id, link.latency_ms))
    best: dict[str, tuple] = {root: (0.0, 0, "")}
    towards: dict[str, tuple[str, str]] = {}
    queue = [(0.0, 0, "", root)]
    while queue:
        latency, hops, via, node = heapq.heappop(queue)
        if best.get(node) != (latency, hops, via):
            continue
        for neighbour, link_id, link_latency in adjacency[node]:
            cost = (latency + link_latency, hops + 1, link_id)
            if neighbour not in best or cost < best[neighbour]:
                best[neighbour] = cost
                towards[neighbour] = (link_id, node)
                heapq.heappush(queue, (*cost, neighbour))
    return towards


def planned_path(scenario: Scenario, src: str, dst: str) -> tuple[str, ...]:
    """The switches a packet from host ``src`` to host ``dst`` crosses, in order."""
    towards = next_hops_towards(scenario, scenario.host[dst].switch)
    node, path = scenario.host[src].switch, [scenario.host[src].switch]
    while node != scenario.host[dst].switch:
        node = towards[node][1]
        path.append(node)
    return tuple(path)


def host_routes(scenario: Scenario, down: frozenset[str] = frozenset()):
    """For every host and every switch that can reach it: ``(host index, host, switch, out port)``."""
    for i, host in enumerate(scenario.hosts):
        towards = next_hops_towards(scenario, host.switch, down)
        for switch in scenario.switches:
            if switch.name == host.switch:
                yield i, host, switch, scenario.ports[(switch.name, host.name)]
            elif switch.name in towards:
                yield i, host, switch, scenario.ports[(switch.name, towards[switch.name][0])]


def shortest_path_plan(scenario: Scenario) -> RulePlan:
    """Flows for every switch: ARP to the controller, one route per host."""
    flows: list[FlowEntry] = []
    for switch in scenario.switches:
        flows.append(FlowEntry(dpid=switch.dpid, priority=PRIORITY_ARP, match=match(eth_type=ETH_TYPE_ARP),
                               actions=(ToController(),), cookie=COOKIE_KIND))
    for i, host, switch, port in host_routes(scenario):
        flows.append(FlowEntry(dpid=switch.dpid, priority=PRIORITY_HOST_ROUTE,
                               match=match(eth_type=ETH_TYPE_IP, ipv4_dst=str(host.ip)),
                               actions=(Output(port),), cookie=COOKIE_KIND | (i + 1)))
    return RulePlan(flows=tuple(flows))
