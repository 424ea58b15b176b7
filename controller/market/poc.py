"""The public option for the core on an openisp world: who is what, and which links
each demand may use (``market.mode: poc``; docs/poc.md).

"A Public Option for the Core" (Harchol, Bergemann, Feamster, Friedman,
Krishnamurthy, Panda, Ratnasamy, Schapira, Shenker, SIGCOMM 2020): a non-profit
core (the POC) leases backbone links from bandwidth providers by auction;
last-mile providers (LMPs) buy their transit from it; content providers attach
to it directly or through an LMP; each pays for what it receives.  Read on a
scenario:

* the **core**: switches and links of ``backbone`` participants (the paper's
  bandwidth providers); the POC leases what it needs of their offers;
* **access providers** (who pay the POC): every ``last_mile``; a ``content``
  or ``community`` participant with a link to the core (attached directly);
  one without hangs off the last mile it links to, as its customer (a
  community member's home behind its last mile's line);
* a host's access provider is that of its switch (the host's owner itself when
  the host sits on a core switch); a multihomed host's is that of its first
  attachment, and its other attachments carry nothing: the POC's members are
  access providers, each answering for its own hosts (the open market, where
  each demand may pick any attachment, is where multihoming pays);
* a demand between two access providers crosses the core: it may use the core
  and the two providers' own links (those they own inside their domain or up
  to the core); a demand inside one provider stays on the provider's links
  inside its domain when they join its hosts (local first: no hairpin through
  the core), else it may cross the core too;
* links of anybody else carry nothing: a direct link between two last miles
  (in the paper last miles reach each other only through the core), a
  community member's rooftop link (only the POC buys capacity, and only from
  bandwidth providers).

>>> from topologies.loader import load_scenario
>>> s = load_scenario("topologies/default.yaml")
>>> w = poc_world(s)
>>> w.members
('metro', 'lakeside', 'valley', 'streamco')
>>> sorted(allowed_links(w, s, s.demand["ana-dev"]))  # metro -> lakeside: through the core, not mn-lk
['at1', 'at2', 'bo1', 'lk-at', 'mn-at', 'mn-bo', 'x1', 'x2']
>>> w.idle["mn-lk"]
'it joins metro and lakeside directly: in POC mode last miles reach each other through the core'
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Mapping

from topologies.crosscheck import components
from topologies.model import AT_COST, Demand, Scenario

from .network import Market, MarketError, access_limits, market_from_scenario, universal_floors
from .pricing import unmeetable_bounds

__all__ = ["PocWorld", "poc_world", "allowed_links", "tariff_provider", "poc_market", "neighbours"]


@dataclass(frozen=True)
class PocWorld:
    """The roles of a scenario's parts in POC mode."""

    poc: str                                  # the POC's name (a participant of the result only)
    core_switches: frozenset[str]
    domain: Mapping[str, str]                 # non-core switch -> its access provider
    host_member: Mapping[str, str]            # host -> its access provider
    core_links: frozenset[str]                # links of backbone owners: what the POC may lease
    own_links: Mapping[str, frozenset[str]]   # access provider -> its own links (inside its domain or to the core)
    members: tuple[str, ...]                  # access providers, in the scenario's order
    attachment_kbps: Mapping[str, int]        # access provider -> capacity of its links to the core
    idle: Mapping[str, str]                   # offered link POC mode never uses -> why


def _role(s: Scenario, switch: str) -> str:
    return s.participant[s.switch[switch].owner].role


def poc_world(s: Scenario) -> PocWorld:
    name = s.market.poc.name
    if name in s.participant:
        raise MarketError(f"the public option is named {name!r}, like a participant; set market.poc.name")
    core = s.backbone_switches
    domain = {sw.name: sw.owner for sw in s.switches if _role(s, sw.name) == "last_mile"}
    for p in s.participants:
        if p.role not in ("content", "community"):
            continue
        mine = {sw.name for sw in s.switches if sw.owner == p.name}
        ends = [(l.a, l.b) if l.a in mine else (l.b, l.a) for l in s.links if (l.a in mine) != (l.b in mine)]
        if any(other in core for _, other in ends):
            member = p.name  # attached to the core itself
        else:  # behind the first last mile it links to, else on its own
            member = next((domain[o] for _, o in ends if _role(s, o) == "last_mile"), p.name)
        domain.update({sw: member for sw in mine})
    device_home = {}  # a multihomed host's device switch -> its first attachment (module text)
    for h in s.multihomed:
        first = s.link[h.attachments[0]]
        device_home[h.switch] = first.id
        domain[h.switch] = domain.get(first.other_end(h.switch), h.owner)
    host_member = {h.name: h.owner if h.switch in core else domain[h.switch] for h in s.hosts}
    core_links = frozenset(l.id for l in s.links if s.participant[l.owner].role == "backbone")
    own: dict[str, set[str]] = {}
    for l in s.links:
        if l.id not in core_links and all(end in core or domain[end] == l.owner for end in (l.a, l.b)):
            own.setdefault(l.owner, set()).add(l.id)
    members = tuple(p.name for p in s.participants
                    if p.name in set(domain.values()) | {h.owner for h in s.hosts if h.switch in core})
    attachment = {m: 0 for m in members}
    for l in s.links:
        for end, other in ((l.a, l.b), (l.b, l.a)):
            if end not in core and other in core and (l.id in core_links or l.id in own.get(domain[end], ())):
                attachment[domain[end]] += l.capacity_kbps
    for h in s.hosts:
        if h.switch in core:
            attachment[h.owner] += h.access_kbps
    idle = {}
    for o in s.offers:
        l = s.link[o.link]
        if l.id in core_links or l.id in own.get(l.owner, ()):
            continue
        device = next((end for end in (l.a, l.b) if end in device_home), None)
        if device is not None:
            idle[l.id] = f"it is a later attachment of multihomed host {s.switch[device].device_of}: in POC mode " \
                         f"a host reaches the core through one access provider, that of its first ({device_home[device]})"
            continue
        sides = [m for m in dict.fromkeys((domain.get(l.a), domain.get(l.b))) if m is not None]
        if len(sides) == 2:
            idle[l.id] = f"it joins {sides[0]} and {sides[1]} directly: in POC mode last miles reach each other " \
                         "through the core"
        else:
            idle[l.id] = f"{l.owner} owns it, neither a backbone nor the access provider of its switches: in POC " \
                         "mode only the POC buys capacity, from backbone owners"
    return PocWorld(name, core, domain, host_member, core_links, {m: frozenset(v) for m, v in own.items()},
                    members, attachment, idle)


