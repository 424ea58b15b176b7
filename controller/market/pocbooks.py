"""The public option's books: who pays whom in POC mode (docs/poc.md).

Each entity pays for what it receives, down a chain:

* the POC pays the backbone owners for the links it leases (what the payment rule
  says, VCG by default, never below their asks);
* it recovers that, VCG's deficit included, from the access providers attached
  to it: **break-even fees, one rule for all** (``market.poc.fee``), each
  rounded to the micro-unit on its own (equal use, equal fee; the few
  micro-units the rounding leaves are the POC's, stated as its ``rounding``):

  - ``usage`` (the default): one price per Mbps of demand the POC carries,
    whoever sends it and whatever it is: each provider pays for the Mbps of
    the demands bought through it (its customers', or its own) that pass
    through the core (a switch or a link of it).  The POC's cost is the capacity it leases to carry those demands, so
    those who use the core pay for it, down the same chain as the money (the
    buyer, its provider, the POC), and traffic kept local pays no fee (at
    cost its buyers still share their provider's fee, see below);
  - ``attachment``: in proportion to the capacity of each provider's links to
    the core, used or not (a port fee: predictable, but idle ports pay and
    heavy users of small ports ride cheap);

* a demand that crosses another access provider's links (into that provider's
  hosts, or out of them) pays it their asks: the provider the demand is bought
  through pays **carriage** to the owner, rounded up to the micro-unit, so no
  provider carries others' traffic below its asks;
* the access providers charge their customers a tariff per Mbps served
  (``market.poc.tariff``, per provider ``tariffs``): a fixed price, or
  ``at_cost``: the provider's fee, plus the asks of its own links its buyers'
  demands used, plus the carriage it paid, per Mbps its customers are served (one
  price for all of them, as a flat tariff; each share rounded up, so the
  provider recovers at least all that).  No customer pays more than the value it is
  served: the universal-service fund pays the rest (``floors_cost``: in POC mode
  also tariffs above value, where no floor is involved).

So what customers pay, plus what the fund pays, equals what the backbone owners
receive plus the access providers' margins (tariffs and carriage received less
fees and carriage paid); the POC nets zero but for its rounding.  Money is exact
(``Decimal``), rounded once per line.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from topologies.model import AT_COST, Scenario

from .allocation import Allocation, arc_cost
from .network import Market
from .payments import settle_demands
from .poc import PocWorld, tariff_provider
from .result import FUND, MONEY, InvoiceLine, ParticipantSettlement, PocAccount, money
from topologies.units import format_rate

ZERO = Decimal(0)


@dataclass(frozen=True)
class Books:
    participants: tuple[ParticipantSettlement, ...]
    invoices: tuple[InvoiceLine, ...]
    account: PocAccount
    demand_pays: dict[str, Decimal]
    floors_cost: Decimal
    notes: tuple[str, ...]


def through_core(w: PocWorld, path) -> bool:
    """Does a path pass through the POC: one of its switches, or a link it leases?"""
    return any(sw in w.core_switches for sw in path.switches) or any(l in w.core_links for l in path.links)


def fee_basis(s: Scenario, w: PocWorld, alloc: Allocation, rule: str) -> dict[str, int]:
    """Per access provider, the kbps its fee is reckoned on: the demands bought through
    it that pass through the core (``usage``), or its links' capacity to the core (``attachment``)."""
    if rule == "attachment":
        return {m: kbps for m, kbps in w.attachment_kbps.items() if kbps}
    basis: dict[str, int] = {}
    for d in s.demands:
        crossing = sum(p.kbps for p in alloc.paths.get(d.id, ()) if through_core(w, p))
        if crossing:
            member = tariff_provider(w, s, d) or d.buyer
            basis[member] = basis.get(member, 0) + crossing
    return basis


