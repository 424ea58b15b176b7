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

from topologies.model import MECHANISMS, Scenario

from .allocation import allocate
from .counterfactual import in_parallel, in_process, with_lp_duality
from .network import Market, MarketError, market_from_scenario
from .payments import arc_prices, lmp_payments, pay_as_bid_payments, vcg_payments
from .result import DemandAllocation, LinkAllocation, MarketResult, ParticipantSettlement, money
from .pathlp import PathLP
from .wdp import WelfareLP

SATURATED = 1e-6  # kbps: an arc this close to its capacity is full
#: VCG re-solves go to worker processes only for markets this large (each
#: worker starts by solving the whole market again).
PARALLEL_ABOVE_DEMANDS = 500
DEFAULT_WORKERS = os.cpu_count() or 1
#: ``paths``: column generation (:mod:`.pathlp`); ``arcs``: the arc formulation (:mod:`.wdp`).
FORMULATIONS = {"paths": PathLP, "arcs": WelfareLP}


def explain_infeasible(market: Market, lp: PathLP | WelfareLP) -> MarketError:
    """Which floors fail and which links block them, from the floor-relaxed optimum."""
    relaxed = lp.solve(relax_floors=True)
    failing = []
    for d in market.demands:
        if d.floor_kbps and relaxed.x_kbps[d.id] + SATURATED < d.floor_kbps:
            failing.append(f"demand {d.id} floor {d.floor_kbps} kbps (gets {int(relaxed.x_kbps[d.id])})")
    for host, floor in market.host_floors:
        got = sum(relaxed.x_kbps[d.id] for d in market.demands if d.src == host)
        if got + SATURATED < floor:
            failing.append(f"host {host} universal floor {floor} kbps (gets {int(got)})")
    full = sorted({a.link for a in market.arcs if relaxed.arc_load_kbps[a.index] >= a.capacity_kbps - SATURATED})
    full += [f"access of {a.host} ({a.direction})" for a in market.access
             if sum(relaxed.x_kbps[d] for d in a.demands) >= a.kbps - SATURATED]
    blocking = f"; full links: {', '.join(full)}" if full else "; no offered path joins them"
    return MarketError(f"floors cannot all be met: {', '.join(failing) or 'jointly'}{blocking}")


def clear_market(scenario: Scenario, mechanism: str | None = None, *, options: dict | None = None) -> MarketResult:
    """Allocate capacity and settle payments for one epoch of ``scenario``'s market.

    ``options``: ``{"workers": N}`` caps the processes VCG's re-solves may use on
    large markets (default: one per core; 1 keeps everything in this process);
    ``{"duality": False}`` re-solves for every winning customer, even those the
    optimal duals already settle (for checking that shortcut);
    ``{"formulation": "arcs"}`` solves the arc formulation instead of
    generating paths (same optimum; for checking, and slower on large markets).
    """
    mechanism = mechanism or scenario.market.mechanism
    if mechanism not in MECHANISMS:
        raise MarketError(f"unknown mechanism {mechanism!r} (one of: {', '.join(MECHANISMS)})")
    timings = {}
    started = time.perf_counter()
    market = market_from_scenario(scenario)
    formulation = (options or {}).get("formulation", "paths")
    if formulation not in FORMULATIONS:
        raise MarketError(f"unknown formulation {formulation!r} (one of: {', '.join(FORMULATIONS)})")
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
        workers = (options or {}).get("workers", DEFAULT_WORKERS)
        parallel = workers > 1 and len(market.demands) >= PARALLEL_ABOVE_DEMANDS
        seed = lp.paths if isinstance(lp, PathLP) else []
        optimiser = in_parallel(market, type(lp), workers, seed) if parallel else in_process(market, lp)
        if (options or {}).get("duality", True):
            optimiser = with_lp_duality(market, solution, alloc, optimiser, timings)
        transfers, demand_pays, notes = vcg_payments(market, alloc, optimiser)
    elif mechanism == "lmp":
        transfers, demand_pays, notes = lmp_payments(market, solution, alloc)
    else:
        transfers, demand_pays, notes = pay_as_bid_payments(market, alloc)
    timings["payments_s"] = time.perf_counter() - t
    timings["total_s"] = time.perf_counter() - started
    prices = arc_prices(solution)
    links = []
    for link in scenario.links:
        arcs = [a for a in market.arcs if a.link == link.id]
        if not arcs:
            continue
        busiest = max(arcs, key=lambda a: alloc.arc_load_kbps[a.index])
        links.append(LinkAllocation(link.id, link.owner, alloc.arc_load_kbps[busiest.index], prices[busiest.index]))
    participants = tuple(
        ParticipantSettlement(p.name, p.role, *transfers.get(p.name, (money(0), money(0))))
        for p in scenario.participants)
    balance = sum((p.pays - p.receives for p in participants), Decimal(0))
    demands = tuple(DemandAllocation(d.id, d.src, d.dst, alloc.kbps[d.id], alloc.paths[d.id], demand_pays[d.id])
                    for d in market.demands)
    return MarketResult(mechanism, money(alloc.welfare), demands, tuple(links), participants, money(balance),
                        tuple(notes), timings)