def allowed_links(w: PocWorld, s: Scenario, d: Demand) -> frozenset[str]:
    """The links demand ``d`` may use in POC mode (offered or not)."""
    a, b = w.host_member[d.src], w.host_member[d.dst]
    own = (w.own_links.get(a, frozenset()) | w.own_links.get(b, frozenset())) - s.foreign_attachments(d)
    if a == b:  # local first: one access provider keeps its own traffic inside when its links join its hosts
        inside = {l for l in own if s.link[l].a not in w.core_switches and s.link[l].b not in w.core_switches}
        offered = {o.link for o in s.offers} & inside
        group = components((sw.name for sw in s.switches), ((s.link[l].a, s.link[l].b) for l in offered))
        if group[s.host[d.src].switch] == group[s.host[d.dst].switch]:
            return frozenset(inside)
    return own | (w.core_links - s.foreign_attachments(d))


def tariff_provider(w: PocWorld, s: Scenario, d: Demand) -> str | None:
    """The access provider whose tariff ``d``'s buyer pays: that of the buyer's host
    (its source's when it owns neither); None when the buyer is an access provider,
    which pays the POC itself."""
    if d.buyer in w.members:
        return None
    for host in (d.src, d.dst):
        if s.host[host].owner == d.buyer:
            return w.host_member[host]
    return w.host_member[d.src]


def neighbours(w: PocWorld, s: Scenario, d: Demand) -> bool:
    """Hosts of one access provider, or of two joined by a direct link: traffic that
    the open market may keep off the backbone (local first)."""
    a, b = w.host_member[d.src], w.host_member[d.dst]
    if a == b:
        return True
    return any(l.id not in w.core_links and {w.domain.get(l.a), w.domain.get(l.b)} == {a, b} for l in s.links)


def poc_market(s: Scenario, w: PocWorld) -> tuple[Market, list[str]]:
    """The market the POC clears: every offer (the core's are bids in its reverse
    auction, the access providers' own links their costs), each demand restricted to
    the links it may use, and notes on what POC mode changes.

    A demand whose buyer would pay a fixed tariff above its value does not buy: it
    is worth nothing to the POC beyond its floor.  A floor that no path POC mode
    allows can meet is dropped (with a note), and so is the demand's part of its
    host's universal floor: the POC guarantees only what its design can carry."""
    base = market_from_scenario(s)
    by_why: dict[str, list[str]] = {}
    for link, why in w.idle.items():
        by_why.setdefault(why.split(":", 1)[1] if why.startswith("it joins") else why, []).append(link)
    notes = []
    for why, links in by_why.items():
        named = ", ".join(links[:8]) + (f" and {len(links) - 8} more" if len(links) > 8 else "")
        notes.append(f"POC mode: {'link' if len(links) == 1 else 'links'} {named} "
                     f"{'carries' if len(links) == 1 else 'carry'} nothing: "
                     + (w.idle[links[0]] if len(links) == 1 else why.strip()))
    classes: dict[frozenset[int], int] = {}
    demand_class: dict[str, int] = {}
    demands = []
    for d in s.demands:
        links = allowed_links(w, s, d)
        arcs = frozenset(a.index for a in base.arcs if a.link in links)
        demand_class[d.id] = classes.setdefault(arcs, len(classes))
        provider = tariff_provider(w, s, d)
        tariff = s.market.poc.tariff_of(provider) if provider else AT_COST
        if tariff != AT_COST and d.value_per_mbps < tariff:
            notes.append(f"demand {d.id} does not buy: its value {d.value_per_mbps} per Mbps is below {provider}'s "
                         f"tariff {tariff}" + (" (it keeps its floors)" if d.floor_kbps or s.market.universal_floor_kbps
                                                else ""))
            d = replace(d, value_per_mbps=d.value_per_mbps * 0)
        demands.append(d)
    market = replace(base, demands=tuple(demands), arc_classes=tuple(classes), demand_class=demand_class,
                     drops_unroutable=True)
    cut = unmeetable_bounds(market)
    for d in demands:
        if d.id in cut and d.max_latency_ms is None:
            notes.append(f"demand {d.id} cannot be served in POC mode: no path it may use joins its hosts"
                         + (" (its floor is dropped)" if d.floor_kbps else ""))
        elif d.id in cut and d.floor_kbps:
            notes.append(f"demand {d.id}: POC mode drops its floor: no path it may use meets its max_latency_ms")
    demands = [replace(d, floor_kbps=0) if d.id in cut else d for d in demands]
    host_floors = universal_floors(s, demands, frozenset(cut))
    if s.market.universal_floor_kbps > 0:
        kept = {h for h, _ in host_floors}
        for host in dict.fromkeys(d.src for d in demands if d.src not in kept):
            notes.append(f"host {host}: POC mode drops its universal floor: no demand it sends has a path it may use")
    return replace(market, demands=tuple(demands), host_floors=host_floors, floorless=frozenset(cut),
                   access=access_limits(s, demands)), notes
