"""The market's view of a scenario: directed arcs with offers, demands, floors.

Pure data extracted once from a :class:`~topologies.model.Scenario`; the
winner determination, the payment rules and the tests all read it.  Links
are full duplex: each offered link gives two arcs, each with the offer's
capacity and price tiers.  Links without an offer carry nothing.

>>> from topologies.loader import load_scenario
>>> m = market_from_scenario(load_scenario("topologies/default.yaml"))
>>> len(m.arcs) == 2 * len(m.scenario.offers)
True
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Mapping

from topologies.errors import OpenIspError
from topologies.model import Demand, Scenario


class MarketError(OpenIspError):
    """The market cannot clear: the message names the floors and links at fault."""


@dataclass(frozen=True)
class Tier:
    capacity_kbps: int
    ask_per_mbps: Decimal


@dataclass(frozen=True)
class Arc:
    """One direction of an offered link."""

    index: int
    link: str
    tail: str  # switch the traffic leaves
    head: str  # switch the traffic enters
    seller: str
    tiers: tuple[Tier, ...]
    latency_ms: float

    @property
    def capacity_kbps(self) -> int:
        return sum(t.capacity_kbps for t in self.tiers)


@dataclass(frozen=True)
class AccessLimit:
    """A host's access link as the market sees it: what its demands send
    (``up``) or receive (``down``) together, at most the link's capacity."""

    host: str
    direction: str  # "up" or "down"
    kbps: int
    demands: tuple[str, ...]


def access_limits(scenario: Scenario, demands) -> tuple[AccessLimit, ...]:
    """The access links that could bind: those whose demands ask for more than they carry.

    Every demand crosses its source host's access link and its destination
    host's, even when both hosts hang off one switch.
    """
    out = []
    for host in scenario.hosts:
        for direction, end in (("up", "src"), ("down", "dst")):
            mine = [d for d in demands if getattr(d, end) == host.name]
            if sum(d.max_kbps for d in mine) > host.access_kbps:
                out.append(AccessLimit(host.name, direction, host.access_kbps, tuple(d.id for d in mine)))
    return tuple(out)


@dataclass(frozen=True)
class Market:
    """Everything winner determination needs; the LPs take participants out by bounds."""

    scenario: Scenario
    arcs: tuple[Arc, ...]
    demands: tuple[Demand, ...]
    #: host -> guaranteed kbps across the demands it sends (the universal-service floor)
    host_floors: tuple[tuple[str, int], ...]
    access: tuple[AccessLimit, ...] = ()
    #: Arcs a demand may use, when not all (POC mode, :mod:`.poc`): sets of arc
    #: indices, and demand id -> its set's position here (a demand not named may use every arc).
    arc_classes: tuple[frozenset[int], ...] = ()
    demand_class: Mapping[str, int] = field(default_factory=dict)
    #: POC mode: a demand no path it may use joins has no floor, and adds nothing to
    #: its host's universal floor (in any market, a demand no path serves within its
    #: ``max_latency_ms`` adds nothing to the universal floor)
    drops_unroutable: bool = False
    #: The demands left out of their hosts' universal floors (no path they may use
    #: serves them); a counterfactual leaves them out too
    floorless: frozenset[str] = frozenset()

    @property
    def constrained(self) -> bool:
        """Are some demands' paths restricted (arc classes, latency bounds)?  The arc
        formulation cannot express that; column generation prices it exactly."""
        return bool(self.demand_class) or any(d.max_latency_ms is not None for d in self.demands)

    def src_switch(self, d: Demand) -> str:
        return self.scenario.host[d.src].switch

    def dst_switch(self, d: Demand) -> str:
        return self.scenario.host[d.dst].switch

    def floors_left_without(self, participant: str) -> dict[str, int]:
        """The universal floors of hosts ``participant`` sent from, once its
        demands are gone: no more than the other demands from there can carry
        (those in :attr:`floorless` carry nothing)."""
        hosts = {d.src for d in self.demands if d.buyer == participant}
        return {h: min(f, sum(d.max_kbps for d in self.demands
                              if d.src == h and d.buyer != participant and d.id not in self.floorless))
                for h, f in self.host_floors if h in hosts}


def _tiers(offer) -> tuple[Tier, ...]:
    """Cumulative ``up_to`` tiers become capacities per tier; the rest sells at the base ask."""
    tiers, used = [], 0
    for t in offer.tiers:
        up_to = min(t.up_to_kbps, offer.capacity_kbps)
        if up_to > used:
            tiers.append(Tier(up_to - used, t.ask_per_mbps))
            used = up_to
    if used < offer.capacity_kbps:
        tiers.append(Tier(offer.capacity_kbps - used, offer.ask_per_mbps))
    return tuple(tiers)


def universal_floors(scenario: Scenario, demands=None, cut: frozenset[str] = frozenset()) -> tuple[tuple[str, int], ...]:
    """Every host that sends something is guaranteed min(universal floor, what it asks for),
    asking with ``demands`` (default the scenario's) but those in ``cut`` (no path
    they may use can serve them)."""
    floor = scenario.market.universal_floor_kbps
    if floor <= 0:
        return ()
    asked: dict[str, int] = {}
    for d in scenario.demands if demands is None else demands:
        if d.id not in cut:
            asked[d.src] = asked.get(d.src, 0) + d.max_kbps
    return tuple((h, min(floor, kbps)) for h, kbps in asked.items())


def market_from_scenario(scenario: Scenario) -> Market:
    arcs = []
    for offer in scenario.offers:
        link = scenario.link[offer.link]
        for tail, head in ((link.a, link.b), (link.b, link.a)):
            arcs.append(Arc(len(arcs), link.id, tail, head, offer.seller, _tiers(offer), link.latency_ms))
    market = Market(scenario, tuple(arcs), scenario.demands, universal_floors(scenario),
                    access_limits(scenario, scenario.demands))
    if scenario.multihomed:  # no demand crosses a device switch it does not end at
        classes: dict[frozenset[int], int] = {}
        demand_class = {}
        for d in scenario.demands:
            foreign = scenario.foreign_attachments(d)
            arcs_of = frozenset(a.index for a in market.arcs if a.link not in foreign)
            demand_class[d.id] = classes.setdefault(arcs_of, len(classes))
        market = replace(market, arc_classes=tuple(classes), demand_class=demand_class)
    if any(d.max_latency_ms is not None for d in scenario.demands):
        # A host whose demand no path can serve within its bound is not guaranteed
        # a rate through that demand (the market notes it; ``check`` warns).
        from .pricing import unmeetable_bounds

        cut = frozenset(unmeetable_bounds(market))
        if cut:
            market = replace(market, host_floors=universal_floors(scenario, cut=cut), floorless=cut)
    return market
