"""The cheapest path whose summed latency meets a bound: a resource-constrained
shortest path, for pricing the paths of demands that carry ``max_latency_ms``.

Label setting (Desrochers and Soumis): a label is a partial path from the source,
with its cost and its latency; labels leave a heap cheapest first, so the first
label to reach the destination is the cheapest path within the bound.  A label
is dropped when another at the same switch is no dearer and no slower (it is
dominated: nothing it can become beats what the other can), when even the
fastest way on cannot meet the bound, or when even the cheapest way on cannot
beat ``budget`` (the pricing only wants paths that improve welfare).  Both
lower bounds come from one backward Dijkstra each, from the destination.

Costs must be non-negative (the pricing's arc weights are) and latencies too.
The problem is NP-hard in general; with these bounds the markets of this
project (up to a few hundred switches) take milliseconds per demand.

>>> # 0 -a-> 1 -b-> 2 is cheap and slow; 0 -c-> 2 is dear and fast.
>>> arcs = [(0, 1, 1.0, 10.0), (1, 2, 1.0, 10.0), (0, 2, 5.0, 5.0)]
>>> cheapest_within(3, arcs, 0, 2, max_latency=100.0)
(2.0, (0, 1))
>>> cheapest_within(3, arcs, 0, 2, max_latency=15.0)
(5.0, (2,))
>>> cheapest_within(3, arcs, 0, 2, max_latency=4.0) is None
True
"""
from __future__ import annotations

import heapq
import math
from typing import Iterable, Sequence

__all__ = ["cheapest_within", "fastest_latency", "fastest_to"]

#: latencies are sums of floats from the scenario: a path this close to the bound meets it
LATENCY_TOLERANCE = 1e-9


def _backward(n: int, arcs: Sequence[tuple[int, int, float, float]], target: int, key: int) -> list[float]:
    """Least sum of ``arc[key]`` from every node to ``target`` (inf where cut off)."""
    into: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    for arc in arcs:
        into[arc[1]].append((arc[0], arc[key]))
    best = [math.inf] * n
    best[target] = 0.0
    queue = [(0.0, target)]
    while queue:
        d, node = heapq.heappop(queue)
        if d > best[node]:
            continue
        for tail, w in into[node]:
            if d + w < best[tail]:
                best[tail] = d + w
                heapq.heappush(queue, (d + w, tail))
    return best


def fastest_to(n: int, arcs: Sequence[tuple[int, int, float, float]], target: int) -> list[float]:
    """The least summed latency from every node to ``target`` (inf where cut off)."""
    return _backward(n, arcs, target, 3)


def fastest_latency(n: int, arcs: Iterable[tuple[int, int, float, float]], source: int, target: int) -> float:
    """The least summed latency of any path from ``source`` to ``target`` (inf when none).

    >>> fastest_latency(3, [(0, 1, 1.0, 10.0), (1, 2, 1.0, 10.0), (0, 2, 5.0, 5.0)], 0, 2)
    5.0
    """
    return _backward(n, list(arcs), target, 3)[source]


def cheapest_within(n: int, arcs: Sequence[tuple[int, int, float, float]], source: int, target: int,
                    max_latency: float, budget: float = math.inf) -> tuple[float, tuple[int, ...]] | None:
    """``(cost, arc indices)`` of the cheapest path from ``source`` to ``target``
    whose latency is at most ``max_latency``, among paths cheaper than ``budget``;
    None when there is none.

    ``arcs[i]`` is ``(tail, head, cost, latency)`` for arc ``i``; nodes are ``0..n-1``.
    """
    if source == target:
        return (0.0, ()) if budget > 0 else None
    fastest = _backward(n, arcs, target, 3)
    if fastest[source] > max_latency + LATENCY_TOLERANCE:
        return None
    cheapest = _backward(n, arcs, target, 2)
    out: list[list[tuple[int, float, float, int]]] = [[] for _ in range(n)]
    for i, (tail, head, cost, latency) in enumerate(arcs):
        out[tail].append((i, head, cost, latency))
    # A label: (cost, latency, node, arc that reached it, parent label); kept in `labels`.
    labels: list[tuple[float, float, int, int, int]] = [(0.0, 0.0, source, -1, -1)]
    at: list[list[tuple[float, float]]] = [[] for _ in range(n)]
    at[source].append((0.0, 0.0))
    queue = [(0.0, 0.0, 0)]
    while queue:
        cost, latency, index = heapq.heappop(queue)
        node = labels[index][2]
        if node == target:
            hops = []
            while labels[index][3] >= 0:
                hops.append(labels[index][3])
                index = labels[index][4]
            return cost, tuple(reversed(hops))
        for arc, head, arc_cost, arc_latency in out[node]:
            c, lat = cost + arc_cost, latency + arc_latency
            if lat + fastest[head] > max_latency + LATENCY_TOLERANCE or c + cheapest[head] >= budget:
                continue
            if any(oc <= c and ol <= lat + LATENCY_TOLERANCE for oc, ol in at[head]):
                continue  # dominated (this also ends every cycle: costs are positive)
            at[head].append((c, lat))
            labels.append((c, lat, head, arc, index))
            heapq.heappush(queue, (c, lat, len(labels) - 1))
    return None
