"""Clear one epoch in POC mode: the POC's reverse auction for backbone capacity,
then its books (:mod:`.pocbooks`).

Winner determination is the market's own LP (:mod:`.pathlp`) on the POC's market
(:func:`.poc.poc_market`): the welfare of the customers' demands, less the asks
of the core it leases and of the access providers' own links, each demand on the
links POC mode allows it.  So every demand gets paths the switches enforce as
in the open market: the data plane needs nothing new.  The backbone owners are
paid by the rule (``vcg``: each its asks plus its marginal contribution, the
Clarke pivot of the POC's reverse auction, against the market without its
offers; ``lmp``: the prices of what it carries; ``pay-as-bid``: its asks), and
never below their asks.

>>> from topologies.loader import load_scenario
>>> r = clear_poc(load_scenario("topologies/default.yaml"), "vcg")
>>> r.demand("ana-dev").paths[0].switches  # metro to lakeside through the core, not the direct link
('mn1', 'at-nyc', 'at-chi', 'lk1')
>>> poc = r.participant("poc")
>>> poc.pays == r.poc.cost, abs(poc.receives - poc.pays) <= Decimal("0.000002")  # break-even, to the micro-unit
(True, True)
"""
from __future__ import annotations

import time
from decimal import Decimal

from topologies.model import Scenario

from .allocation import allocate, lp_accounts
from .counterfactual import in_process, optimum_of
from .network import Market, MarketError
from .pathlp import PathLP
from .payments import SERVED_KBPS, _exact, arc_prices, lmp_payments
from .poc import poc_market, poc_world
from .pocbooks import at_least_asks, poc_books
from .pricing import latency_notes
from .result import DemandAllocation, MarketResult, money

ZERO = Decimal(0)


def lease_payments(market: Market, lp: PathLP, solution, alloc, mechanism: str, backbones: set[str],
                   timings: dict) -> tuple[dict[str, Decimal], list[str]]:
    """What the POC pays each backbone owner that carries something, by ``mechanism``."""
    winners = sorted({a.seller for a in market.arcs
                      if a.seller in backbones and solution.arc_load_kbps[a.index] > SERVED_KBPS})
    notes: list[str] = []
    if mechanism == "vcg":
        # The POC's reverse auction: an owner's counterfactual takes out its offers alone.  A
        # demand it buys (from a host on its core switch) stays: the POC serves it for a fee.
        _, cost = lp_accounts(market, solution)
        counterfactual = in_process(optimum_of(lp), offers_only=True)(winners)
        timings["re_solves"] = len(winners)
        out = {}
        for b in winners:
            without, relaxed = counterfactual[b]
            if relaxed:
                notes.append(f"without {b} the floors cannot be met; its contribution is measured against the "
                             "market with floors relaxed")
            net = _exact(solution.welfare) - _exact(without) + _exact(cost.get(b, 0.0))
            out[b] = money(max(net, ZERO))
    elif mechanism == "lmp":
        transfers, _, _ = lmp_payments(market, solution, alloc)
        out = {b: transfers[b][1] for b in winners}
    else:
        out = {b: money(alloc.cost.get(b, ZERO)) for b in winners}
    out, topped = at_least_asks(out, alloc)
    return out, notes + topped


def clear_poc(scenario: Scenario, mechanism: str, options: dict | None = None) -> MarketResult:
    """One epoch of ``scenario`` in POC mode (``options`` as :func:`.clearing.clear_market`'s;
    only the path formulation can restrict demands to the links POC mode allows)."""
    from .clearing import explain_infeasible, link_allocations

    options = options or {}
    if options.get("formulation", "paths") != "paths":
        raise MarketError("POC mode restricts each demand's links: only the path formulation (the default) can")
    timings: dict = {}
    started = time.perf_counter()
    world = poc_world(scenario)
    market, notes = poc_market(scenario, world)
    lp = PathLP(market)
    timings["build_s"] = time.perf_counter() - started
    t = time.perf_counter()
    solution = lp.solve()
    if solution is None:
        raise explain_infeasible(market, lp)
    timings["solve_s"] = time.perf_counter() - t
    alloc = allocate(market, solution)
    t = time.perf_counter()
    backbones = {p.name for p in scenario.participants if p.role == "backbone"}
    receipts, more = lease_payments(market, lp, solution, alloc, mechanism, backbones, timings)
    books = poc_books(scenario, world, market, alloc, receipts, mechanism)
    timings["payments_s"] = time.perf_counter() - t
    timings["total_s"] = time.perf_counter() - started
    declared = sum((d.value_per_mbps * alloc.kbps[d.id] / 1000 for d in scenario.demands), ZERO)
    welfare = money(declared - sum(alloc.cost.values(), ZERO))
    demands = tuple(DemandAllocation(d.id, d.src, d.dst, alloc.kbps[d.id], alloc.paths[d.id], books.demand_pays[d.id])
                    for d in market.demands)
    balance = sum((p.pays - p.receives for p in books.participants), ZERO)
    return MarketResult(mechanism, welfare, demands, link_allocations(scenario, market, alloc, arc_prices(solution)),
                        books.participants, money(balance),
                        tuple([*notes, *more, *books.notes, *latency_notes(market)]), timings, books.floors_cost,
                        "poc", books.invoices, books.account)
