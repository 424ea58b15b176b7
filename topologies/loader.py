"""Turn a scenario YAML file into an immutable :class:`~topologies.model.Scenario`.

Every problem is collected and reported at once, sorted by line, each with
file, line and key path; nothing is half-loaded.  What each value may be is
declared once in :mod:`topologies.language` (the schema is written from it);
this module adds what a schema cannot see: references between names,
uniqueness, addresses, sums of offers, the timeline's order, and, once every
item is valid, the checks of :mod:`topologies.crosscheck`.  A name that is
declared, even in a broken item, is known: one root cause gives one problem,
not a cascade of "unknown ..." after it.  See ``docs/scenario.md``.

>>> s = load_scenario("topologies/default.yaml")
>>> len(s.hosts) >= 8
True
"""
from __future__ import annotations

import ipaddress
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

from . import crosscheck
from .errors import Problem
from .language import (ACTION, ACTIONS, ATTACHMENT, DEMAND, DEMAND_ADDED, DEVICE_SUFFIX, EMULATION, MARKET,
                       MAX_NODE_NAME, OFFER, RESERVED_NODE_NAMES, SECTIONS, TOP, TRAFFIC)
from .model import (Demand, EmulationSettings, Event, Host, Link, MarketSettings, Offer, Participant, PocSettings,
                    PriceTier, Scenario, Switch, TrafficSpec)
from .reader import Reader
from .units import describe
from .yamlsource import KeyPath, read_yaml_file, read_yaml_text

TOP_KEYS = set(TOP.fields)
DEFAULT_ACCESS_KBPS = 100_000
Progress = Callable[[str], None]


def load_scenario(path: str | Path, progress: Progress | None = None) -> Scenario:
    """Load and validate a scenario file; raise :class:`ScenarioError` listing every problem."""
    return load_checked(path, progress)[0]


def load_checked(path: str | Path, progress: Progress | None = None) -> tuple[Scenario, list[Problem]]:
    """Like :func:`load_scenario`, with the warnings of a valid file (e.g. demands no offer can serve)."""
    progress = progress or _quiet
    progress("reading YAML")
    data, lines = read_yaml_file(path)
    scenario = build_scenario(data, lines, str(path), progress)
    progress("looking for demands no offer can serve")
    return scenario, crosscheck.warnings(scenario, lines)


def load_scenario_text(text: str, file: str = "<text>") -> Scenario:
    """Like :func:`load_scenario`, from a string (tests and generators use it)."""
    data, lines = read_yaml_text(text, file)
    return build_scenario(data, lines, file)


def _quiet(_: str) -> None:
    pass


def build_scenario(data: Any, lines: dict[KeyPath, int], file: str, progress: Progress | None = None) -> Scenario:
    progress = progress or _quiet
    r = Reader(file, lines)
    top = r.fields(data, (), TOP)
    if top is None:
        raise r.error()
    participants = _participants(r, top)
    progress("switches and hosts")
    switches = _switches(r, top)
    hosts, devices, attachments = _hosts(r, top, switches)
    switches += devices
    progress("links and offers")
    links = _links(r, top) + attachments
    sold: dict[str, int] = {}
    offers = [o for path, item in r.items(top, "offers") if (o := _offer(r, item, path, sold)) is not None]
    progress("demands")
    demands = [d for path, item in r.items(top, "demands") if (d := _demand(r, item, path)) is not None]
    market = _market(r, top.get("market", {}))
    emulation = _emulation(r, top.get("emulation", {}))
    timeline = _timeline(r, top)
    traffic_default, traffic = _traffic(r, top.get("traffic", {}))
    if r.problems:
        raise r.error()
    scenario = Scenario(
        name=top["name"], participants=tuple(participants), switches=tuple(switches), hosts=tuple(hosts),
        links=tuple(links), offers=tuple(offers), demands=tuple(demands), market=market, emulation=emulation,
        timeline=timeline, traffic=traffic, traffic_default=traffic_default, source=file,
    )
    progress("connectivity and interface names")
    for path, message in crosscheck.problems(scenario):
        r.problem(path, message)
    if r.problems:
        raise r.error()
    return scenario