def carriage_asks(s: Scenario, w: PocWorld, market: Market,
                  alloc: Allocation) -> dict[tuple[str, str], tuple[int, Decimal]]:
    """Per (member a demand is bought through, owner of a link outside the core it crosses),
    the kbps the owner's links carry for the member's demands (summed over links and
    directions, as in a lease line) and their exact asks: each arc's asks shared among
    the demands on it by kbps.  ``(m, m)`` is a member's own links for its own buyers;
    the core's links are the POC's leases, not here.

    >>> from topologies.loader import load_scenario
    >>> from controller.market import clear_market
    >>> from dataclasses import replace
    >>> s = load_scenario("topologies/library/timeline.yaml")
    >>> r = clear_market(replace(s, market=replace(s.market, mode="poc")))
    >>> [(i.payer, i.payee, str(i.amount)) for i in r.invoices if i.item.startswith("carriage")]
    [('westnet', 'eastnet', '0.060000')]
    """
    arc_of = {(a.link, a.tail): a for a in market.arcs}
    loads: dict[int, dict[str, int]] = {}
    for d in market.demands:
        member = tariff_provider(w, s, d) or d.buyer
        for p in alloc.paths.get(d.id, ()):
            for link, tail in zip(p.links, p.switches):
                if link not in w.core_links:
                    mine = loads.setdefault(arc_of[(link, tail)].index, {})
                    mine[member] = mine.get(member, 0) + p.kbps
    out: dict[tuple[str, str], tuple[int, Decimal]] = {}
    for i, by_member in loads.items():
        arc, total = market.arcs[i], alloc.arc_load_kbps[i]
        asks = arc_cost(arc, total)
        for member, kbps in by_member.items():
            had_kbps, had = out.get((member, arc.seller), (0, ZERO))
            out[(member, arc.seller)] = (had_kbps + kbps, had + asks * kbps / total)
    return out


def break_even_fees(cost: Decimal, basis: dict[str, int], members) -> tuple[dict[str, Decimal], Decimal, list[str]]:
    """``cost`` shared in proportion to ``basis``, and the price per Mbps.  Each fee is
    its exact share rounded to the micro-unit on its own, so equal bases pay equal
    fees (neutrality); what the fees add up to may differ from ``cost`` by at most
    half a micro-unit per provider, the POC's rounding (:attr:`PocAccount.rounding`)."""
    notes = []
    total = sum(basis.values())
    if not cost:
        return {}, money(cost / (Decimal(total) / 1000)) if total else money(0), notes
    if not total:
        basis = {m: 1 for m in members}
        total = len(basis)
        notes.append("no access provider's demand passed through the core: the POC's cost is shared equally")
        return {m: money(cost / total) for m in basis}, money(0), notes
    fees = {m: money(cost * b / total) for m, b in basis.items()}
    return fees, money(cost / (Decimal(total) / 1000)), notes


