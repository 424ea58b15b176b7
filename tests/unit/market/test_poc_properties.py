"""Properties of POC mode on random worlds (:mod:`.pocworlds`): the invoices balance through
the chain, the paths follow the paper's routing, the fees are neutral, and the POC's
auction is the independent oracle's optimum over the paths POC mode allows, with VCG
paying each backbone owner its Clarke pivot."""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from hypothesis import event, given

from controller.market import MarketError, clear_market
from controller.market.compare import utility

from .oracle import optimum
from .pocworlds import check_books, poc_worlds, zeroed
from .test_properties import paths_budget  # noqa: F401  (the profiles are registered there)


def clear(s, truth, mechanism=None):
    try:
        return clear_market(s, mechanism)
    except MarketError as exc:
        assert "floors cannot all be met" in str(exc)
        assert oracle(zeroed(s, truth), truth) is None, "the market says the floors fail, the oracle meets them"
        event("floors cannot be met")
        return None


def oracle(s, truth):
    return optimum(s, allowed=lambda d, links: truth.allowed(d, s)(links), poc=True)


@given(poc_worlds())
def test_invoices_balance_and_paths_follow_the_paper(world):
    s, truth = world
    r = clear(s, truth)
    if r is None:
        return
    event(f"{s.market.mechanism}, fee by {s.market.poc.fee}")
    if r.floors_cost:
        event("the fund paid")
    check_books(s, r)
    for d in r.demands:
        demand = s.demand[d.demand_id]
        allowed = truth.allowed(demand, s)
        for p in d.paths:
            assert allowed(set(p.links)), (d, p, truth)
            assert not set(p.links) & truth.direct  # last miles reach each other through the core
            if demand.max_latency_ms is not None:
                assert sum(s.link[l].latency_ms for l in p.links) <= demand.max_latency_ms + 1e-9
        if d.allocated_kbps and truth.member[demand.src] != truth.member[demand.dst]:
            event("a demand between two access providers served")
    # Neutral fees: each its exact share of the cost by the rule's basis, so equal bases pay equal fees.
    basis = dict(r.poc.basis_kbps)
    total = sum(basis.values())
    for member, fee in r.poc.fees:
        if total:
            assert abs(fee - r.poc.cost * basis[member] / total) <= Decimal("0.0000005")
    same = [(a, b) for a in basis for b in basis if a < b and basis[a] == basis[b]]
    for a, b in same:
        event("two providers with the same basis")
        assert dict(r.poc.fees).get(a) == dict(r.poc.fees).get(b)


@given(poc_worlds())
def test_the_poc_auction_is_the_optimum_over_the_paths_it_allows(world):
    s, truth = world
    r = clear(s, truth)
    if r is None:
        return
    seen = zeroed(s, truth)  # what the POC's LP maximises
    best = oracle(seen, truth)
    assert best is not None
    served = sum((seen.demand[d.demand_id].value_per_mbps * d.allocated_kbps / 1000 for d in r.demands), Decimal(0))
    declared = sum((s.demand[d.demand_id].value_per_mbps * d.allocated_kbps / 1000 for d in r.demands), Decimal(0))
    # The reported welfare is at declared values; the LP's is at the values it saw.
    assert abs(r.welfare - (declared - served) - Decimal(repr(best))) <= paths_budget(r)
    if any("drops" in n for n in r.notes):
        event("POC mode dropped a floor")
    else:  # the POC's choices are a subset of the open market's: it cannot do better
        try:
            open_ = clear_market(replace(s, market=replace(s.market, mode="open")), "lmp")
        except MarketError:
            open_ = None
        if open_ is not None:
            assert r.welfare <= open_.welfare + paths_budget(r) + paths_budget(open_)
            if r.welfare < open_.welfare - paths_budget(open_):
                event("the open market did better")
    if s.market.mechanism != "vcg":
        return
    for name, amount in (i for i in ((p.name, p.receives) for p in r.participants if p.role == "backbone") if i[1]):
        # The reverse auction: the market without the owner's offers, its own demands kept (see pocclear).
        rest = replace(seen, offers=tuple(o for o in seen.offers if o.seller != name))
        other = oracle(rest, truth)
        if other is None:  # the floors fail without it: measured with floors relaxed, as the market does
            other = oracle(replace(rest, demands=tuple(replace(d, floor_kbps=0) for d in rest.demands),
                                   market=replace(rest.market, universal_floor_kbps=0)), truth)
        served = sum((s.demand[d.demand_id].value_per_mbps * d.allocated_kbps / 1000 for d in r.demands
                      if s.demand[d.demand_id].buyer == name), Decimal(0))
        p = r.participant(name)
        asks = p.receives - p.pays + served - utility(s, r, name)  # of what it carries (it may buy too)
        if served:
            event("a backbone owner that also buys")
        expected = max(Decimal(repr(best - other)) + asks, asks)
        assert abs(amount - expected) <= 2 * paths_budget(r) + Decimal("0.000002"), (name, amount, expected)
        event("a backbone owner paid by VCG")