def _participants(r: Reader, top: dict) -> list[Participant]:
    out: list[Participant] = []
    for path, item in r.items(top, "participants"):
        f = r.fields(item, path, SECTIONS["participants"])
        name = r.define("participant", item, "name", path)
        if f is None:
            continue
        prefix = None
        if "prefix" in f:
            try:
                prefix = ipaddress.IPv4Network(f["prefix"])
            except ValueError:
                network = ipaddress.IPv4Network(f["prefix"], strict=False)
                r.problem(path + ("prefix",), f"prefix {f['prefix']} has host bits set: write {network}")
        if name and name == f.get("name") and "role" in f and (prefix is not None or "prefix" not in item):
            out.append(Participant(name, f["role"], prefix))
            r.names["participant"][name] = out[-1]
    ranked = sorted((p.prefix.network_address, p.prefix.prefixlen, i, p) for i, p in enumerate(out) if p.prefix)
    widest = None  # of the prefixes so far (by start), the one reaching furthest
    for _, _, i, p in ranked:
        if widest is not None and p.prefix.network_address <= widest[1].prefix.broadcast_address:
            later, earlier = (p, widest[1]) if i > widest[0] else (widest[1], p)
            r.problem(("participants", _index(top["participants"], later.name), "prefix"),
                      f"prefix {later.prefix} overlaps {earlier.prefix} of {earlier.name}")
        if widest is None or p.prefix.broadcast_address > widest[1].prefix.broadcast_address:
            widest = (i, p)
    return out


def _index(items: list, name: str) -> int:
    return next(i for i, item in enumerate(items) if isinstance(item, dict) and item.get("name") == name)


def _node_name(r: Reader, kind: str, item: Any, path: KeyPath) -> str | None:
    """Switches and hosts are Mininet nodes: one namespace, and the controller's name is taken."""
    name = r.define(kind, item, "name", path)
    other = "host" if kind == "switch" else "switch"
    if name and (r.known(other, name) or name in RESERVED_NODE_NAMES):
        why = f"a {other} is named {name!r} too" if r.known(other, name) else "the emulation's controller has it"
        r.problem(path + ("name",), f"{kind} name {name!r} is taken: {why} (switches and hosts share Mininet's names)")
    return name


def _switches(r: Reader, top: dict) -> list[Switch]:
    out: list[Switch] = []
    dpids: dict[int, int] = {}
    for path, item in r.items(top, "switches"):
        f = r.fields(item, path, SECTIONS["switches"])
        name = _node_name(r, "switch", item, path)
        if f is None:
            continue
        owner = r.refer("participant", f, "owner", path)
        if owner is not None and owner.role == "customer":
            r.problem(path + ("owner",), f"{owner.name!r} is a customer; switches belong to providers")
        dpid = f.get("dpid", path[1] + 1 if "dpid" not in item else None)
        if dpid is not None and dpid in dpids:
            given = "" if "dpid" in item else " (its position in the list, the default)"
            r.problem(path + ("dpid",), f"duplicate dpid {dpid}{given}: switches[{dpids[dpid]}] has it")
        elif dpid is not None:
            dpids[dpid] = path[1]
        if name and name == f.get("name") and owner is not None and dpid is not None:
            out.append(Switch(name, owner.name, f.get("city", ""), dpid))
            r.names["switch"][name] = out[-1]
    return out


