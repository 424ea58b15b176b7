"""The ``hierarchical`` plan: today's Internet, for comparison with the market.

Each provider that is not a backbone (a last mile, a content provider, a
community member) buys transit from one backbone, and providers do not peer:
traffic between two of them climbs to a backbone even where a direct link
joins them.  Backbones peer with each other freely.

Routing, for a packet at switch ``s`` (owned by ``O``) towards a host on a
switch owned by ``D``: the shortest path (the scenario's one rule, see
:mod:`topologies.graph`) over the backbones' switches, ``O``'s and ``D``'s,
using only links inside one provider, links between backbones, and the links
between ``O`` or ``D`` and its transit backbone.  Backbone switches and ``D``'s
own switches route over backbones and ``D`` only, so a packet that has left
``O`` never comes back to it: the forwarding is loop-free, and destination-based
like the ``shortest`` plan (same table layout, :mod:`controller.shortest`).

A provider's transit is the backbone it has the most link capacity to (ties:
the lowest latency of those links, then the backbone's name).  A switch that the
hierarchy leaves with no route to a host (in a last mile with no link to a
backbone, say) takes the next step of its shortest path instead, and
:func:`stranded` names it.  A multihomed host's device belongs to the provider of
its first attachment, as a phone today keeps to one network: its other
attachments join two providers, so the hierarchy uses them only when stranded.
A device first attached to a backbone switch is a provider of its own, with
that backbone for its transit: no other provider climbs through it.

>>> from topologies.loader import load_scenario
>>> s = load_scenario("topologies/library/local-first.yaml")
>>> transit_of(s)["northside"]
'transit'
>>> hierarchical_path(s, "h1", "h3")      # neighbours on two last miles climb to the backbone
('nb1', 'bb-west', 'nb2')
>>> hierarchical_path(s, "h1", "h2")      # neighbours on one last mile stay on it
('nb1',)
"""
from __future__ import annotations

from topologies.model import Scenario

from .ruleplan import RulePlan
from .shortest import host_route_plan

BACKBONE = "backbone"


def transit_of(scenario: Scenario) -> dict[str, str]:
    """Each provider that is not a backbone and has a link to one: its one transit backbone."""
    role = scenario.role_of_switch
    owner = {s.name: s.owner for s in scenario.switches}
    seen: dict[str, dict[str, list]] = {}  # provider -> backbone -> [capacity, lowest latency]
    for link in scenario.links:
        for mine, other in ((link.a, link.b), (link.b, link.a)):
            if role(mine) != BACKBONE and role(other) == BACKBONE:
                entry = seen.setdefault(owner[mine], {}).setdefault(owner[other], [0, link.latency_ms])
                entry[0] += link.capacity_kbps
                entry[1] = min(entry[1], link.latency_ms)
    return {provider: min(backbones, key=lambda b: (-backbones[b][0], backbones[b][1], b))
            for provider, backbones in seen.items()}


