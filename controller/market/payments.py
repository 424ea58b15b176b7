"""Payment rules: VCG (Clarke pivot), locational marginal prices, pay-as-bid.

Each rule takes the market, the optimiser and the chosen allocation, and
returns per participant ``(pays, receives)`` and per demand what it pays.

* ``vcg``: participant i's transfer is its marginal contribution
  ``W* - W*_{-i}`` corrected by its own report: a provider receives its cost
  plus its contribution, a customer pays its value minus its contribution (a
  party that both buys and sells nets the two).  Parties that win nothing
  have zero contribution and are not re-solved.  In a two-sided market VCG
  pays out more than it takes in: ``budget_balance`` is then negative and
  the market operator covers the deficit (the "public option" subsidy).
* ``lmp``: every arc is priced at the dual of its balance row (its ask plus
  the congestion rent when full); a demand pays the sum of the prices along
  its paths, a provider receives the price of what it carries; balanced.
* ``pay-as-bid``: customers pay their values, providers receive their asks;
  the surplus (the welfare) stays with the market.
"""
from __future__ import annotations

from decimal import Decimal
from .allocation import Allocation
from .network import Market
from .result import money
from .wdp import LpSolution

Transfers = tuple[dict[str, tuple[Decimal, Decimal]], dict[str, Decimal], list[str]]
ZERO = Decimal(0)


def _split_by_value(market: Market, alloc: Allocation, payer_total: dict[str, Decimal]) -> dict[str, Decimal]:
    """A participant's payment shared among its demands in proportion to their value."""
    out = {}
    for d in market.demands:
        total_value = alloc.value.get(d.buyer, ZERO)
        share = d.value_per_mbps * alloc.kbps[d.id] / 1000
        out[d.id] = money(payer_total.get(d.buyer, ZERO) * share / total_value) if total_value else money(0)
    return out


def vcg_payments(market: Market, alloc: Allocation, welfare_without) -> Transfers:
    """Clarke pivot per participant; ``welfare_without(names)`` is the optimiser
    (see :mod:`controller.market.counterfactual`): ``{name: (welfare, floors_relaxed)}``."""
    notes = []
    welfare = alloc.welfare
    transfers: dict[str, tuple[Decimal, Decimal]] = {}
    pays_total: dict[str, Decimal] = {}
    # Whoever sells or is served anything, even at a zero price, may be pivotal.
    winners = {d.buyer for d in market.demands if alloc.kbps[d.id] > 0}
    winners |= {a.seller for a in market.arcs if alloc.arc_load_kbps[a.index] > 0}
    counterfactual = welfare_without(sorted(winners))
    for name in sorted(winners):
        without, relaxed = counterfactual[name]
        if relaxed:
            notes.append(f"without {name} the floors cannot be met; its contribution is measured against the market with floors relaxed")
        contribution = welfare - without
        net = contribution - alloc.value.get(name, ZERO) + alloc.cost.get(name, ZERO)
        transfers[name] = (money(max(-net, ZERO)), money(max(net, ZERO)))
        pays_total[name] = transfers[name][0]
    return transfers, _split_by_value(market, alloc, pays_total), notes


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