def _hosts(r: Reader, top: dict, switches: list[Switch]) -> tuple[list[Host], list[Switch], list[Link]]:
    """The hosts, and for each multihomed one its device switch and attachment links."""
    out: list[Host] = []
    devices: list[Switch] = []
    attachments: list[Link] = []
    next_addr: dict[str, int] = {}
    taken: dict[ipaddress.IPv4Address, int] = {}
    for path, item in r.items(top, "hosts"):
        f = r.fields(item, path, SECTIONS["hosts"])
        name = _node_name(r, "host", item, path)
        if f is None:
            continue
        owner = r.refer("participant", f, "owner", path)
        if ("switch" in item) == ("attach" in item):
            r.problem(path, "a host needs either switch (one access provider) or attach (several), not "
                            + ("both" if "switch" in item else "neither"))
            continue
        if "attach" in item:
            attached = _attachments(r, f, item, path, name)
            if attached is None:
                continue
            first = attached[0][0]
        else:
            first = r.refer("switch", f, "switch", path)
            attached = []
        ip, holder = None, None
        if owner is not None and first is not None:
            # The address comes from the owner's prefix, else from the (first) access provider's.
            holder = owner if owner.prefix else r.names["participant"].get(first.owner)
        if holder is not None and holder.prefix is None:
            r.problem(path, f"no prefix to number host from: give {owner.name!r} or {first.owner!r} a prefix, "
                            "or the host an ip")
        elif holder is not None:
            ip = _address(r, f, item, path, holder, next_addr)
        if ip is not None and ip in taken:
            r.problem(path + ("ip",), f"address {ip} is used twice: hosts[{taken[ip]}] has it")
            ip = None
        if ip is not None:
            taken[ip] = path[1]
        if name and name == f.get("name") and ip is not None and ("access" in f or "access" not in item):
            index = len(out) + 1
            mac = "02:00:00:%02x:%02x:%02x" % ((index >> 16) & 0xFF, (index >> 8) & 0xFF, index & 0xFF)
            switch = first.name
            if attached:
                switch = name + DEVICE_SUFFIX
                dpid = max((s.dpid for s in switches + devices), default=0) + 1
                devices.append(Switch(switch, owner.name, first.city, dpid, device_of=name))
                r.names["switch"][switch] = devices[-1]
                for access, lid, capacity, latency in attached:
                    attachments.append(Link(lid, switch, access.name, capacity, latency, access.owner))
                    r.names["link"][lid] = attachments[-1]
            out.append(Host(name, owner.name, switch, ip, holder.prefix.prefixlen, mac,
                            f.get("access", DEFAULT_ACCESS_KBPS), tuple(lid for _, lid, _, _ in attached)))
            r.names["host"][name] = out[-1]
    return out, devices, attachments


def _attachments(r: Reader, f: dict, item: dict, path: KeyPath, host: str | None) -> list | None:
    """A multihomed host's ``attach`` list: ``(provider switch, link id, kbps, ms)`` each, or
    None when it is broken (every problem reported)."""
    if "attach" not in f:
        return None  # not a list: reported by fields()
    if host and len(host) + len(DEVICE_SUFFIX) > MAX_NODE_NAME:
        r.problem(path + ("name",), f"a multihomed host's name has at most {MAX_NODE_NAME - len(DEVICE_SUFFIX)} "
                                    f"characters: its device switch is named {host + DEVICE_SUFFIX!r}")
        host = None
    elif host and (r.known("switch", host + DEVICE_SUFFIX) or r.known("host", host + DEVICE_SUFFIX)):
        r.problem(path + ("name",), f"host {host!r} is multihomed, so its device switch is named "
                                    f"{host + DEVICE_SUFFIX!r}, but a node has that name")
        host = None
    if len(f["attach"]) < 2:
        r.problem(path + ("attach",), "attach lists two or more access providers' switches; "
                                      "for one, write switch: instead")
        return None
    out, seen = [], set()
    for i, raw in enumerate(f["attach"]):
        at = path + ("attach", i)
        a = r.fields(raw, at, ATTACHMENT)
        if a is None:
            continue
        access = r.refer("switch", a, "switch", at)
        if access is not None and access.name in seen:
            r.problem(at + ("switch",), f"{host or 'the host'} attaches to {access.name} twice")
            access = None
        lid = r.define("link", {"id": a.get("id", f"{host}-{a.get('switch')}") if host else a.get("id")},
                       "id", at)
        if access is None or lid is None or "capacity" not in a:
            continue
        seen.add(access.name)
        out.append((access, lid, a["capacity"], a.get("latency_ms", 1.0)))
    return out if len(out) == len(f["attach"]) and host else None