def poc_books(s: Scenario, w: PocWorld, market: Market, alloc: Allocation, receipts: dict[str, Decimal],
              mechanism: str) -> Books:
    """Settle one epoch of POC mode: ``receipts`` is what each backbone owner gets."""
    terms = s.market.poc
    cost = sum(receipts.values(), ZERO)
    asks = sum((money(alloc.cost.get(b, ZERO)) for b in receipts), ZERO)
    basis = fee_basis(s, w, alloc, terms.fee)
    fees, fee_price, notes = break_even_fees(cost, basis, w.members)
    # Carriage: the asks of another provider's links a member's demands crossed, rounded up.
    carried = carriage_asks(s, w, market, alloc)
    carriage = {pair: asks.quantize(MONEY, rounding=ROUND_CEILING) for pair, (_, asks) in carried.items()
                if pair[0] != pair[1]}
    # Tariffs: per demand what its buyer owes its access provider.
    owed: dict[str, Decimal] = {}
    by_provider: dict[str, list] = {}
    for d in s.demands:
        provider = tariff_provider(w, s, d)
        if provider is not None and alloc.kbps[d.id]:
            by_provider.setdefault(provider, []).append(d)
    rates: dict[str, Decimal] = {}
    for m, mine in by_provider.items():
        tariff = terms.tariff_of(m)
        served = sum(alloc.kbps[d.id] for d in mine)
        if tariff == AT_COST:  # one price for all its customers: its costs per Mbps served, shares rounded up
            due = (fees.get(m, ZERO) + carried.get((m, m), (0, ZERO))[1]
                   + sum((c for (payer, _), c in carriage.items() if payer == m), ZERO))
            rates[m] = money(due / (Decimal(served) / 1000))
            owed.update({d.id: (due * alloc.kbps[d.id] / served).quantize(MONEY, rounding=ROUND_CEILING) for d in mine})
        else:
            rates[m] = money(tariff)
            owed.update({d.id: money(tariff * alloc.kbps[d.id] / 1000) for d in mine})
    for m in w.members:
        if m not in rates and terms.tariff_of(m) != AT_COST:
            rates[m] = money(terms.tariff_of(m))
    pays: dict[str, Decimal] = {}
    receives: dict[str, Decimal] = {}
    funded: dict[str, Decimal] = {}
    lines: list[InvoiceLine] = []
    for m, mine in by_provider.items():
        by_buyer: dict[str, list] = {}
        for d in mine:
            by_buyer.setdefault(d.buyer, []).append(d)
        for buyer, theirs in by_buyer.items():
            charge = sum((owed[d.id] for d in theirs), ZERO)
            value = sum((d.value_per_mbps * alloc.kbps[d.id] / 1000 for d in theirs), ZERO)
            paid = min(charge, value.quantize(MONEY, rounding=ROUND_FLOOR))
            mbps = format_rate(sum(alloc.kbps[d.id] for d in theirs))
            lines.append(InvoiceLine(buyer, m, paid, f"tariff: {mbps} at {rates[m]} per Mbps"))
            if charge > paid:
                lines.append(InvoiceLine(FUND, m, charge - paid, f"for {buyer}: the tariff above the value it is served"))
                funded[buyer] = funded.get(buyer, ZERO) + charge - paid
            pays[buyer] = pays.get(buyer, ZERO) + paid
            receives[m] = receives.get(m, ZERO) + charge
    order = {p.name: i for i, p in enumerate(s.participants)}
    for (payer, owner), amount in sorted(carriage.items(), key=lambda x: (order[x[0][0]], order[x[0][1]])):
        what = f"carriage: {format_rate(carried[(payer, owner)][0])} on its links for demands bought through {payer}"
        lines.append(InvoiceLine(payer, owner, amount, what + ", at its asks"))
        pays[payer] = pays.get(payer, ZERO) + amount
        receives[owner] = receives.get(owner, ZERO) + amount
    for m in (m for m in w.members if m in fees):
        fee = fees[m]
        what = (f"{format_rate(basis.get(m, 0))} of demand through the core" if terms.fee == "usage"
                else f"{format_rate(basis.get(m, 0))} of attachment")
        lines.append(InvoiceLine(m, w.poc, fee, f"access fee ({terms.fee}): {what} at {fee_price} per Mbps"))
        pays[m] = pays.get(m, ZERO) + fee
    leased = _leased_kbps(market, alloc)
    for b, amount in receipts.items():
        lines.append(InvoiceLine(w.poc, b, amount, f"lease ({mechanism}): {format_rate(leased.get(b, 0))} on its "
                                                   f"links, asking {money(alloc.cost.get(b, ZERO))}"))
        receives[b] = receives.get(b, ZERO) + amount
    participants = [ParticipantSettlement(p.name, p.role, money(pays.get(p.name, ZERO)),
                                          money(receives.get(p.name, ZERO)), money(funded.get(p.name, ZERO)))
                    for p in s.participants]
    participants.append(ParticipantSettlement(w.poc, "poc", money(cost), money(sum(fees.values(), ZERO)), money(0)))
    transfers = {p.name: (p.pays, p.receives) for p in participants}
    demand_pays = settle_demands(market, alloc, transfers, owed)
    account = PocAccount(w.poc, mechanism, terms.fee, money(cost), money(asks), fee_price,
                         money(sum(fees.values(), ZERO) - cost),
                         tuple((m, fees[m]) for m in w.members if m in fees),
                         tuple((m, basis[m]) for m in w.members if m in basis),
                         tuple((m, rates[m]) for m in w.members if m in rates))
    return Books(tuple(participants), tuple(line for line in lines if line.amount), account, demand_pays, money(sum(funded.values(), ZERO)),
                 tuple(notes))


def _leased_kbps(market: Market, alloc: Allocation) -> dict[str, int]:
    """Per seller, the kbps its arcs carry (summed over arcs)."""
    out: dict[str, int] = {}
    for a in market.arcs:
        out[a.seller] = out.get(a.seller, 0) + alloc.arc_load_kbps[a.index]
    return out


def at_least_asks(receipts: dict[str, Decimal], alloc: Allocation) -> tuple[dict[str, Decimal], list[str]]:
    """No backbone owner leases below its asks: the POC tops a payment up to them."""
    out, notes = {}, []
    for b, amount in receipts.items():
        floor = alloc.cost.get(b, ZERO).quantize(MONEY, rounding=ROUND_CEILING)
        if amount < floor:
            notes.append(f"the POC pays {b} its asks, {floor}: the rule paid {amount} (floors force a loss)")
        out[b] = money(max(amount, floor))
    return out, notes
