"""Payment rules: VCG (Clarke pivot), locational marginal prices, pay-as-bid.

Each rule returns per participant ``(pays, receives)``, per demand what it
pays (when the rule says; otherwise :func:`settle_demands` splits the
buyer's payment by value) and notes.  The universal-service fund
(:mod:`.fund`) then keeps every participant whole, whatever the rule.

* ``vcg``: participant i's transfer is its marginal contribution
  ``W* - W*_{-i}`` corrected by its own report: a provider receives its cost
  plus its contribution, a customer pays its value minus its contribution (a
  party that both buys and sells nets the two).  ``W*``, ``W*_{-i}`` and the
  values and costs are the LP's (its own rates, no tie-break), so a payment
  depends on the market alone.  Parties that win nothing have zero
  contribution and are not re-solved.  In a two-sided market VCG pays out
  more than it takes in: ``budget_balance`` is then negative and the market
  operator covers the deficit (the "public option" subsidy).
* ``lmp``: every arc is priced at the dual of its balance row (its ask plus
  the congestion rent when full), without the tie-break; a demand pays the
  sum of the prices along its paths, a provider receives the price of what it
  carries; balanced to the micro-unit.
* ``pay-as-bid``: customers pay their values, providers receive their asks;
  the surplus (the welfare) stays with the market.
"""
from __future__ import annotations

from decimal import Decimal

from .allocation import Allocation, lp_accounts
from .network import Market
from .result import money
from .wdp import LpSolution

Transfers = tuple[dict[str, tuple[Decimal, Decimal]], dict[str, Decimal], list[str]]
ZERO = Decimal(0)
SERVED_KBPS = 1e-6  # an LP rate below this is solver noise, not a sale


def split_by_value(alloc: Allocation, total: Decimal, demands) -> dict[str, Decimal]:
    """One buyer's payment ``total`` shared among its ``demands`` in proportion to the
    value each was served, rounded so that the shares add up to the total."""
    return _split(total, lambda d: d.value_per_mbps * alloc.kbps[d.id] / 1000, demands)


def settle_demands(market: Market, alloc: Allocation, transfers: dict[str, tuple[Decimal, Decimal]],
                   demand_pays: dict[str, Decimal]) -> dict[str, Decimal]:
    """Per demand what it pays, adding up to what its buyer pays: the rule's own
    split where it still adds up (LMP's prices along the paths), otherwise that
    split scaled to the buyer's payment (after the fund), otherwise by value."""
    totals = {name: pays for name, (pays, _) in transfers.items()}
    by_buyer: dict[str, list] = {}
    for d in market.demands:
        by_buyer.setdefault(d.buyer, []).append(d)
    out = {}
    for buyer, mine in by_buyer.items():
        given = sum((demand_pays.get(d.id, ZERO) for d in mine), ZERO)
        total = totals.get(buyer, ZERO)
        if given == total and all(d.id in demand_pays for d in mine):
            out.update({d.id: demand_pays[d.id] for d in mine})
        elif given > 0:
            out.update(_split(total, lambda d: demand_pays.get(d.id, ZERO), mine))
        else:
            out.update(split_by_value(alloc, total, mine))
    return out


def _split(total: Decimal, weight, demands) -> dict[str, Decimal]:
    """``total`` shared among one buyer's ``demands`` in proportion to ``weight``; all
    zeros when there is nothing to share or no weight to share it by."""
    weights = {d.id: Decimal(weight(d)) for d in demands}
    whole = sum(weights.values(), ZERO)
    if not whole or not total:
        return {d.id: money(0) for d in demands}
    return apportion({k: total * w / whole for k, w in weights.items()}, total)


def _exact(value: float) -> Decimal:
    """A float as the exact number it holds (no decimal rounding on the way)."""
    return Decimal(value)