def _address(r: Reader, f: dict, item: dict, path: KeyPath, holder: Participant, next_addr: dict):
    prefix = holder.prefix
    if "ip" in item:
        if "ip" not in f:
            return None
        ip = ipaddress.IPv4Address(f["ip"])
        if ip not in prefix:
            r.problem(path + ("ip",), f"address {ip} is outside {holder.name}'s prefix {prefix}")
            return None
        if prefix.prefixlen < 31 and ip in (prefix.network_address, prefix.broadcast_address):
            r.problem(path + ("ip",), f"address {ip} is the {'network' if ip == prefix.network_address else 'broadcast'}"
                                      f" address of {prefix}, not a host's")
            return None
        return ip
    n = next_addr.get(holder.name, 1)
    next_addr[holder.name] = n + 1
    ip = prefix.network_address + n if n < prefix.num_addresses else None
    if ip is None or ip == prefix.broadcast_address and prefix.prefixlen < 31:
        r.problem(path, f"prefix {prefix} of {holder.name} has no free address left")
        return None
    return ip


def _links(r: Reader, top: dict) -> list[Link]:
    out: list[Link] = []
    for path, item in r.items(top, "links"):
        f = r.fields(item, path, SECTIONS["links"])
        lid = r.define("link", item, "id", path)
        if f is None:
            continue
        a, b = r.refer("switch", f, "a", path), r.refer("switch", f, "b", path)
        if f.get("a") is not None and f.get("a") == f.get("b"):
            r.problem(path + ("b",), "a link must join two different switches")
            a = None
        owner = r.refer("participant", f, "owner", path)
        if lid and lid == f.get("id") and a and b and owner and "capacity" in f and \
                ("latency_ms" in f or "latency_ms" not in item):
            out.append(Link(lid, a.name, b.name, f["capacity"], f.get("latency_ms", 1.0), owner.name))
            r.names["link"][lid] = out[-1]
    return out


def _offer(r: Reader, item: Any, path: KeyPath, sold: dict[str, int], timeline: bool = False) -> Offer | None:
    """One offer (of the list, or added by the timeline); ``sold`` sums the list's offers per link."""
    f = r.fields(item, path, OFFER)
    if f is None:
        return None
    link = r.refer("link", f, "link", path)
    default = f"offer-{f['link']}" if "link" in f else None
    oid = _added_id(f, item, default) if timeline else r.define("offer", item, "id", path, default=default)
    seller = f.get("seller", link.owner if link else None)
    if link is not None and "seller" in f and seller != link.owner:
        r.problem(path + ("seller",), f"{seller!r} cannot offer link {link.id!r}: it belongs to {link.owner!r}")
    capacity = f.get("capacity", link.capacity_kbps if link else None) if "capacity" in f or "capacity" not in item \
        else None
    if link is not None and capacity is not None:
        if capacity > link.capacity_kbps:
            r.problem(path + ("capacity",), f"offers {capacity} kbps on a link of {link.capacity_kbps} kbps")
        elif not timeline:
            sold[link.id] = sold.get(link.id, 0) + capacity
            if sold[link.id] > link.capacity_kbps:
                r.problem(path + ("capacity",), f"offers on link {link.id!r} sell {sold[link.id]} kbps in all, "
                                                f"more than its {link.capacity_kbps} kbps")
    tiers = _tiers(r, f.get("tiers", []), path + ("tiers",))
    if oid and link and seller == link.owner and capacity is not None and "ask_per_mbps" in f and tiers is not None:
        offer = Offer(oid, link.id, seller, capacity, f["ask_per_mbps"], tiers)
        if not timeline:
            r.names["offer"][oid] = offer
        return offer
    return None


def _tiers(r: Reader, items: list, path: KeyPath) -> tuple[PriceTier, ...] | None:
    tiers, ok = [], True
    for i, item in enumerate(items):
        f = r.fields(item, path + (i,), OFFER.fields["tiers"].items)
        if f is None or "up_to" not in f or "ask_per_mbps" not in f:
            ok = False
            continue
        if tiers and f["up_to"] <= tiers[-1].up_to_kbps:
            r.problem(path + (i, "up_to"), "tiers must rise in up_to")
            ok = False
        tiers.append(PriceTier(f["up_to"], f["ask_per_mbps"]))
    return tuple(tiers) if ok else None


def _added_id(f: dict, item: dict, default: str | None) -> str | None:
    """The id of an offer or demand the timeline adds: checked against the others in time order."""
    return f.get("id") if "id" in item else default


