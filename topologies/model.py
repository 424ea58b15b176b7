"""The scenario model: immutable data describing a multi-provider world.

A scenario is loaded once (see :mod:`topologies.loader`) and never changed
afterwards; every other layer reads it.  Units follow the design card:
capacities and rates are integer kbps, money is :class:`decimal.Decimal`,
latency is float milliseconds.

Example
-------
>>> from topologies.loader import load_scenario
>>> s = load_scenario("topologies/default.yaml")
>>> sorted(p.role for p in s.participants)[:2]
['backbone', 'backbone']
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Mapping

if TYPE_CHECKING:
    from .graph import ScenarioGraph

ROLES = ("backbone", "last_mile", "content", "community", "customer")
PROVIDER_ROLES = ("backbone", "last_mile", "content", "community")
MECHANISMS = ("vcg", "lmp", "pay-as-bid")
#: Market designs: ``open`` (the seed's protocol: customers bid end to end, any owner
#: sells) and ``poc`` ("A Public Option for the Core": a non-profit core leases backbone
#: links by auction and recovers its cost from the access providers; docs/poc.md).
MARKET_MODES = ("open", "poc")
#: How the POC shares its cost among the access providers attached to it (docs/poc.md).
FEE_RULES = ("usage", "attachment")
#: A tariff that passes an access provider's costs on to its customers, per Mbps served.
AT_COST = "at_cost"
#: How the controller forwards: ``market`` enforces the auction, ``shortest`` is
#: shortest-path forwarding with no market (the skeleton, and a baseline), and
#: ``hierarchical`` is today's Internet: each provider buys transit from one backbone
#: and providers do not peer (:mod:`controller.hierarchical`), no market.
PLANS = ("market", "shortest", "hierarchical")

#: The benchmarking range of RFC 2544; every emulated address comes from it.
EMULATION_RANGE = ipaddress.ip_network("198.18.0.0/15")
#: A demand's traffic goes to this UDP or TCP port of its destination host.  Demands
#: that share a (source host, destination host) pair are told apart by it: the k-th
#: demand of a pair, in file order, uses ``SERVICE_PORT + k`` (see :attr:`Scenario.demand_port`).
SERVICE_PORT = 5201


def assign_service_ports(demands, fixed: Mapping[str, int] | None = None) -> dict[str, int]:
    """Demand id -> destination port: ``fixed`` ports kept, every other demand the lowest
    port from ``SERVICE_PORT`` up that no other demand of its host pair holds, in order."""
    fixed = fixed or {}
    taken: dict[tuple[str, str], set[int]] = {}
    for d in demands:
        if d.id in fixed:
            taken.setdefault((d.src, d.dst), set()).add(fixed[d.id])
    ports = {}
    for d in demands:
        if d.id in fixed:
            ports[d.id] = fixed[d.id]
            continue
        used = taken.setdefault((d.src, d.dst), set())
        port = SERVICE_PORT
        while port in used:
            port += 1
        used.add(port)
        ports[d.id] = port
    return ports


@dataclass(frozen=True)
class Participant:
    """A named party: a provider owning switches and links, or a customer."""

    name: str
    role: str
    prefix: ipaddress.IPv4Network | None = None


@dataclass(frozen=True)
class Switch:
    """An OpenFlow switch owned by a provider, placed in a city.

    A multihomed host's device is a switch too (``device_of`` names the host): it is the
    host's own, owned by the host's owner, and its links are the host's attachments.
    """

    name: str
    owner: str
    city: str
    dpid: int
    device_of: str | None = None


@dataclass(frozen=True)
class Host:
    """An end host attached to one switch by an access link.

    A multihomed host (``attach:`` in a scenario) sits on its own device switch, and
    ``attachments`` are the ids of the links from that switch to its access providers:
    the market chooses, each epoch, which of them carries each of the host's demands.
    """

    name: str
    owner: str
    switch: str
    ip: ipaddress.IPv4Address
    prefixlen: int
    mac: str
    access_kbps: int
    attachments: tuple[str, ...] = ()


@dataclass(frozen=True)
class Link:
    """A full-duplex link between two switches; ``capacity_kbps`` is per direction."""

    id: str
    a: str
    b: str
    capacity_kbps: int
    latency_ms: float
    owner: str

    def other_end(self, switch: str) -> str:
        """The switch at the far end of the link seen from ``switch``."""
        if switch == self.a:
            return self.b
        if switch == self.b:
            return self.a
        raise ValueError(f"switch {switch!r} is not an end of link {self.id!r}")


@dataclass(frozen=True)
class PriceTier:
    """Capacity up to ``up_to_kbps`` (cumulative) sells at ``ask_per_mbps``."""

    up_to_kbps: int
    ask_per_mbps: Decimal


@dataclass(frozen=True)
class Offer:
    """Capacity on a link for sale by the link's owner, per direction, per epoch."""

    id: str
    link: str
    seller: str
    capacity_kbps: int
    ask_per_mbps: Decimal
    tiers: tuple[PriceTier, ...] = ()


