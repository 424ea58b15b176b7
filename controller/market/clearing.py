"""Clear a market: winner determination, then the chosen payment rule.

>>> from topologies.loader import load_scenario
>>> r = clear_market(load_scenario("topologies/default.yaml"), "pay-as-bid")
>>> r.budget_balance == r.welfare
True
"""
from __future__ import annotations

import os
import time
from decimal import Decimal

from topologies.model import MARKET_MODES, MECHANISMS, Scenario

from .allocation import allocate
from .counterfactual import FORMULATIONS, counted, expected_work, in_process, optimum_of, with_lp_duality
from .fund import fund_shortfalls
from .network import Market, MarketError, market_from_scenario
from .pathlp import PathLP
from .pricing import latency_notes, unmeetable_bounds
from .payments import arc_prices, lmp_payments, pay_as_bid_payments, settle_demands, vcg_payments
from .result import DemandAllocation, LinkAllocation, MarketResult, ParticipantSettlement, money
from .wdp import WelfareLP
from .workers import WorkerPool

SATURATED = 1e-6  # kbps: an arc this close to its capacity is full
#: VCG re-solves go to worker processes only for markets this large (each
#: worker starts by solving the whole market again).
PARALLEL_ABOVE_DEMANDS = 500
DEFAULT_WORKERS = os.cpu_count() or 1


def explain_infeasible(market: Market, lp: PathLP | WelfareLP) -> MarketError:
    """Which floors fail and which links block them, from the floor-relaxed optimum."""
    relaxed = lp.solve(relax_floors=True)
    slow = unmeetable_bounds(market)
    failing = []
    for d in market.demands:
        if d.floor_kbps and relaxed.x_kbps[d.id] + SATURATED < d.floor_kbps:
            failing.append(f"demand {d.id} floor {d.floor_kbps} kbps (gets {int(relaxed.x_kbps[d.id])}"
                           + (f": no path meets its max_latency_ms {d.max_latency_ms:g})" if d.id in slow else ")"))
    for host, floor in market.host_floors:
        got = sum(relaxed.x_kbps[d.id] for d in market.demands if d.src == host)
        if got + SATURATED < floor:
            failing.append(f"host {host} universal floor {floor} kbps (gets {int(got)})")
    full = sorted({a.link for a in market.arcs if relaxed.arc_load_kbps[a.index] >= a.capacity_kbps - SATURATED})
    full += [f"access of {a.host} ({a.direction})" for a in market.access
             if sum(relaxed.x_kbps[d] for d in a.demands) >= a.kbps - SATURATED]
    blocking = f"; full links: {', '.join(full)}" if full else "; no offered path joins them"
    if any(d.max_latency_ms is not None for d in market.demands):
        blocking += " (within the demands' max_latency_ms)"
    if market.demand_class and market.scenario.market.mode == "poc":
        blocking += " (POC mode: only the core and each access provider's own links carry traffic)"
    return MarketError(f"floors cannot all be met: {', '.join(failing) or 'jointly'}{blocking}")