def _demand(r: Reader, item: Any, path: KeyPath, timeline: bool = False) -> Demand | None:
    f = r.fields(item, path, DEMAND_ADDED if timeline else DEMAND)
    if f is None:
        return None
    did = _added_id(f, item, None) if timeline else r.define("demand", item, "id", path, default=f"d{path[-1] + 1}")
    src, dst = r.refer("host", f, "src", path), r.refer("host", f, "dst", path)
    if "src" in f and f.get("src") == f.get("dst"):
        r.problem(path + ("dst",), "a demand needs two different hosts")
        dst = None
    if "floor" in f and "max_rate" in f and f["floor"] > f["max_rate"]:
        r.problem(path + ("floor",), f"floor {f['floor']} kbps is above max_rate {f['max_rate']} kbps")
    buyer = r.refer("participant", f, "buyer", path) if "buyer" in f else None
    buyer_name = buyer.name if buyer else (src.owner if src and "buyer" not in item else None)
    if did and src and dst and buyer_name and "max_rate" in f and "value_per_mbps" in f and \
            ("floor" in f or "floor" not in item) and f.get("floor", 0) <= f["max_rate"] and \
            ("max_latency_ms" in f or "max_latency_ms" not in item):
        demand = Demand(did, buyer_name, src.name, dst.name, f["max_rate"], f["value_per_mbps"], f.get("floor", 0),
                        f.get("max_latency_ms"))
        if not timeline:
            r.names["demand"][did] = demand
        return demand
    return None


def _market(r: Reader, item: Any) -> MarketSettings:
    f = r.fields(item, ("market",), MARKET) or {}
    return MarketSettings(f.get("mechanism", "vcg"), f.get("epoch_s", 30.0), f.get("universal_floor", 0),
                          f.get("demand_estimation", "declared"), f.get("mode", "open"),
                          _poc(r, f.get("poc", {}), f.get("mode", "open")))


#: Who may set a tariff: the roles that can be an access provider in POC mode (docs/poc.md).
ACCESS_ROLES = ("last_mile", "content", "community")


def _poc(r: Reader, item: Any, mode: str) -> PocSettings:
    """The public option's terms: its name may not be a participant's, tariffs name access providers once."""
    path = ("market", "poc")
    f = r.fields(item, path, MARKET.fields["poc"]) or {}
    name = f.get("name", PocSettings.name)
    if r.known("participant", name) and ("name" in f or mode == "poc"):
        r.problem(path + ("name",) if "name" in f else ("market", "mode"),
                  f"the public option is named {name!r}, like a participant; give market.poc a name of its own")
    tariffs: dict[str, object] = {}
    for i, entry in enumerate(f.get("tariffs", ())):
        at = path + ("tariffs", i)
        g = r.fields(entry, at, MARKET.fields["poc"].fields["tariffs"].items)
        if g is None or "provider" not in g or "tariff" not in g:
            continue
        provider = r.refer("participant", g, "provider", at)
        if provider is not None and provider.role not in ACCESS_ROLES:
            r.problem(at + ("provider",), f"{provider.name!r} is a {provider.role}; tariffs are set by access "
                                          f"providers ({', '.join(ACCESS_ROLES)})")
        elif g["provider"] in tariffs:
            r.problem(at + ("provider",), f"provider {g['provider']!r} has its tariff given twice")
        elif provider is not None:
            tariffs[g["provider"]] = g["tariff"]
    return PocSettings(name, f.get("fee", PocSettings.fee), f.get("tariff", PocSettings.tariff), tuple(tariffs.items()))


def _traffic_spec(r: Reader, f: dict, path, base: TrafficSpec) -> TrafficSpec:
    spec = replace(base, **{key: f[key] for key in ("flows", "pattern", "on_s", "off_s", "protocol", "start_s",
                                                    "stop_s") if key in f},
                   **({"packet_bytes": f["packet_size"]} if "packet_size" in f else {}),
                   **({"rate_kbps": f["rate"]} if "rate" in f else {}))
    if spec.start_s is not None and spec.stop_s is not None and spec.stop_s <= spec.start_s:
        r.problem(path + ("stop_s",), f"stop_s {spec.stop_s:g} is not after start_s {spec.start_s:g}")
    if spec.protocol == "tcp" and spec.pattern != "constant":
        r.problem(path + ("pattern",), "TCP traffic is sent at a constant rate; pattern must be constant")
    return spec


