"""Pricing paths under restrictions: the arcs a demand may use (POC mode) and the
latency it may take (``max_latency_ms``).

Column generation (:mod:`.pathlp`) prices every demand with one Dijkstra per
source switch over all open arcs.  That path is a lower bound for a restricted
demand: when it is allowed and fast enough, it is the answer.  Otherwise:

* a demand with allowed arcs only: Dijkstra again over those arcs (scipy, one
  per class of arcs and source switch, kept for the round);
* a demand with a latency bound: the cheapest path within it, by label setting
  (:func:`.rcsp.cheapest_within`), over the arcs it may use.

Either search gives up as soon as it is clear that no path beats the demand's
``budget`` (its value, less the duals of its rows, less the pricing tolerance):
that path would not improve welfare.

>>> import numpy as np
>>> from types import SimpleNamespace as NS
>>> # 0 -> 1 -> 2 (10 ms each) is cheap; 0 -> 2 (5 ms) is dear; the demand wants 8 ms at most.
>>> pricing = RestrictedPricing(3, [0, 1, 0], [1, 2, 2], [10.0, 10.0, 5.0], [0], [2],
...                             [NS(id="d", max_latency_ms=8.0)], {}, ())
>>> r = pricing.round(np.array([1.0, 1.0, 5.0]), np.zeros(3, dtype=bool))
>>> r.path(0, (0, 1), budget=10.0), r.path(0, (0, 1), budget=4.0)
((2,), None)
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra

from .rcsp import LATENCY_TOLERANCE, cheapest_within, fastest_to

__all__ = ["cheapest_graph", "walk", "RestrictedPricing", "unmeetable_bounds", "latency_notes"]


def cheapest_graph(weight: np.ndarray, arcs: np.ndarray, tail: np.ndarray, head: np.ndarray, n: int):
    """The graph Dijkstra prices on: of parallel arcs in ``arcs`` only the cheapest
    of each (tail, head) counts.  Returns the sparse graph and ``(tail, head) -> arc``."""
    by_weight = arcs[np.argsort(weight[arcs], kind="stable")]
    _, first = np.unique(tail[by_weight] * n + head[by_weight], return_index=True)
    chosen = by_weight[first]
    graph = csr_matrix((weight[chosen], (tail[chosen], head[chosen])), shape=(n, n))
    return graph, dict(zip(zip(tail[chosen].tolist(), head[chosen].tolist()), chosen.tolist()))


def walk(pred: np.ndarray, source: int, target: int, arc_of: Mapping[tuple[int, int], int]) -> tuple[int, ...]:
    """The arcs from ``source`` to ``target`` along Dijkstra's predecessors."""
    node, hops = target, []
    while node != source:
        prev = int(pred[node])
        hops.append(arc_of[(prev, node)])
        node = prev
    return tuple(reversed(hops))


class RestrictedPricing:
    """What the pricing of one LP needs to know about its restricted demands.

    ``tail``, ``head`` and ``latency`` describe the arcs (node numbers, ms);
    ``demands``, ``sources`` and ``targets`` are the LP's network demands and
    their switches' node numbers; ``demand_class`` and ``classes`` say which
    arcs a demand may use (all when it has no class).
    """

    def __init__(self, n: int, tail: Sequence[int], head: Sequence[int], latency: Sequence[float],
                 sources: Sequence[int], targets: Sequence[int], demands: Sequence,
                 demand_class: Mapping[str, int], classes: Sequence[frozenset[int]]):
        self.n = n
        self.tail = np.asarray(tail, dtype=np.int64)
        self.head = np.asarray(head, dtype=np.int64)
        self.latency = [float(x) for x in latency]
        self.sources, self.targets = list(sources), list(targets)
        self.bound = [d.max_latency_ms for d in demands]
        self.klass = [demand_class.get(d.id) for d in demands]
        self.masks = []
        for allowed in classes:
            mask = np.zeros(len(self.latency), dtype=bool)
            mask[list(allowed)] = True
            self.masks.append(mask)
        self.restricted = np.array([k is not None or b is not None for k, b in zip(self.klass, self.bound)], dtype=bool)

    def round(self, weight: np.ndarray, banned: np.ndarray) -> "PricingRound":
        return PricingRound(self, weight, banned)


