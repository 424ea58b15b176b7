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
    #: (floors); already in ``budget_balance``, which it makes more negative
    floors_cost: Decimal = Decimal(0)

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
        return {
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
