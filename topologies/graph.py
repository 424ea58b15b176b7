"""The one graph of a scenario: typed ports and one shortest-path rule.

Every layer that needs a port number or a shortest path asks this module, so
the loader, the shortest-path plan, the market's backup paths and the
emulated wiring can never disagree.

Ports
    Each switch numbers its ports from 1: attached hosts first (in file
    order), then links (in file order).  A port is typed: it leads to a host
    or to a link, so a host and a link that share a name never collide.

Shortest paths
    One rule, everywhere: the lowest total latency (in whole microseconds,
    so sums are exact), then the fewest hops, then the smallest sequence of
    link ids read from the destination.  Paths are found on the tree rooted
    at the destination, so ``shortest_path(a, b)`` is always the path that
    ``tree_towards(b)`` routes ``a`` along.

>>> from topologies.loader import load_scenario
>>> g = load_scenario("topologies/default.yaml").graph
>>> g.host_port("h1")
Port(switch='mn1', number=1, kind='host', peer='h1')
>>> g.shortest_path("mn1", "lk1")
(('mn1', 'lk1'), ('mn-lk',))
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import TYPE_CHECKING, Collection, Iterable

if TYPE_CHECKING:  # the model imports this module lazily; no cycle at run time
    from .model import Scenario

__all__ = ["Port", "ScenarioGraph", "latency_us"]


def latency_us(latency_ms: float) -> int:
    """A link's latency in whole microseconds, the unit paths are compared in.

    >>> latency_us(2.5), latency_us(0.0004)
    (2500, 0)
    """
    return round(latency_ms * 1000)


@dataclass(frozen=True)
class Port:
    """One OpenFlow port: ``kind`` is ``host`` (``peer`` a host name) or ``link`` (``peer`` a link id)."""

    switch: str
    number: int
    kind: str
    peer: str


class ScenarioGraph:
    """Ports and shortest paths of one scenario; built once, read by every layer."""

    def __init__(self, scenario: "Scenario"):
        # The links, not the scenario: the scenario caches its graph, and a reference back
        # would make a cycle that only the garbage collector's full passes could free.
        self._links = {link.id: link for link in scenario.links}
        next_port = {s.name: 1 for s in scenario.switches}
        self._host: dict[str, Port] = {}
        self._link: dict[tuple[str, str], Port] = {}
        self._at: dict[tuple[str, int], Port] = {}
        for h in scenario.hosts:
            port = Port(h.switch, next_port[h.switch], "host", h.name)
            next_port[h.switch] += 1
            self._host[h.name] = self._at[(h.switch, port.number)] = port
        for link in scenario.links:
            for end in (link.a, link.b):
                port = Port(end, next_port[end], "link", link.id)
                next_port[end] += 1
                self._link[(end, link.id)] = self._at[(end, port.number)] = port
        #: multihomed hosts' device switches: ends of paths, never hops
        self._ends = frozenset(s.name for s in scenario.switches if s.device_of)
        self._adjacent: dict[str, list[tuple[str, str, int]]] = {s.name: [] for s in scenario.switches}
        for link in scenario.links:
            self._adjacent[link.a].append((link.b, link.id, latency_us(link.latency_ms)))
            self._adjacent[link.b].append((link.a, link.id, latency_us(link.latency_ms)))

    # --- ports ----------------------------------------------------------------
    def host_port(self, host: str) -> Port:
        """The port of the host's switch that the host hangs off."""
        return self._host[host]

    def link_port(self, switch: str, link: str) -> Port:
        """The port of ``switch`` at its end of ``link``."""
        return self._link[(switch, link)]

    def port_at(self, switch: str, number: int) -> Port | None:
        return self._at.get((switch, number))

    def ports(self) -> list[Port]:
        """Every port of every switch, hosts' ports first."""
        return [*self._host.values(), *self._link.values()]

    def far_end(self, port: Port) -> tuple[str, int] | None:
        """``(switch, port number)`` at the other end of a link port; None for a host port."""
        if port.kind != "link":
            return None
        other = self._links[port.peer].other_end(port.switch)
        return other, self._link[(other, port.peer)].number

    # --- shortest paths -------------------------------------------------------
    def tree_towards(self, root: str, links: Collection[str] | None = None,
                     avoid: Collection[str] = ()) -> dict[str, tuple[str, str]]:
        """For every switch that can reach ``root``: ``(link id, next switch)`` one step closer.

        Only ``links`` are used (all when None); switches in ``avoid`` are
        neither crossed nor reached, and a multihomed host's device switch is
        reached but never crossed.  The root maps to nothing.
        """
        best: dict[str, tuple] = {root: (0, 0, ())}
        towards: dict[str, tuple[str, str]] = {}
        queue: list[tuple] = [(0, 0, (), root)]
        while queue:
            latency, hops, via, node = heapq.heappop(queue)
            if best[node] != (latency, hops, via) or (node in self._ends and node != root):
                continue
            for neighbour, link, link_latency in self._adjacent[node]:
                if (links is not None and link not in links) or neighbour in avoid:
                    continue
                cost = (latency + link_latency, hops + 1, via + (link,))
                if neighbour not in best or cost < best[neighbour]:
                    best[neighbour] = cost
                    towards[neighbour] = (link, node)
                    heapq.heappush(queue, (*cost, neighbour))
        return towards

    def shortest_path(self, src: str, dst: str, links: Collection[str] | None = None,
                      avoid: Collection[str] = ()) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
        """``(switches, link ids)`` from ``src`` to ``dst`` by the one rule, or None when cut off."""
        if src in avoid or dst in avoid:
            return None
        towards = self.tree_towards(dst, links, avoid)
        switches, hops = [src], []
        while switches[-1] != dst:
            step = towards.get(switches[-1])
            if step is None:
                return None
            hops.append(step[0])
            switches.append(step[1])
        return tuple(switches), tuple(hops)

    def reachable(self, root: str, links: Iterable[str] | None = None) -> set[str]:
        """Switches joined to ``root`` by ``links`` (all links when None), ``root`` included."""
        return {root, *self.tree_towards(root, None if links is None else set(links))}