class PricingRound:
    """One pricing round: the arc weights of the current duals, searches kept per class."""

    def __init__(self, pricing: RestrictedPricing, weight: np.ndarray, banned: np.ndarray):
        self.p, self.weight, self.banned = pricing, weight, banned
        self._graphs: dict = {}
        self._trees: dict = {}
        self._arc_lists: dict = {}

    def _usable(self, klass: int | None) -> np.ndarray:
        ok = ~self.banned
        return ok if klass is None else ok & self.p.masks[klass]

    def path(self, i: int, found: tuple[int, ...], budget: float) -> tuple[int, ...] | None:
        """The path demand ``i`` should get, given ``found`` (the unrestricted cheapest,
        worth adding under ``budget``): ``found`` itself when it is allowed, else the
        cheapest allowed path under ``budget``, or None."""
        p = self.p
        klass, bound = p.klass[i], p.bound[i]
        allowed = klass is None or all(p.masks[klass][a] for a in found)
        fast = bound is None or math.fsum(p.latency[a] for a in found) <= bound + LATENCY_TOLERANCE
        if allowed and fast:
            return found
        if bound is None:
            return self._dijkstra(i, klass, budget)
        return self._within(i, klass, bound, budget)

    def _dijkstra(self, i: int, klass: int, budget: float) -> tuple[int, ...] | None:
        p = self.p
        if klass not in self._graphs:
            self._graphs[klass] = cheapest_graph(self.weight, np.flatnonzero(self._usable(klass)), p.tail, p.head, p.n)
        graph, arc_of = self._graphs[klass]
        key = (klass, p.sources[i])
        if key not in self._trees:
            self._trees[key] = dijkstra(graph, indices=p.sources[i], return_predecessors=True)
        dist, pred = self._trees[key]
        if not dist[p.targets[i]] < budget:
            return None
        return walk(pred, p.sources[i], p.targets[i], arc_of)

    def _within(self, i: int, klass: int | None, bound: float, budget: float) -> tuple[int, ...] | None:
        p = self.p
        if klass not in self._arc_lists:
            usable = np.flatnonzero(self._usable(klass))
            self._arc_lists[klass] = (usable, [(int(p.tail[a]), int(p.head[a]), float(self.weight[a]), p.latency[a])
                                               for a in usable.tolist()])
        usable, arcs = self._arc_lists[klass]
        found = cheapest_within(p.n, arcs, p.sources[i], p.targets[i], bound, budget)
        return None if found is None else tuple(int(usable[k]) for k in found[1])


def unmeetable_bounds(market, banned: frozenset[int] = frozenset()) -> dict[str, float]:
    """Demands no path they may use (arcs in ``banned`` out) can serve: those whose
    ``max_latency_ms`` no such path meets, and, in a market that drops them (POC
    mode), those no such path joins at all; with the fastest such path's latency
    (inf when none joins their hosts)."""
    node = {s.name: i for i, s in enumerate(market.scenario.switches)}
    n = len(node)
    arc_lists: dict = {}
    trees: dict = {}
    parts: dict = {}

    def usable(klass):
        if klass not in arc_lists:
            allowed = None if klass is None else market.arc_classes[klass]
            arc_lists[klass] = [(node[a.tail], node[a.head], 0.0, a.latency_ms) for a in market.arcs
                                if a.index not in banned and (allowed is None or a.index in allowed)]
        return arc_lists[klass]

    out = {}
    for d in market.demands:
        src, dst = node[market.src_switch(d)], node[market.dst_switch(d)]
        if src == dst or (d.max_latency_ms is None and not market.drops_unroutable):
            continue
        klass = market.demand_class.get(d.id)
        if d.max_latency_ms is not None:
            if (klass, dst) not in trees:
                trees[(klass, dst)] = fastest_to(n, usable(klass), dst)
            fastest = trees[(klass, dst)][src]
            if fastest > d.max_latency_ms + LATENCY_TOLERANCE:
                out[d.id] = fastest
            continue
        if klass not in parts:
            arcs = usable(klass)
            graph = csr_matrix((np.ones(len(arcs)), ([a[0] for a in arcs], [a[1] for a in arcs])), shape=(n, n))
            parts[klass] = connected_components(graph, directed=False)[1]
        if parts[klass][src] != parts[klass][dst]:
            out[d.id] = math.inf
    return out


def latency_notes(market) -> list[str]:
    """One note per demand the market cannot serve within its ``max_latency_ms``."""
    notes = []
    for demand, fastest in unmeetable_bounds(market).items():
        bound = next(d.max_latency_ms for d in market.demands if d.id == demand)
        if bound is None:
            continue  # a demand POC mode cannot route at all: poc.py notes it
        why = ("no path it may use joins its hosts" if math.isinf(fastest)
               else f"the fastest path it may use takes {fastest:g} ms")
        notes.append(f"demand {demand} cannot be served within its max_latency_ms {bound:g}: {why}")
    return notes


def floors_without(market, without: str | None, banned: frozenset[int]) -> tuple[set[str], dict[str, int]] | None:
    """The floors of a counterfactual without ``without``'s demands (None: every demand
    stays) and with its arcs ``banned``, when
    taking it out leaves demands that no path serves any more (see
    :func:`unmeetable_bounds`): the demands that lose their floor (POC mode) and
    each floored host's universal floor.  None when nothing changes."""
    cut = unmeetable_bounds(market, banned)
    if cut.keys() == unmeetable_bounds(market).keys():
        return None
    floor = market.scenario.market.universal_floor_kbps
    hosts = {}
    for host, _ in market.host_floors:
        asked = sum(d.max_kbps for d in market.demands if d.src == host and d.id not in cut and d.buyer != without)
        hosts[host] = min(floor, asked)
    return (set(cut) if market.drops_unroutable else set()), hosts