def _traffic(r: Reader, item: Any) -> tuple[TrafficSpec, dict[str, TrafficSpec]]:
    """The run's traffic: a default for every demand, and per demand what differs from it."""
    f = r.fields(item, ("traffic",), TRAFFIC) or {}
    default = _traffic_spec(r, r.fields(f.get("default", {}), ("traffic", "default"), TRAFFIC.fields["default"])
                            or {}, ("traffic", "default"), TrafficSpec())
    per: dict[str, TrafficSpec] = {}
    for i, entry in enumerate(f.get("demands", ())):
        path = ("traffic", "demands", i)
        g = r.fields(entry, path, TRAFFIC.fields["demands"].items)
        if g is None or "demand" not in g:
            continue
        if g["demand"] in per:
            r.problem(path + ("demand",), f"demand {g['demand']!r} has its traffic given twice")
        elif r.known("demand", g["demand"]):
            per[g["demand"]] = _traffic_spec(r, g, path, default)
        else:
            r.problem(path + ("demand",), f"unknown demand {g['demand']!r}")
    return default, per


def _emulation(r: Reader, item: Any) -> EmulationSettings:
    f = r.fields(item, ("emulation",), EMULATION) or {}
    return EmulationSettings(f.get("scale", 1.0))


def _timeline(r: Reader, top: dict) -> tuple[Event, ...]:
    """Events in time order: links failing and healing, offers and demands coming and going.

    ``offer_add``/``demand_add`` carry a whole offer or demand under ``offer:`` or
    ``demand:``; ``*_change`` name one by id and give the new fields; the rest name
    a link, offer or demand by id, which must exist at that time.
    """
    events: list[tuple[Event, KeyPath]] = []
    for path, item in r.items(top, "timeline"):
        if not isinstance(item, dict):
            r.problem(path, f"expected a mapping with at_s and action, got {describe(item)}")
            continue
        if "action" not in item:
            r.problem(path, "missing key 'action'")
            continue
        try:
            action = ACTION.parse(item["action"])
        except ValueError as exc:
            r.problem(path + ("action",), str(exc))
            continue
        kind = action.split("_")[0]
        f = r.fields(item, path, ACTIONS[action])
        if kind not in f:
            continue  # missing or malformed: reported
        params: dict[str, object] = {k: v for k, v in f.items() if k not in ("at_s", "action", kind)}
        if action.endswith("_add"):
            made = (_offer(r, item[kind], path + (kind,), {}, timeline=True) if kind == "offer"
                    else _demand(r, item[kind], path + (kind,), timeline=True))
            if made is None:
                continue
            target, params = made.id, {kind: made}
        else:
            target = f[kind]
        if "at_s" in f:
            events.append((Event(f["at_s"], action, target, params), path))
    events.sort(key=lambda e: e[0].at_s)
    alive = {kind: set(r.names.get(kind, ())) for kind in ("link", "offer", "demand")}
    ever = {kind: alive[kind] | {e.target for e, _ in events if e.action == f"{kind}_add"} for kind in alive}
    down: set[str] = set()
    for event, path in events:
        kind = event.action.split("_")[0]
        exists = event.target in alive[kind]
        if kind == "link" and exists and (event.action == "link_down") == (event.target in down):
            state = "down" if event.target in down else "up"
            r.problem(path + (kind,), f"link {event.target!r} is already {state} at {event.at_s:g} s")
        elif kind == "link" and exists:
            (down.add if event.action == "link_down" else down.discard)(event.target)
        if event.action.endswith("_add"):
            if exists:
                r.problem(path + (kind, "id"), f"{kind} {event.target!r} already exists at {event.at_s:g} s")
            alive[kind].add(event.target)
        elif not exists:
            r.problem(path + (kind,), f"{kind} {event.target!r} does not exist at {event.at_s:g} s"
                      if event.target in ever[kind] else f"unknown {kind} {event.target!r}")
        elif event.action.endswith("_withdraw"):
            alive[kind].discard(event.target)
    return tuple(e for e, _ in events)
