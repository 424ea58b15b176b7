"""Split each source's arc flows into paths, and the paths among its demands.

A commodity is everything one source switch sends; its flow is decomposed by
walking positive-flow arcs from the source until a switch that absorbs some
of it (a demand's destination), taking the bottleneck each time.  Rates are
then rounded down to whole kbps, so no path set ever exceeds a capacity.

>>> from types import SimpleNamespace as NS
>>> arcs = (NS(index=0, link="l1", tail="a", head="b"), NS(index=1, link="l2", tail="b", head="c"))
>>> decompose_source("a", (5.0, 5.0), {"c": [("d1", 5.0)]}, arcs)
{'d1': [(('l1', 'l2'), ('a', 'b', 'c'), 5.0)]}
"""
from __future__ import annotations

import math

TOLERANCE_KBPS = 1e-3


def whole_kbps(value: float) -> int:
    """Round an LP rate down to whole kbps, forgiving the solver's tolerance."""
    return max(0, math.floor(value + TOLERANCE_KBPS))


def decompose_source(source: str, flow: tuple[float, ...], sinks: dict[str, list[tuple[str, float]]],
                     arcs) -> dict[str, list[tuple[tuple[str, ...], tuple[str, ...], float]]]:
    """Paths per demand for one source switch.

    ``flow`` is the kbps on each arc (indexed like ``arcs``); ``sinks`` maps a
    destination switch to its demands and their served kbps.  Returns
    ``demand -> [(link ids, switches, kbps)]``.
    """
    remaining = list(flow)
    out_arcs: dict[str, list] = {}
    for a in arcs:
        out_arcs.setdefault(a.tail, []).append(a)
    want = {sw: [[d, kbps] for d, kbps in demands if kbps > TOLERANCE_KBPS] for sw, demands in sinks.items()}
    paths: dict[str, list] = {}
    while any(want.values()):
        walk, node, seen = [], source, {source: 0}
        while not (want.get(node) and node != source) or not walk:
            step = max((a for a in out_arcs.get(node, ()) if remaining[a.index] > TOLERANCE_KBPS),
                       key=lambda a: remaining[a.index], default=None)
            if step is None:
                # The LP's flow does not reach the remaining sinks: tolerance residue only.
                return paths
            walk.append(step)
            node = step.head
            if node in seen:  # a cycle carries nothing useful: cancel it and walk on
                cycle = walk[seen[node]:]
                amount = min(remaining[a.index] for a in cycle)
                for a in cycle:
                    remaining[a.index] -= amount
                del walk[seen[node]:]
                seen = {source: 0, **{a.head: i + 1 for i, a in enumerate(walk)}}
                continue
            seen[node] = len(walk)
        demand = want[node][0]
        amount = min(min(remaining[a.index] for a in walk), demand[1])
        for a in walk:
            remaining[a.index] -= amount
        demand[1] -= amount
        if demand[1] <= TOLERANCE_KBPS:
            want[node].pop(0)
        # Never the same links twice for a demand: either an arc of this walk is now
        # empty (its bottleneck) or the demand is served and leaves ``want``.
        paths.setdefault(demand[0], []).append((tuple(a.link for a in walk), (source, *(a.head for a in walk)), amount))
    return paths
