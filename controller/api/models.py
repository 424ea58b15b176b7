"""What the participants' API reads and writes, declared once for FastAPI and ``/openapi.json``.

Bodies are written in the scenario language (``docs/scenario.md``): rates as an
integer of kbps or text such as ``"10Mbps"``, money as a quoted decimal such as
``"0.25"`` (or a whole number), never a float.  The models here check only the
JSON types and refuse unknown keys; the values are judged by the project's
loader, with the scenario file's rules and messages (see :mod:`controller.book`).
Answers give rates in kbps and money as decimal strings.
"""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictStr, WithJsonSchema

try:  # the language's own patterns, when topologies.units declares them
    from topologies.units import MAX_KBPS, MONEY_PATTERN, rate_pattern
except ImportError:  # pragma: no cover - an older units module: types only
    MAX_KBPS, MONEY_PATTERN, rate_pattern = 10 ** 9 - 1, None, None


def _string(pattern: str | None) -> dict:
    return {"type": "string", "maxLength": 40, **({"pattern": pattern} if pattern else {})}


def _value(schema: dict, description: str, example: Any):
    """Any JSON value goes through to the loader, which judges it with the scenario file's rules
    and messages; ``schema`` is what ``/openapi.json`` promises will be accepted."""
    return Annotated[Any, WithJsonSchema({**schema, "description": description, "examples": [example]})]


Rate = _value({"oneOf": [{"type": "integer", "minimum": 1, "maximum": MAX_KBPS},
                         _string(rate_pattern() if rate_pattern else None)]},
              "a rate: an integer of kbps, or text such as '10Mbps', '500kbps', '1.5Gbps'", "5Mbps")
RateOrZero = _value({"oneOf": [{"type": "integer", "minimum": 0, "maximum": MAX_KBPS},
                               _string(rate_pattern(zero=True) if rate_pattern else None)]},
                    "a rate, or 0", "500kbps")
Money = _value({"oneOf": [{"type": "integer", "minimum": 0, "maximum": 999_999}, _string(MONEY_PATTERN)]},
               "money per Mbps per epoch: a quoted decimal with at most 6 decimals, or a whole number "
               "(a float is refused as inexact)", "0.25")
Name = Annotated[StrictStr, Field(max_length=64, description="a name: ASCII letters, digits, '-' and '_', "
                                                             "starting with a letter", examples=["at1"])]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TierIn(_In):
    up_to: Rate
    ask_per_mbps: Money


class OfferIn(_In):
    """An offer on a link the caller owns, for the next epoch."""

    link: Name
    ask_per_mbps: Money
    id: Name | None = Field(None, description="default: offer-<link>")
    capacity: Rate | None = Field(None, description="per direction; default: the link's whole capacity")
    tiers: list[TierIn] | None = Field(None, max_length=32, description="rising price tiers, by cumulative capacity")
    seller: Name | None = Field(None, description="if given, the caller itself")


class OfferChange(_In):
    """New values for an offer; a key set to null goes back to its default."""

    ask_per_mbps: Money | None = None
    capacity: Rate | None = None
    tiers: list[TierIn] | None = Field(None, max_length=32)


class DemandIn(_In):
    """A bid from a host the caller owns, for the next epoch."""

    src: Name
    dst: Name
    max_rate: Rate
    value_per_mbps: Money
    id: Name | None = Field(None, description="default: <caller>-<n>")
    floor: RateOrZero | None = Field(None, description="a guaranteed minimum rate; 0 (the default) for none")
    buyer: Name | None = Field(None, description="if given, the caller itself")


class DemandChange(_In):
    """New values for a demand; a key set to null goes back to its default."""

    max_rate: Rate | None = None
    value_per_mbps: Money | None = None
    floor: RateOrZero | None = None


class TierOut(BaseModel):
    up_to_kbps: int
    ask_per_mbps: str


class OfferOut(BaseModel):
    id: str
    link: str
    seller: str
    capacity_kbps: int
    ask_per_mbps: str
    tiers: list[TierOut]

    @classmethod
    def of(cls, offer) -> "OfferOut":
        return cls(id=offer.id, link=offer.link, seller=offer.seller, capacity_kbps=offer.capacity_kbps,
                   ask_per_mbps=str(offer.ask_per_mbps),
                   tiers=[TierOut(up_to_kbps=t.up_to_kbps, ask_per_mbps=str(t.ask_per_mbps)) for t in offer.tiers])


class DemandOut(BaseModel):
    id: str
    buyer: str
    src: str
    dst: str
    max_kbps: int
    value_per_mbps: str
    floor_kbps: int

    @classmethod
    def of(cls, demand) -> "DemandOut":
        return cls(id=demand.id, buyer=demand.buyer, src=demand.src, dst=demand.dst, max_kbps=demand.max_kbps,
                   value_per_mbps=str(demand.value_per_mbps), floor_kbps=demand.floor_kbps)


class BookOut(BaseModel):
    epoch: int = Field(description="the epoch these offers and demands are for (the next clearing)")
    version: int = Field(description="how many changes the book has taken")
    offers: list[OfferOut]
    demands: list[DemandOut]


class PathOut(BaseModel):
    links: list[str]
    kbps: int


class DemandResultOut(BaseModel):
    id: str
    src: str
    dst: str
    allocated_kbps: int
    paths: list[PathOut]
    pays: str


class LinkResultOut(BaseModel):
    id: str
    owner: str
    allocated_kbps: int
    price_per_mbps: str


class ParticipantResultOut(BaseModel):
    name: str
    role: str
    pays: str
    receives: str


class ClearingOut(BaseModel):
    """The last clearing: ``MarketResult.to_json_dict()`` and its epoch."""

    epoch: int
    mechanism: str
    welfare: float
    demands: list[DemandResultOut]
    links: list[LinkResultOut]
    participants: list[ParticipantResultOut]
    budget_balance: str


class InvoiceOut(BaseModel):
    epoch: int
    participant: str
    role: str
    pays: str
    receives: str
    net: str
    demands: list[dict[str, Any]] = Field(description="per demand bought: allocation, paths, payment")
    links: list[dict[str, Any]] = Field(description="per link owned: allocation and price")
    usage: list[dict[str, Any]] = Field(description="measured usage next to allocation, once measured")


class MeOut(BaseModel):
    name: str
    role: str
    links: list[str] = Field(description="links the caller owns (it may offer them)")
    hosts: list[str] = Field(description="hosts the caller owns (it may bid from them)")
    offers: list[str]
    demands: list[str]


class ProblemOut(BaseModel):
    detail: str


class FieldProblem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class InvalidOut(BaseModel):
    """A request the scenario language refuses: one entry per problem, as FastAPI reports them."""

    detail: list[FieldProblem]