def vcg_payments(market: Market, solution: LpSolution, welfare_without) -> Transfers:
    """Clarke pivot per participant; ``welfare_without(names)`` is the optimiser
    (see :mod:`controller.market.counterfactual`): ``{name: (welfare, floors_relaxed)}``.

    Welfare, values and costs all come from the LP's optimum (its rates, not
    the whole-kbps rounding of them, and without the tie-break): the payment
    of a participant is a function of the market alone."""
    notes = []
    value, cost = lp_accounts(market, solution)
    welfare = _exact(solution.welfare)
    # Whoever sells or is served anything, even at a zero price, may be pivotal.
    winners = {d.buyer for d in market.demands if solution.x_kbps[d.id] > SERVED_KBPS}
    winners |= {a.seller for a in market.arcs if solution.arc_load_kbps[a.index] > SERVED_KBPS}
    counterfactual = welfare_without(sorted(winners))
    transfers: dict[str, tuple[Decimal, Decimal]] = {}
    for name in sorted(winners):
        without, relaxed = counterfactual[name]
        if relaxed:
            notes.append(f"without {name} the floors cannot be met; its contribution is measured against the market with floors relaxed")
        contribution = welfare - _exact(without)
        net = contribution - _exact(value.get(name, 0.0)) + _exact(cost.get(name, 0.0))
        transfers[name] = (money(max(-net, ZERO)), money(max(net, ZERO)))
    return transfers, {}, notes


def arc_prices(solution: LpSolution) -> tuple[Decimal, ...]:
    return tuple(money(p) for p in solution.arc_price_per_mbps)


def apportion(exact: dict[str, Decimal], total: Decimal) -> dict[str, Decimal]:
    """Round amounts to the money unit so that they add up to ``total`` exactly
    (largest remainder: each is rounded down, the units left go to the largest
    remainders, ties by name).

    >>> apportion({"a": Decimal("0.0000015"), "b": Decimal("0.0000015")}, Decimal("0.000003"))
    {'a': Decimal('0.000002'), 'b': Decimal('0.000001')}
    """
    unit = Decimal("0.000001")
    floors = {k: (v / unit).to_integral_value(rounding="ROUND_FLOOR") * unit for k, v in exact.items()}
    left = int((total - sum(floors.values(), ZERO)) / unit)
    if left >= 0:
        for k in sorted(exact, key=lambda k: (floors[k] - exact[k], k))[:left]:
            floors[k] += unit
    else:  # the total was rounded below the parts: take units back from the smallest remainders
        for k in sorted((k for k in exact if floors[k] > 0), key=lambda k: (exact[k] - floors[k], k))[:-left]:
            floors[k] -= unit
    return {k: money(v) for k, v in floors.items()}


def lmp_payments(market: Market, solution: LpSolution, alloc: Allocation) -> Transfers:
    """Every demand pays the prices along its paths; every seller receives the price of
    what it carries.  Both sides are exact sums of the same arc revenues, rounded so
    that the market balances to the micro-unit: sellers first, then the demands'
    payments apportioned to add up to what the sellers receive."""
    prices = arc_prices(solution)
    arc_of = {(a.link, a.tail): a for a in market.arcs}
    exact: dict[str, Decimal] = {}
    for d in market.demands:
        total = ZERO
        for p in alloc.paths[d.id]:
            for link, tail in zip(p.links, p.switches):
                total += prices[arc_of[(link, tail)].index] * p.kbps / 1000
        exact[d.id] = total
    receives: dict[str, Decimal] = {}
    for a in market.arcs:
        if alloc.arc_load_kbps[a.index]:
            receives[a.seller] = receives.get(a.seller, ZERO) + prices[a.index] * alloc.arc_load_kbps[a.index] / 1000
    receives = {n: money(v) for n, v in receives.items()}
    demand_pays = apportion(exact, sum(receives.values(), ZERO))
    pays: dict[str, Decimal] = {}
    for d in market.demands:
        pays[d.buyer] = pays.get(d.buyer, ZERO) + demand_pays[d.id]
    names = set(pays) | set(receives)
    return {n: (money(pays.get(n, ZERO)), receives.get(n, money(0))) for n in names}, demand_pays, []


def pay_as_bid_payments(market: Market, alloc: Allocation) -> Transfers:
    demand_pays = {d.id: money(d.value_per_mbps * alloc.kbps[d.id] / 1000) for d in market.demands}
    names = set(alloc.value) | set(alloc.cost)
    transfers = {n: (money(alloc.value.get(n, ZERO)), money(alloc.cost.get(n, ZERO))) for n in names}
    return transfers, demand_pays, []