class _Hierarchy:
    """Next hops of the hierarchical plan, per destination switch and forwarding owner."""

    def __init__(self, scenario: Scenario, down: frozenset[str]):
        self.scenario = scenario
        self.graph = scenario.graph
        self.owner = {s.name: s.owner for s in scenario.switches}
        self.backbone = scenario.backbone_switches
        self.transit = transit_of(scenario)
        for h in scenario.multihomed:  # a device is a customer of its first attachment's provider
            first = scenario.link[h.attachments[0]].other_end(h.switch)
            if first in self.backbone:  # a backbone's: a provider of its own, with that backbone for transit
                self.owner[h.switch], self.transit[h.switch] = h.switch, self.owner[first]
            else:
                self.owner[h.switch] = self.owner[first]
        self.up = [link for link in scenario.links if link.id not in down]
        self.up_ids = {link.id for link in self.up}
        self._trees: dict[tuple[str, str | None], dict[str, tuple[str, str]]] = {}
        self._full: dict[str, dict[str, tuple[str, str]]] = {}

    def _side(self, switch: str) -> str | None:
        """The provider a switch belongs to in the hierarchy (None: a backbone)."""
        return None if switch in self.backbone else self.owner[switch]

    def _tree(self, root: str, provider: str | None = None) -> dict[str, tuple[str, str]]:
        """The shortest-path tree towards ``root`` on the links the hierarchy allows, over the
        backbones and the root's owner (``provider`` None), or over ``provider``'s switches
        down to those the first tree routes."""
        key = (root, provider)
        if key not in self._trees:
            sides = {None, self._side(root), provider}
            links = set()
            for link in self.up:
                a, b = self._side(link.a), self._side(link.b)
                if a not in sides or b not in sides:
                    continue
                if a == b or (a is None and self.transit.get(b) == self.owner[link.a]) \
                        or (b is None and self.transit.get(a) == self.owner[link.b]):
                    links.add(link.id)
            avoid = {s for s in self.owner if self._side(s) not in sides}
            if provider is not None:  # the provider's packets join the first tree where they leave it
                core = self._tree(root)
                avoid |= {s for s in self.owner if self._side(s) != provider and s not in core}
            self._trees[key] = self.graph.tree_towards(root, links, avoid)
        return self._trees[key]

    def towards(self, root: str) -> tuple[dict[str, tuple[str, str]], list[str]]:
        """For every switch that can reach ``root``: ``(link id, next switch)``; and the switches
        the hierarchy cannot route there, which take their shortest path's next step instead.

        Loop-free: a switch of the root's owner or of a backbone follows the first tree; any
        other provider's switch follows its own tree, which stays in that provider until it
        meets the first tree; and a switch with no route of either kind steps along the
        shortest-path tree until it meets one that has.
        """
        if root not in self._full:
            self._full[root] = self.graph.tree_towards(root, self.up_ids)
        steps, stranded = {}, []
        for switch, step in self._full[root].items():
            side = self._side(switch)
            tree = self._tree(root, side if side != self._side(root) else None)
            if switch in tree:
                steps[switch] = tree[switch]
            else:
                steps[switch] = step
                stranded.append(switch)
        return steps, sorted(stranded)


def host_routes(scenario: Scenario, down: frozenset[str] = frozenset()):
    """For every host and every switch that can reach it: ``(host index, host, switch, out port)``."""
    hierarchy = _Hierarchy(scenario, down)
    graph = scenario.graph
    for i, host in enumerate(scenario.hosts):
        towards, _ = hierarchy.towards(host.switch)
        for switch in scenario.switches:
            if switch.name == host.switch:
                yield i, host, switch, graph.host_port(host.name).number
            elif switch.name in towards:
                yield i, host, switch, graph.link_port(switch.name, towards[switch.name][0]).number


def hierarchical_path(scenario: Scenario, src: str, dst: str, down: frozenset[str] = frozenset(),
                      hierarchy: _Hierarchy | None = None) -> tuple[str, ...]:
    """The switches a packet from host ``src`` to host ``dst`` crosses (none when cut apart)."""
    towards, _ = (hierarchy or _Hierarchy(scenario, down)).towards(scenario.host[dst].switch)
    switches = [scenario.host[src].switch]
    while switches[-1] != scenario.host[dst].switch:
        step = towards.get(switches[-1])
        if step is None:
            return ()
        switches.append(step[1])
    return tuple(switches)


def hierarchical_paths(scenario: Scenario, down: frozenset[str] = frozenset()) -> dict[str, list[list[str]]]:
    """Each demand's one path under the hierarchy."""
    hierarchy = _Hierarchy(scenario, down)
    return {d.id: [list(hierarchical_path(scenario, d.src, d.dst, hierarchy=hierarchy))] for d in scenario.demands}


def stranded(scenario: Scenario, down: frozenset[str] = frozenset()) -> dict[str, list[str]]:
    """Per host: the switches the hierarchy cannot route to it (they take their shortest
    path's next step instead); hosts with none are left out."""
    hierarchy = _Hierarchy(scenario, down)
    found = {h.name: hierarchy.towards(h.switch)[1] for h in scenario.hosts}
    return {host: switches for host, switches in found.items() if switches}


def hierarchical_plan(scenario: Scenario, down: frozenset[str] = frozenset()) -> RulePlan:
    """Flows for every switch: ARP to the controller, one hierarchical route per host."""
    return host_route_plan(scenario, host_routes(scenario, down))