@dataclass(frozen=True)
class Demand:
    """A bid: carry up to ``max_kbps`` from ``src`` to ``dst``, worth ``value_per_mbps``."""

    id: str
    buyer: str
    src: str
    dst: str
    max_kbps: int
    value_per_mbps: Decimal
    floor_kbps: int = 0
    #: the most the summed latency of a path may be (None: any path)
    max_latency_ms: float | None = None


#: How the market learns what a demand wants: as its bid says, or as its traffic shows.
DEMAND_ESTIMATIONS = ("declared", "measured")


@dataclass(frozen=True)
class PocSettings:
    """The public option's terms (``market.poc``), read when ``market.mode`` is ``poc``.

    ``tariff`` is what every access provider charges its customers per Mbps served,
    a :class:`~decimal.Decimal` or :data:`AT_COST`; ``tariffs`` overrides it per provider.

    >>> PocSettings(tariffs=(("metro", Decimal("0.5")),)).tariff_of("metro"), PocSettings().tariff_of("valley")
    (Decimal('0.5'), 'at_cost')
    """

    name: str = "poc"
    fee: str = "usage"
    tariff: Decimal | str = AT_COST
    tariffs: tuple[tuple[str, Decimal | str], ...] = ()

    def tariff_of(self, provider: str) -> Decimal | str:
        return dict(self.tariffs).get(provider, self.tariff)


@dataclass(frozen=True)
class MarketSettings:
    mechanism: str = "vcg"
    epoch_s: float = 30.0
    universal_floor_kbps: int = 0
    #: ``measured``: each epoch a demand bids for what it used plus headroom (never below
    #: its floor), or up to its max rate when its meter held it back (the closed loop).
    demand_estimation: str = "declared"
    #: one of :data:`MARKET_MODES`
    mode: str = "open"
    poc: PocSettings = PocSettings()


PATTERNS = ("constant", "poisson", "onoff")
PROTOCOLS = ("udp", "tcp")


@dataclass(frozen=True)
class TrafficSpec:
    """How a run sends one demand's traffic (``traffic:`` in a scenario).

    ``rate_kbps`` None means twice the demand's allocation (its max rate if it won
    nothing); ``flows`` None means the run's default; ``start_s``/``stop_s`` None mean
    the whole run (or the demand's time in the market).
    """

    flows: int | None = None
    pattern: str = "constant"
    on_s: float = 1.0
    off_s: float = 1.0
    packet_bytes: int = 1200
    protocol: str = "udp"
    rate_kbps: int | None = None
    start_s: float | None = None
    stop_s: float | None = None


@dataclass(frozen=True)
class EmulationSettings:
    """How the emulation maps real capacities onto what this machine can carry.

    Emulated bandwidth = real capacity x ``scale``.
    """

    scale: float = 1.0

    def emulated_kbps(self, kbps: int) -> int:
        """A real rate as the emulation carries it: the one place rates are scaled.

        Links are shaped, meters set and traffic offered at this rate.

        >>> EmulationSettings(0.001).emulated_kbps(10_000_000), EmulationSettings(0.5).emulated_kbps(1)
        (10000, 1)
        """
        return max(1, round(kbps * self.scale))


