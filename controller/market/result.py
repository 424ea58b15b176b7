"""What a market clearing returns: allocations, prices, payments, as exact data."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

MONEY = Decimal("0.000001")


def money(value) -> Decimal:
    """Decimal rounded to a millionth, the unit money is reported in."""
    return Decimal(value).quantize(MONEY) if not isinstance(value, float) else Decimal(repr(value)).quantize(MONEY)


@dataclass(frozen=True)
class PathFlow:
    links: tuple[str, ...]     # link ids in order from the source to the destination
    switches: tuple[str, ...]  # switches in order, from the source host's to the destination host's
    kbps: int


@dataclass(frozen=True)
class DemandAllocation:
    demand_id: str
    src: str
    dst: str
    allocated_kbps: int
    paths: tuple[PathFlow, ...]
    pays: Decimal = Decimal(0)


@dataclass(frozen=True)
class LinkAllocation:
    link_id: str
    owner: str
    allocated_kbps: int          # the larger of the two directions
    price_per_mbps: Decimal      # the LP price of the more loaded direction


@dataclass(frozen=True)
class ParticipantSettlement:
    name: str
    role: str
    pays: Decimal
    receives: Decimal
    #: what the universal-service fund paid for it (already in ``pays`` and ``receives``)
    funded: Decimal = Decimal(0)


@dataclass(frozen=True)
class InvoiceLine:
    """One payment of the hierarchical invoices of POC mode: ``payer`` pays ``payee``."""

    payer: str
    payee: str
    amount: Decimal
    item: str  # what for, in words


#: The payer of what the universal-service fund pays (no participant has this name: it has a space).
FUND = "universal-service fund"


@dataclass(frozen=True)
class PocAccount:
    """The public option's books for one epoch (POC mode)."""

    name: str
    mechanism: str                                # how it paid the backbone owners
    fee_rule: str                                 # "usage" or "attachment" (docs/poc.md)
    cost: Decimal                                 # what it paid the backbone owners; its fees add up to it
    asks: Decimal                                 # the owners' asks for what it leased
    fee_per_mbps: Decimal                         # per Mbps of use (or of attachment), before rounding to each fee
    rounding: Decimal                             # its fees less its cost: each fee is rounded on its own
    fees: tuple[tuple[str, Decimal], ...]         # access provider -> its fee
    basis_kbps: tuple[tuple[str, int], ...]       # access provider -> what its fee is reckoned on
    tariffs: tuple[tuple[str, Decimal], ...]      # access provider -> what it charged per Mbps (at cost: the rate found)

    @property
    def deficit(self) -> Decimal:
        """What the rule paid above the asks, covered by the fees: VCG's information rent,
        LMP's congestion rent on full core links (``timeline.yaml``: 6.08), none
        under pay-as-bid (or where the POC topped a payment up to the asks)."""
        return self.cost - self.asks

    def to_json_dict(self) -> dict:
        return {"name": self.name, "mechanism": self.mechanism, "fee_rule": self.fee_rule, "cost": str(self.cost),
                "asks": str(self.asks), "deficit": str(self.deficit), "fee_per_mbps": str(self.fee_per_mbps),
                "rounding": str(self.rounding),
                "fees": {m: str(f) for m, f in self.fees}, "basis_kbps": dict(self.basis_kbps),
                "tariffs": {m: str(t) for m, t in self.tariffs}}


@dataclass(frozen=True)
class MarketResult:
    mechanism: str
    welfare: Decimal
    demands: tuple[DemandAllocation, ...]
    links: tuple[LinkAllocation, ...]
    participants: tuple[ParticipantSettlement, ...]
    budget_balance: Decimal
    notes: tuple[str, ...] = field(default=(), compare=False)
    timings: dict = field(default_factory=dict, compare=False)  # seconds per stage; VCG also counts its re-solves
    #: what the universal-service fund paid to keep every participant whole
    #: (floors; in POC mode also at-cost tariffs above the value a customer is
    #: served, floor or not); already in ``budget_balance``, which it makes more negative
    floors_cost: Decimal = Decimal(0)
    #: ``open`` or ``poc``; POC mode adds who pays whom, and the POC's books
    mode: str = "open"
    invoices: tuple[InvoiceLine, ...] = ()
    poc: PocAccount | None = None

    @property
    def collected(self) -> Decimal:
        return sum((p.pays for p in self.participants), Decimal(0))

    @property
    def paid_out(self) -> Decimal:
        return sum((p.receives for p in self.participants), Decimal(0))

    def demand(self, demand_id: str) -> DemandAllocation:
        return next(d for d in self.demands if d.demand_id == demand_id)

    def participant(self, name: str) -> ParticipantSettlement:
        return next(p for p in self.participants if p.name == name)

    def to_json_dict(self) -> dict:
        """The JSON of ``openisp auction --json`` (decimals as strings)."""
        out = {
            "mechanism": self.mechanism,
            "welfare": float(self.welfare),
            "demands": [{"id": d.demand_id, "src": d.src, "dst": d.dst, "allocated_kbps": d.allocated_kbps,
                         "paths": [{"links": list(p.links), "kbps": p.kbps} for p in d.paths],
                         "pays": str(d.pays)} for d in self.demands],
            "links": [{"id": l.link_id, "owner": l.owner, "allocated_kbps": l.allocated_kbps,
                       "price_per_mbps": str(l.price_per_mbps)} for l in self.links],
            "participants": [{"name": p.name, "role": p.role, "pays": str(p.pays), "receives": str(p.receives),
                              "funded": str(p.funded)} for p in self.participants],
            "budget_balance": str(self.budget_balance),
            "floors_cost": str(self.floors_cost),
        }
        if self.mode != "open":
            out.update(mode=self.mode, poc=self.poc.to_json_dict() if self.poc else None,
                       invoices=[{"payer": i.payer, "payee": i.payee, "amount": str(i.amount), "for": i.item}
                                 for i in self.invoices])
        return out