def clear_market(scenario: Scenario, mechanism: str | None = None, *, options: dict | None = None) -> MarketResult:
    """Allocate capacity and settle payments for one epoch of ``scenario``'s market.

    ``options``: ``{"workers": N}`` caps the processes VCG's re-solves may use on
    large markets (default: one per core; 1 keeps everything in this process);
    ``{"counterfactuals": "dask", "dask": client or scheduler address}`` sends
    them to a Dask cluster instead (see :mod:`.distributed`);
    ``{"duality": False}`` re-solves for every winning customer, even those the
    optimal duals already settle (for checking that shortcut);
    ``{"formulation": "arcs"}`` solves the arc formulation instead of
    generating paths (same optimum; for checking, and slower on large markets).
    Whatever the options, the result is the same (to the byte in its JSON).
    """
    options = options or {}
    mechanism = mechanism or scenario.market.mechanism
    if mechanism not in MECHANISMS:
        raise MarketError(f"unknown mechanism {mechanism!r} (one of: {', '.join(MECHANISMS)})")
    if scenario.market.mode not in MARKET_MODES:
        raise MarketError(f"unknown market mode {scenario.market.mode!r} (one of: {', '.join(MARKET_MODES)})")
    if scenario.market.mode == "poc":
        from .pocclear import clear_poc

        return clear_poc(scenario, mechanism, options)
    formulation = options.get("formulation", "paths")
    if formulation not in FORMULATIONS:
        raise MarketError(f"unknown formulation {formulation!r} (one of: {', '.join(FORMULATIONS)})")
    engine = options.get("counterfactuals", "local")
    if engine not in ("local", "dask"):
        raise MarketError(f"unknown counterfactuals engine {engine!r} (one of: local, dask)")
    workers = options.get("workers", DEFAULT_WORKERS)
    pool = None
    if mechanism == "vcg" and engine == "local" and workers > 1 and len(scenario.demands) >= PARALLEL_ABOVE_DEMANDS:
        pool = WorkerPool(workers - 1)  # started now: the workers load the solver while this process solves
    try:
        return _clear(scenario, mechanism, options, formulation, engine, pool)
    finally:
        if pool is not None:
            pool.close()


def _clear(scenario, mechanism, options, formulation, engine, pool) -> MarketResult:
    timings: dict = {}
    started = time.perf_counter()
    market = market_from_scenario(scenario)
    lp = FORMULATIONS[formulation](market)
    timings["build_s"] = time.perf_counter() - started
    t = time.perf_counter()
    solution = lp.solve()
    if solution is None:
        raise explain_infeasible(market, lp)
    timings["solve_s"] = time.perf_counter() - t
    alloc = allocate(market, solution)
    t = time.perf_counter()
    if mechanism == "vcg":
        optimum = optimum_of(lp)
        if engine == "dask":
            from .distributed import on_dask
            optimiser = on_dask(optimum, options.get("dask"))
        elif pool is not None:
            optimiser = pool.optimiser(optimum, expected_work(market, solution))
        else:
            optimiser = in_process(optimum)
        if options.get("duality", True):
            optimiser = with_lp_duality(market, solution, optimiser, timings)
        else:
            optimiser = counted(optimiser, timings)
        transfers, demand_pays, notes = vcg_payments(market, solution, optimiser)
    elif mechanism == "lmp":
        transfers, demand_pays, notes = lmp_payments(market, solution, alloc)
    else:
        transfers, demand_pays, notes = pay_as_bid_payments(market, alloc)
    transfers, funded = fund_shortfalls(transfers, alloc.value, alloc.cost)
    demand_pays = settle_demands(market, alloc, transfers, demand_pays)
    timings["payments_s"] = time.perf_counter() - t
    timings["total_s"] = time.perf_counter() - started
    links = link_allocations(scenario, market, alloc, arc_prices(solution))
    notes = [*notes, *latency_notes(market)]
    zero = money(0)
    participants = tuple(
        ParticipantSettlement(p.name, p.role, *transfers.get(p.name, (zero, zero)), funded.get(p.name, zero))
        for p in scenario.participants)
    balance = sum((p.pays - p.receives for p in participants), Decimal(0))
    floors_cost = sum((p.funded for p in participants), Decimal(0))
    demands = tuple(DemandAllocation(d.id, d.src, d.dst, alloc.kbps[d.id], alloc.paths[d.id], demand_pays[d.id])
                    for d in market.demands)
    return MarketResult(mechanism, money(alloc.welfare), demands, links, participants, money(balance),
                        tuple(notes), timings, money(floors_cost))


def link_allocations(scenario: Scenario, market: Market, alloc, prices) -> tuple[LinkAllocation, ...]:
    """Per offered link, the load and price of its more loaded direction."""
    links = []
    for link in scenario.links:
        arcs = [a for a in market.arcs if a.link == link.id]
        if not arcs:
            continue
        busiest = max(arcs, key=lambda a: alloc.arc_load_kbps[a.index])
        links.append(LinkAllocation(link.id, link.owner, alloc.arc_load_kbps[busiest.index], prices[busiest.index]))
    return tuple(links)
