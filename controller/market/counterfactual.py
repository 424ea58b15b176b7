"""Counterfactual optima for VCG: the welfare of the market without each participant.

Optimisers share one signature, ``names -> {name: (welfare, floors_relaxed)}``:
:func:`in_process` re-solves the already solved LP from its optimal basis, one
participant after the other; :func:`in_parallel` spreads the re-solves over
worker processes, each with its own copy of the LP (HiGHS models are not
shared between processes), which pays off only when there are many large
re-solves.  :func:`with_lp_duality` wraps either: a customer whose paths
cross no congested arc is settled from the optimal duals, with no re-solve.
"""
from __future__ import annotations

import multiprocessing
from decimal import Decimal
from typing import Any, Callable, Iterable

from .allocation import Allocation, arc_cost, welfare_of
from .network import Arc, Market
from .wdp import LpSolution

Counterfactuals = Callable[[Iterable[str]], dict[str, tuple[Decimal, bool]]]
#: Either formulation of the market's LP: ``solve(without=, relax_floors=)``.
Solver = Any


def _without(market: Market, lp: Solver, name: str) -> tuple[Decimal, bool]:
    solution = lp.solve(without=name)
    relaxed = solution is None
    if relaxed:  # without it the floors cannot be met: measure against the market without floors
        solution = lp.solve(without=name, relax_floors=True)
    return welfare_of(market, solution), relaxed


def in_process(market: Market, lp: Solver) -> Counterfactuals:
    return lambda names: {name: _without(market, lp, name) for name in names}


_worker: tuple[Market, Solver] | None = None


def _start_worker(market: Market, formulation: type, paths: list) -> None:
    global _worker
    lp = formulation(market)
    if paths:
        lp.add_paths(paths)
    lp.solve()  # the optimal basis every re-solve starts from
    _worker = (market, lp)


def _in_worker(name: str) -> tuple[str, tuple[Decimal, bool]]:
    market, lp = _worker
    return name, _without(market, lp, name)


def in_parallel(market: Market, formulation: type, workers: int, paths: list = ()) -> Counterfactuals:
    """Each worker builds its own ``formulation`` of the market, seeded with
    ``paths`` (column generation's columns so far) when given."""
    def run(names: Iterable[str]) -> dict[str, tuple[Decimal, bool]]:
        names = list(names)
        context = multiprocessing.get_context("spawn")  # no fork of a process holding HiGHS threads
        with context.Pool(workers, initializer=_start_worker, initargs=(market, formulation, list(paths))) as pool:
            return dict(pool.imap_unordered(_in_worker, names))
    return run


#: How close an arc's price must be to the ask of the tier a customer frees for
#: that tier to count as unpriced (the LP's duals are exact to ~1e-12 there).
PRICE_TOLERANCE = 1e-9


def _freed_cost(arc: Arc, load_kbps: int, freed_kbps: int, price: float) -> Decimal | None:
    """The asks saved by carrying ``freed_kbps`` less on ``arc``, or None when a
    tier it frees is priced above its ask (the arc is congested at the margin)."""
    start = 0
    for tier in sorted(arc.tiers, key=lambda t: t.ask_per_mbps):  # the LP fills cheapest first
        end = start + tier.capacity_kbps
        if start < load_kbps and end > load_kbps - freed_kbps:
            if abs(float(tier.ask_per_mbps) - price) > PRICE_TOLERANCE * max(1.0, price):
                return None
        start = end
    return arc_cost(arc, load_kbps) - arc_cost(arc, load_kbps - freed_kbps)


def _without_unpriced_customer(market: Market, solution: LpSolution, alloc: Allocation, name: str,
                               arc_of: dict[tuple[str, str], Arc], buyers_from: dict[str, set[str]]) -> Decimal | None:
    """W* without customer ``name`` with no re-solve, when LP duality allows it.

    Take the customer's paths out of the optimal flow.  When every arc it used
    is priced exactly at the ask of the tiers it frees, no access link it uses
    has a congestion price, and no host floor it shares with others changes,
    the optimal duals still certify the reduced flow as optimal
    (complementary slackness holds row by row), so the counterfactual optimum
    is the current allocation minus the customer: its VCG payment then equals
    its LMP payment.  Otherwise None: re-solve.  ``arc_of`` maps (link, tail)
    to its arc, ``buyers_from`` a host to the buyers of its demands.
    """
    if any(a.seller == name for a in market.arcs):
        return None
    mine = [d for d in market.demands if d.buyer == name]
    floored = dict(market.host_floors)
    for d in mine:
        if d.src in floored and buyers_from[d.src] != {name}:
            return None  # a shared universal-service floor: its row may bind differently
        for key in ((d.src, "up"), (d.dst, "down")):
            if solution.access_price_per_mbps.get(key, 0.0) > PRICE_TOLERANCE:
                return None  # a full access link: freeing it may let others in
    freed: dict[int, int] = {}
    for d in mine:
        for p in alloc.paths[d.id]:
            for link, tail in zip(p.links, p.switches):
                index = arc_of[(link, tail)].index
                freed[index] = freed.get(index, 0) + p.kbps
    saved = Decimal(0)
    for index, kbps in freed.items():
        arc = market.arcs[index]
        cost = _freed_cost(arc, alloc.arc_load_kbps[index], kbps, solution.arc_price_per_mbps[index])
        if cost is None:
            return None
        saved += cost
    return alloc.welfare - alloc.value.get(name, Decimal(0)) + saved


def with_lp_duality(market: Market, solution: LpSolution, alloc: Allocation,
                    optimiser: Counterfactuals, counts: dict | None = None) -> Counterfactuals:
    """``optimiser``, asked only for the participants duality cannot settle;
    ``counts`` receives ``settled_by_duality`` and ``re_solves``."""
    arc_of = {(a.link, a.tail): a for a in market.arcs}
    buyers_from: dict[str, set[str]] = {}
    for d in market.demands:
        buyers_from.setdefault(d.src, set()).add(d.buyer)

    def run(names: Iterable[str]) -> dict[str, tuple[Decimal, bool]]:
        out, rest = {}, []
        for name in names:
            welfare = _without_unpriced_customer(market, solution, alloc, name, arc_of, buyers_from)
            if welfare is None:
                rest.append(name)
            else:
                out[name] = (welfare, False)
        out.update(optimiser(rest) if rest else {})
        if counts is not None:
            counts.update(settled_by_duality=len(out) - len(rest), re_solves=len(rest))
        return out
    return run
