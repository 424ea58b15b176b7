"""The skeleton's planner: proactive shortest-path forwarding between all hosts.

For every destination host, one shortest-path tree (the scenario's one rule:
latency, then hops, then link ids; see :mod:`topologies.graph`) rooted at the
host's switch gives each switch its next hop; the flows match on
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

from topologies.model import Scenario

from . import cookies
from .ruleplan import ETH_TYPE_ARP, ETH_TYPE_IP, FlowEntry, Output, RulePlan, ToController, match

PRIORITY_ARP = 300
PRIORITY_HOST_ROUTE = 100


def host_route_cookie(scenario: Scenario, host: str) -> int:
    """The cookie of the flows that carry traffic to ``host`` (kind ``shortest``, the
    host's index), before :func:`controller.cookies.seal` adds its digest."""
    return cookies.make("shortest", 0, list(scenario.host).index(host))


def _up(scenario: Scenario, down: frozenset[str]) -> set[str] | None:
    return None if not down else {l.id for l in scenario.links if l.id not in down}


def planned_path(scenario: Scenario, src: str, dst: str, down: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """The switches a packet from host ``src`` to host ``dst`` crosses, in order
    (none when links in ``down`` cut them apart)."""
    path = scenario.graph.shortest_path(scenario.host[src].switch, scenario.host[dst].switch, _up(scenario, down))
    return path[0] if path else ()


def host_routes(scenario: Scenario, down: frozenset[str] = frozenset()):
    """For every host and every switch that can reach it: ``(host index, host, switch, out port)``.

    Routes follow the scenario's one shortest-path rule (:mod:`topologies.graph`),
    around the links in ``down``.
    """
    graph = scenario.graph
    up = _up(scenario, down)
    for i, host in enumerate(scenario.hosts):
        towards = graph.tree_towards(host.switch, up)
        for switch in scenario.switches:
            if switch.name == host.switch:
                yield i, host, switch, graph.host_port(host.name).number
            elif switch.name in towards:
                yield i, host, switch, graph.link_port(switch.name, towards[switch.name][0]).number


def shortest_path_plan(scenario: Scenario, down: frozenset[str] = frozenset()) -> RulePlan:
    """Flows for every switch: ARP to the controller, one route per host, around ``down`` links."""
    return host_route_plan(scenario, host_routes(scenario, down))


def host_route_plan(scenario: Scenario, routes) -> RulePlan:
    """ARP to the controller on every switch, and ``routes`` (as :func:`host_routes` yields
    them) as destination-matched flows; the table layout above."""
    flows: list[FlowEntry] = []
    for switch in scenario.switches:
        flows.append(FlowEntry(dpid=switch.dpid, priority=PRIORITY_ARP, match=match(eth_type=ETH_TYPE_ARP),
                               actions=(ToController(),), cookie=cookies.make("arp")))
    for i, host, switch, port in routes:
        flows.append(FlowEntry(dpid=switch.dpid, priority=PRIORITY_HOST_ROUTE,
                               match=match(eth_type=ETH_TYPE_IP, ipv4_dst=str(host.ip)),
                               actions=(Output(port),), cookie=cookies.make("shortest", 0, i)))
    return cookies.seal(RulePlan(flows=tuple(flows)))