@dataclass(frozen=True)
class Event:
    """One timeline entry: at ``at_s`` seconds, ``action`` on ``target``."""

    at_s: float
    action: str
    target: str
    params: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    """A whole world: who takes part, what they own, what they sell and buy."""

    name: str
    participants: tuple[Participant, ...]
    switches: tuple[Switch, ...]
    hosts: tuple[Host, ...]
    links: tuple[Link, ...]
    offers: tuple[Offer, ...] = ()
    demands: tuple[Demand, ...] = ()
    market: MarketSettings = MarketSettings()
    emulation: EmulationSettings = EmulationSettings()
    timeline: tuple[Event, ...] = ()
    #: demand id -> how a run sends it; demands not named use ``traffic_default``
    traffic: Mapping[str, TrafficSpec] = field(default_factory=dict)
    traffic_default: TrafficSpec = TrafficSpec()
    source: str = "<memory>"
    #: demand id -> destination port, fixed when the scenario is made (see :attr:`demand_port`)
    service_ports: Mapping[str, int] = field(default_factory=dict, compare=False)

    def __post_init__(self):
        if not self.service_ports:  # the file's demands, then those its timeline adds
            added = [e.params["demand"] for e in self.timeline if e.action == "demand_add"]
            object.__setattr__(self, "service_ports", assign_service_ports([*self.demands, *added]))

    def traffic_of(self, demand: str) -> TrafficSpec:
        """How a run sends ``demand``."""
        return self.traffic.get(demand, self.traffic_default)

    # Look-ups by name; cached because the dataclass is frozen.
    @cached_property
    def participant(self) -> Mapping[str, Participant]:
        return {p.name: p for p in self.participants}

    @cached_property
    def switch(self) -> Mapping[str, Switch]:
        return {s.name: s for s in self.switches}

    @cached_property
    def switch_by_dpid(self) -> Mapping[int, Switch]:
        return {s.dpid: s for s in self.switches}

    @cached_property
    def host(self) -> Mapping[str, Host]:
        return {h.name: h for h in self.hosts}

    @cached_property
    def host_by_ip(self) -> Mapping[str, Host]:
        return {str(h.ip): h for h in self.hosts}

    @cached_property
    def link(self) -> Mapping[str, Link]:
        return {l.id: l for l in self.links}

    @cached_property
    def demand(self) -> Mapping[str, Demand]:
        return {d.id: d for d in self.demands}

    @cached_property
    def demand_port(self) -> Mapping[str, int]:
        """Demand id -> the destination port its traffic uses: ``SERVICE_PORT`` plus how many
        demands of the same (source host, destination host) pair come before it in the file
        (then those the timeline adds, in time order).  A demand keeps its port when others
        are withdrawn; one added later (through the API) takes the lowest port free on its pair.

        >>> s = Scenario("s", (), (), (), (), demands=(Demand("a", "b", "h1", "h2", 1, Decimal(1)),
        ...     Demand("c", "b", "h1", "h3", 1, Decimal(1)), Demand("e", "b", "h1", "h2", 1, Decimal(1))))
        >>> dict(s.demand_port), s.pair_demands[("h1", "h2")]
        ({'a': 5201, 'c': 5201, 'e': 5202}, ('a', 'e'))
        >>> from dataclasses import replace
        >>> later = replace(s, demands=(s.demands[2], Demand("f", "b", "h1", "h2", 1, Decimal(1))))
        >>> dict(later.demand_port)
        {'e': 5202, 'f': 5201}
        """
        return assign_service_ports(self.demands, self.service_ports)

    def port_of(self, demand_id: str) -> int:
        """The destination port of a demand of the scenario or of its timeline."""
        return self.demand_port.get(demand_id) or self.service_ports[demand_id]

    @cached_property
    def pair_demands(self) -> Mapping[tuple[str, str], tuple[str, ...]]:
        """(source host, destination host) -> the ids of the demands between them, in file order."""
        pairs: dict[tuple[str, str], list[str]] = {}
        for d in self.demands:
            pairs.setdefault((d.src, d.dst), []).append(d.id)
        return {pair: tuple(ids) for pair, ids in pairs.items()}

    @cached_property
    def graph(self) -> "ScenarioGraph":
        """Typed ports and the one shortest-path rule (see :mod:`topologies.graph`)."""
        from .graph import ScenarioGraph

        return ScenarioGraph(self)

    def role_of_switch(self, switch: str) -> str:
        """The role of the provider owning ``switch`` (``customer`` for a multihomed host's device)."""
        return self.participant[self.switch[switch].owner].role

    @cached_property
    def backbone_switches(self) -> frozenset[str]:
        """The switches of ``backbone`` participants."""
        return frozenset(s.name for s in self.switches if self.role_of_switch(s.name) == "backbone")

    def access_switches(self, host: str) -> tuple[str, ...]:
        """The providers' switches ``host`` attaches to: its switch, or each of a multihomed
        host's attachments' far ends.

        >>> from topologies.loader import load_scenario
        >>> s = load_scenario("topologies/library/multihomed.yaml")
        >>> s.host["phone"].switch, s.access_switches("phone"), s.access_switches("web")
        ('phone-d', ('cell', 'home'), ('dc',))
        """
        h = self.host[host]
        return tuple(self.link[a].other_end(h.switch) for a in h.attachments) or (h.switch,)

    @cached_property
    def multihomed(self) -> tuple[Host, ...]:
        """The hosts with several attachments, in file order."""
        return tuple(h for h in self.hosts if h.attachments)

    @cached_property
    def attachment_links(self) -> frozenset[str]:
        """Every multihomed host's attachment links."""
        return frozenset(a for h in self.hosts for a in h.attachments)

    def foreign_attachments(self, demand: Demand) -> frozenset[str]:
        """The attachment links ``demand`` may not use: those of hosts it does not join.
        A device switch is an end of paths, never a hop: a phone does not carry its
        two providers' traffic between them."""
        return self.attachment_links - {*self.host[demand.src].attachments, *self.host[demand.dst].attachments}
