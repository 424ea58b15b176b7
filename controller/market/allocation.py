"""From an LP solution to whole-kbps paths per demand, and the money of both.

>>> from topologies.loader import load_scenario
>>> from controller.market.network import market_from_scenario
>>> from controller.market.wdp import WelfareLP
>>> m = market_from_scenario(load_scenario("topologies/default.yaml"))
>>> a = allocate(m, WelfareLP(m).solve())
>>> a.kbps["chloe-ben"]  # neighbours on one switch need no link at all
5000
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from .decompose import decompose_source, whole_kbps
from .network import Arc, Market
from .result import PathFlow
from .wdp import LpSolution


@dataclass(frozen=True)
class Allocation:
    """Whole-kbps outcome: paths and rates per demand, load per arc, money per party."""

    paths: dict[str, tuple[PathFlow, ...]]
    kbps: dict[str, int]
    arc_load_kbps: tuple[int, ...]
    value: dict[str, Decimal]  # participant -> value of what it was served
    cost: dict[str, Decimal]   # participant -> cost (asks) of what it sold

    @property
    def welfare(self) -> Decimal:
        return sum(self.value.values(), Decimal(0)) - sum(self.cost.values(), Decimal(0))


def arc_cost(arc: Arc, load_kbps: int) -> Decimal:
    """The asks of ``load_kbps`` on ``arc``, cheapest tier first (what the LP does)."""
    cost, left = Decimal(0), load_kbps
    for tier in sorted(arc.tiers, key=lambda t: t.ask_per_mbps):
        take = min(left, tier.capacity_kbps)
        cost += tier.ask_per_mbps * take / 1000
        left -= take
    return cost


def _raw_paths(market: Market, solution: LpSolution) -> dict[str, list]:
    """demand -> [(link ids, switches, kbps)]: the solver's own paths, or a
    decomposition of each source's flows."""
    if solution.paths is not None:
        arcs = market.arcs
        return {d: [(tuple(arcs[i].link for i in hops), (arcs[hops[0]].tail, *(arcs[i].head for i in hops)), kbps)
                    for hops, kbps in paths if hops]
                for d, paths in solution.paths.items()}
    by_source: dict[str, dict[str, list[tuple[str, float]]]] = {}
    for d in market.demands:
        src, dst = market.src_switch(d), market.dst_switch(d)
        if src != dst:
            by_source.setdefault(src, {}).setdefault(dst, []).append((d.id, solution.x_kbps[d.id]))
    raw: dict[str, list] = {}
    for source, sinks in by_source.items():
        raw.update(decompose_source(source, solution.flows_kbps[source], sinks, market.arcs))
    return raw


def allocate(market: Market, solution: LpSolution) -> Allocation:
    raw = _raw_paths(market, solution)
    arc_of = {(a.link, a.tail): a for a in market.arcs}
    loads = [0] * len(market.arcs)
    paths: dict[str, tuple[PathFlow, ...]] = {}
    kbps: dict[str, int] = {}
    value: dict[str, Decimal] = {}
    for d in market.demands:
        if market.src_switch(d) == market.dst_switch(d):
            flows = (PathFlow((), (market.src_switch(d),), whole_kbps(solution.x_kbps[d.id])),)
        else:
            flows = tuple(PathFlow(links, sws, whole_kbps(r)) for links, sws, r in raw.get(d.id, ()) if whole_kbps(r) > 0)
        for p in flows:
            for link, tail in zip(p.links, p.switches):
                loads[arc_of[(link, tail)].index] += p.kbps
        paths[d.id] = flows
        kbps[d.id] = sum(p.kbps for p in flows)
        value[d.buyer] = value.get(d.buyer, Decimal(0)) + d.value_per_mbps * kbps[d.id] / 1000
    cost: dict[str, Decimal] = {}
    for a in market.arcs:
        if loads[a.index]:
            cost[a.seller] = cost.get(a.seller, Decimal(0)) + arc_cost(a, loads[a.index])
    return Allocation(paths, kbps, tuple(loads), value, cost)


def tier_cost(arc: Arc, load_mbps: float) -> float:
    """:func:`arc_cost` in floats, for loads straight from the LP."""
    cost, left = [], load_mbps
    for tier in sorted(arc.tiers, key=lambda t: t.ask_per_mbps):
        take = min(left, tier.capacity_kbps / 1000)
        cost.append(float(tier.ask_per_mbps) * take)
        left -= take
    return math.fsum(cost)


def lp_accounts(market: Market, solution: LpSolution) -> tuple[dict[str, float], dict[str, float]]:
    """Per participant, the value it is served and the asks it sells, from the
    LP's own rates (no rounding, no tie-break): what VCG's transfers are made of."""
    value: dict[str, list[float]] = {}
    for d in market.demands:
        value.setdefault(d.buyer, []).append(float(d.value_per_mbps) * solution.x_kbps[d.id] / 1000)
    cost: dict[str, list[float]] = {}
    for a in market.arcs:
        cost.setdefault(a.seller, []).extend(float(t.ask_per_mbps) * y for t, y in zip(a.tiers, solution.sold_mbps[a.index]))
    return {k: math.fsum(v) for k, v in value.items()}, {k: math.fsum(v) for k, v in cost.items()}


def lp_paths(market: Market, solution: LpSolution) -> dict[str, list[tuple[tuple[int, ...], float]]]:
    """demand -> [(arc indices, kbps)]: the LP's flows as paths, before rounding."""
    arc_of = {(a.link, a.tail): a.index for a in market.arcs}
    return {d: [(tuple(arc_of[(link, tail)] for link, tail in zip(links, switches)), kbps) for links, switches, kbps in paths]
            for d, paths in _raw_paths(market, solution).items()}
