"""Turn a scenario YAML file into an immutable :class:`~topologies.model.Scenario`.

Every problem is collected and reported at once, each with file, line and key
path; nothing is half-loaded.  See ``docs/scenario.md`` for the language.

>>> s = load_scenario("topologies/default.yaml")
>>> len(s.hosts) >= 8
True
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

from .errors import Problem, ScenarioError
from .model import (
    EMULATION_RANGE, MECHANISMS, ROLES, Demand, EmulationSettings, Event, Host, Link,
    MarketSettings, Offer, Participant, PriceTier, Scenario, Switch,
)
from .units import parse_money, parse_rate_kbps
from .yamlsource import KeyPath, format_path, read_yaml_file, read_yaml_text

TOP_KEYS = {"name", "participants", "switches", "hosts", "links", "offers", "demands",
            "market", "emulation", "timeline", "description"}
DEFAULT_ACCESS_KBPS = 100_000


@dataclass
class _Reader:
    """Collects problems while fields are read; one per scenario file."""

    file: str
    lines: dict[KeyPath, int]
    problems: list[Problem] = field(default_factory=list)

    def problem(self, path: KeyPath, message: str) -> None:
        line = None
        for cut in range(len(path), -1, -1):
            if path[:cut] in self.lines:
                line = self.lines[path[:cut]]
                break
        self.problems.append(Problem(self.file, line, format_path(path), message))

    def mapping(self, value: Any, path: KeyPath, required: set[str], optional: set[str]) -> dict | None:
        if not isinstance(value, dict):
            self.problem(path, f"expected a mapping, got {type(value).__name__}")
            return None
        for key in value:
            if key not in required | optional:
                self.problem(path + (key,), f"unknown key {key!r} (known: {', '.join(sorted(required | optional))})")
        for key in sorted(required - set(value)):
            self.problem(path, f"missing key {key!r}")
        return value

    def sequence(self, data: dict, key: str) -> list:
        value = data.get(key, [])
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem((key,), f"expected a list, got {type(value).__name__}")
            return []
        return value

    def convert(self, value: Any, path: KeyPath, fn: Callable[[Any], Any], default: Any = None) -> Any:
        try:
            return fn(value)
        except (ValueError, TypeError) as exc:
            self.problem(path, str(exc))
            return default

    def name(self, value: Any, path: KeyPath, seen: set[str], what: str, max_len: int = 64) -> str | None:
        if not isinstance(value, str) or not value or not (value[0].isalpha()) or \
                not all(c.isalnum() or c in "-_" for c in value):
            self.problem(path, f"{what} name must start with a letter and hold only letters, digits, '-' and '_', got {value!r}")
            return None
        if len(value) > max_len:
            self.problem(path, f"{what} name {value!r} is longer than {max_len} characters")
            return None
        if value in seen:
            self.problem(path, f"duplicate {what} {value!r}")
            return None
        seen.add(value)
        return value


def _known(value: Any, table) -> bool:
    """A reference is a name (a string) of something in ``table``; anything else is unknown."""
    return isinstance(value, str) and value in table


def _rate_or_zero(value: Any) -> int:
    return 0 if value == 0 or value == "0" else parse_rate_kbps(value)


def _positive_number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ValueError(f"expected a positive number, got {value!r}")
    return float(value)


def _non_negative_number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"expected a number >= 0, got {value!r}")
    return float(value)


def _prefix(value: Any) -> ipaddress.IPv4Network:
    net = ipaddress.ip_network(str(value), strict=True)
    if not isinstance(net, ipaddress.IPv4Network) or not net.subnet_of(EMULATION_RANGE):
        raise ValueError(f"prefix {value} is outside {EMULATION_RANGE}, the benchmarking range emulated hosts must use")
    return net


def load_scenario(path: str | Path) -> Scenario:
    """Load and validate a scenario file; raise :class:`ScenarioError` listing every problem."""
    data, lines = read_yaml_file(path)
    return build_scenario(data, lines, str(path))


def load_scenario_text(text: str, file: str = "<text>") -> Scenario:
    """Like :func:`load_scenario`, from a string (tests and generators use it)."""
    data, lines = read_yaml_text(text, file)
    return build_scenario(data, lines, file)


def build_scenario(data: Any, lines: dict[KeyPath, int], file: str) -> Scenario:
    r = _Reader(file, lines)
    if r.mapping(data, (), {"name", "participants", "switches", "hosts", "links"}, TOP_KEYS - {"name", "participants", "switches", "hosts", "links"}) is None:
        raise ScenarioError(r.problems)
    participants = _participants(r, data)
    switches = _switches(r, data, participants)
    links = _links(r, data, participants, switches)
    hosts = _hosts(r, data, participants, switches)
    offers = _offers(r, data, links)
    demands = _demands(r, data, hosts, participants)
    market = _market(r, data.get("market") or {})
    emulation = _emulation(r, data.get("emulation") or {})
    timeline = _timeline(r, data, links, {o.id for o in offers}, {d.id for d in demands}, hosts, participants)
    if r.problems:
        raise ScenarioError(r.problems)
    scenario = Scenario(
        name=str(data["name"]), participants=tuple(participants.values()), switches=tuple(switches.values()),
        hosts=tuple(hosts.values()), links=tuple(links.values()), offers=tuple(offers), demands=tuple(demands),
        market=market, emulation=emulation, timeline=timeline, source=file,
    )
    _check_connected(r, scenario)
    if r.problems:
        raise ScenarioError(r.problems)
    return scenario


def _participants(r: _Reader, data: dict) -> dict[str, Participant]:
    out: dict[str, Participant] = {}
    seen: set[str] = set()
    for i, item in enumerate(r.sequence(data, "participants")):
        path = ("participants", i)
        if r.mapping(item, path, {"name", "role"}, {"prefix"}) is None:
            continue
        name = r.name(item.get("name"), path + ("name",), seen, "participant")
        role = item.get("role")
        if not _known(role, ROLES):
            r.problem(path + ("role",), f"unknown role {role!r} (one of: {', '.join(ROLES)})")
        prefix = r.convert(item["prefix"], path + ("prefix",), _prefix) if "prefix" in item else None
        if prefix is not None:
            for other in out.values():
                if other.prefix is not None and prefix.overlaps(other.prefix):
                    r.problem(path + ("prefix",), f"prefix {prefix} overlaps {other.prefix} of {other.name}")
        if name:
            out[name] = Participant(name, role, prefix)
    return out


def _switches(r: _Reader, data: dict, participants: dict[str, Participant]) -> dict[str, Switch]:
    out: dict[str, Switch] = {}
    seen: set[str] = set()
    for i, item in enumerate(r.sequence(data, "switches")):
        path = ("switches", i)
        if r.mapping(item, path, {"name", "owner"}, {"city", "dpid"}) is None:
            continue
        # Interface names (switch-ethN) must fit Linux's 15 characters.
        name = r.name(item.get("name"), path + ("name",), seen, "switch", max_len=10)
        owner = item.get("owner")
        if not _known(owner, participants):
            r.problem(path + ("owner",), f"unknown participant {owner!r}")
            owner = None
        elif participants[owner].role == "customer":
            r.problem(path + ("owner",), f"{owner!r} is a customer; switches belong to providers")
        dpid = item.get("dpid", i + 1)
        if isinstance(dpid, bool) or not isinstance(dpid, int) or not 0 < dpid < 2**64:
            r.problem(path + ("dpid",), f"dpid must be a positive 64-bit integer, got {dpid!r}")
        elif any(s.dpid == dpid for s in out.values()):
            r.problem(path + ("dpid",), f"duplicate dpid {dpid}")
        if name and owner and isinstance(dpid, int) and not isinstance(dpid, bool):
            out[name] = Switch(name, owner, str(item.get("city", "")), dpid)
    return out


def _links(r: _Reader, data: dict, participants: dict, switches: dict[str, Switch]) -> dict[str, Link]:
    out: dict[str, Link] = {}
    seen: set[str] = set()
    for i, item in enumerate(r.sequence(data, "links")):
        path = ("links", i)
        if r.mapping(item, path, {"id", "a", "b", "capacity", "owner"}, {"latency_ms"}) is None:
            continue
        lid = r.name(item.get("id"), path + ("id",), seen, "link")
        ends_ok = True
        for end in ("a", "b"):
            if not _known(item.get(end), switches):
                r.problem(path + (end,), f"unknown switch {item.get(end)!r}")
                ends_ok = False
        if ends_ok and item["a"] == item["b"]:
            r.problem(path + ("b",), "a link must join two different switches")
            ends_ok = False
        owner = item.get("owner")
        if not _known(owner, participants):
            r.problem(path + ("owner",), f"unknown participant {owner!r}")
            owner = None
        capacity = r.convert(item.get("capacity"), path + ("capacity",), parse_rate_kbps)
        latency = r.convert(item.get("latency_ms", 1), path + ("latency_ms",), _non_negative_number)
        if lid and ends_ok and owner and capacity is not None and latency is not None:
            out[lid] = Link(lid, item["a"], item["b"], capacity, latency, owner)
    return out


def _hosts(r: _Reader, data: dict, participants: dict[str, Participant], switches: dict[str, Switch]) -> dict[str, Host]:
    out: dict[str, Host] = {}
    seen: set[str] = set()
    next_addr: dict[str, int] = {}
    taken: set[ipaddress.IPv4Address] = set()
    for i, item in enumerate(r.sequence(data, "hosts")):
        path = ("hosts", i)
        if r.mapping(item, path, {"name", "owner", "switch"}, {"ip", "access"}) is None:
            continue
        name = r.name(item.get("name"), path + ("name",), seen, "host", max_len=10)
        owner, switch = item.get("owner"), item.get("switch")
        if not _known(owner, participants):
            r.problem(path + ("owner",), f"unknown participant {owner!r}")
            continue
        if not _known(switch, switches):
            r.problem(path + ("switch",), f"unknown switch {switch!r}")
            continue
        # The address comes from the owner's prefix, else from the access provider's.
        holder = participants[owner] if participants[owner].prefix else participants.get(switches[switch].owner)
        prefix = holder.prefix if holder else None
        if prefix is None:
            r.problem(path, f"no prefix to number host from: give {owner!r} or {switches[switch].owner!r} a prefix, or the host an ip")
            continue
        if "ip" in item:
            ip = r.convert(item["ip"], path + ("ip",), ipaddress.IPv4Address)
            if ip is not None and ip not in prefix:
                r.problem(path + ("ip",), f"address {ip} is outside {holder.name}'s prefix {prefix}")
                ip = None
        else:
            n = next_addr.get(holder.name, 1)
            ip = prefix.network_address + n
            next_addr[holder.name] = n + 1
            if ip not in prefix or ip == prefix.broadcast_address:
                r.problem(path, f"prefix {prefix} of {holder.name} has no free address left")
                ip = None
        if ip is not None and ip in taken:
            r.problem(path + ("ip",), f"address {ip} is used twice")
        access = r.convert(item.get("access", DEFAULT_ACCESS_KBPS), path + ("access",), parse_rate_kbps)
        if name and ip is not None and access is not None:
            taken.add(ip)
            index = len(out) + 1
            mac = "02:00:00:%02x:%02x:%02x" % ((index >> 16) & 0xFF, (index >> 8) & 0xFF, index & 0xFF)
            out[name] = Host(name, owner, switch, ip, prefix.prefixlen, mac, access)
    return out


def _offers(r: _Reader, data: dict, links: dict[str, Link]) -> list[Offer]:
    out: list[Offer] = []
    seen: set[str] = set()
    for i, item in enumerate(r.sequence(data, "offers")):
        path = ("offers", i)
        if r.mapping(item, path, {"link", "ask_per_mbps"}, {"id", "seller", "capacity", "tiers"}) is None:
            continue
        link = links.get(item["link"]) if _known(item.get("link"), links) else None
        if link is None:
            r.problem(path + ("link",), f"unknown link {item.get('link')!r}")
            continue
        oid = r.name(item.get("id", f"offer-{link.id}"), path + ("id",), seen, "offer")
        seller = item.get("seller", link.owner)
        if seller != link.owner:
            r.problem(path + ("seller",), f"{seller!r} cannot offer link {link.id!r}: it belongs to {link.owner!r}")
        capacity = r.convert(item.get("capacity", link.capacity_kbps), path + ("capacity",), parse_rate_kbps)
        if capacity is not None and capacity > link.capacity_kbps:
            r.problem(path + ("capacity",), f"offers {capacity} kbps on a link of {link.capacity_kbps} kbps")
        ask = r.convert(item.get("ask_per_mbps"), path + ("ask_per_mbps",), parse_money)
        tiers = _tiers(r, item.get("tiers") or [], path + ("tiers",))
        if oid and capacity is not None and ask is not None and tiers is not None:
            if capacity <= link.capacity_kbps:
                sold = sum(o.capacity_kbps for o in out if o.link == link.id) + capacity
                if sold > link.capacity_kbps:
                    r.problem(path + ("capacity",), f"offers on link {link.id!r} sell {sold} kbps in all, "
                                                    f"more than its {link.capacity_kbps} kbps")
            out.append(Offer(oid, link.id, seller, capacity, ask, tiers))
    return out


def _tiers(r: _Reader, items: Any, path: KeyPath) -> tuple[PriceTier, ...] | None:
    if not isinstance(items, list):
        r.problem(path, "expected a list of {up_to, ask_per_mbps}")
        return None
    tiers = []
    for i, item in enumerate(items):
        if r.mapping(item, path + (i,), {"up_to", "ask_per_mbps"}, set()) is None:
            return None
        up_to = r.convert(item.get("up_to"), path + (i, "up_to"), parse_rate_kbps)
        ask = r.convert(item.get("ask_per_mbps"), path + (i, "ask_per_mbps"), parse_money)
        if up_to is None or ask is None:
            return None
        if tiers and up_to <= tiers[-1].up_to_kbps:
            r.problem(path + (i, "up_to"), "tiers must rise in up_to")
        tiers.append(PriceTier(up_to, ask))
    return tuple(tiers)


def _demands(r: _Reader, data: dict, hosts: dict[str, Host], participants: dict) -> list[Demand]:
    out: list[Demand] = []
    seen: set[str] = set()
    for i, item in enumerate(r.sequence(data, "demands")):
        path = ("demands", i)
        if r.mapping(item, path, {"src", "dst", "max_rate", "value_per_mbps"}, {"id", "floor", "buyer"}) is None:
            continue
        did = r.name(item.get("id", f"d{i + 1}"), path + ("id",), seen, "demand")
        for end in ("src", "dst"):
            if not _known(item.get(end), hosts):
                r.problem(path + (end,), f"unknown host {item.get(end)!r}")
        if _known(item.get("src"), hosts) and item.get("src") == item.get("dst"):
            r.problem(path + ("dst",), "a demand needs two different hosts")
        max_kbps = r.convert(item.get("max_rate"), path + ("max_rate",), parse_rate_kbps)
        floor = r.convert(item.get("floor", 0), path + ("floor",), _rate_or_zero)
        if max_kbps is not None and floor is not None and floor > max_kbps:
            r.problem(path + ("floor",), f"floor {floor} kbps is above max_rate {max_kbps} kbps")
        value = r.convert(item.get("value_per_mbps"), path + ("value_per_mbps",), parse_money)
        src = hosts[item["src"]] if _known(item.get("src"), hosts) else None
        buyer = item.get("buyer", src.owner if src else None)
        if "buyer" in item and not _known(buyer, participants):
            r.problem(path + ("buyer",), f"unknown participant {buyer!r}" if isinstance(buyer, str)
                      else f"buyer must be a participant's name, got {buyer!r}")
            buyer = None
        elif not isinstance(buyer, str):
            buyer = None  # the source host is unknown: reported above
        if did and src and buyer and _known(item.get("dst"), hosts) and item["dst"] != src.name and max_kbps and floor is not None and value is not None:
            out.append(Demand(did, buyer, src.name, item["dst"], max_kbps, value, floor))
    return out


def _market(r: _Reader, item: Any) -> MarketSettings:
    path = ("market",)
    if r.mapping(item, path, set(), {"mechanism", "epoch_s", "universal_floor"}) is None:
        return MarketSettings()
    mechanism = item.get("mechanism", "vcg")
    if not _known(mechanism, MECHANISMS):
        r.problem(path + ("mechanism",), f"unknown mechanism {mechanism!r} (one of: {', '.join(MECHANISMS)})")
    epoch = r.convert(item.get("epoch_s", 30), path + ("epoch_s",), _positive_number, 30.0)
    floor = r.convert(item.get("universal_floor", 0), path + ("universal_floor",), _rate_or_zero, 0)
    return MarketSettings(mechanism, epoch, floor)


def _emulation(r: _Reader, item: Any) -> EmulationSettings:
    path = ("emulation",)
    if r.mapping(item, path, set(), {"scale"}) is None:
        return EmulationSettings()
    return EmulationSettings(r.convert(item.get("scale", 1.0), path + ("scale",), _positive_number, 1.0))


EVENT_TARGETS = {"link_down": "link", "link_up": "link", "offer_add": "offer", "offer_change": "offer",
                 "offer_withdraw": "offer", "demand_add": "demand", "demand_change": "demand",
                 "demand_withdraw": "demand"}
CHANGEABLE = {"offer": {"ask_per_mbps", "capacity"}, "demand": {"max_rate", "value_per_mbps", "floor"}}


def _timeline(r: _Reader, data: dict, links: dict, offers: set[str], demands: set[str], hosts: dict,
              participants: dict) -> tuple[Event, ...]:
    """Events in time order: links failing and healing, offers and demands coming and going.

    ``offer_add``/``demand_add`` carry a whole offer or demand under ``offer:`` or
    ``demand:``; ``*_change`` name one by id and give the new fields; the rest name
    a link, offer or demand by id.
    """
    events: list[Event] = []
    known = {"link": set(links), "offer": set(offers), "demand": set(demands)}
    for i, item in enumerate(r.sequence(data, "timeline")):
        path = ("timeline", i)
        if not isinstance(item, dict):
            r.problem(path, "expected a mapping with at_s and action")
            continue
        action = item.get("action")
        kind = EVENT_TARGETS.get(action)
        if kind is None:
            r.problem(path + ("action",), f"unknown action {action!r} (one of: {', '.join(EVENT_TARGETS)})")
            continue
        extra = CHANGEABLE[kind] if action.endswith("_change") else set()
        if r.mapping(item, path, {"at_s", "action", kind}, extra) is None:
            continue
        at = r.convert(item.get("at_s"), path + ("at_s",), _non_negative_number)
        target = item.get(kind)
        params: dict[str, object] = {}
        if action.endswith("_add"):
            sub = {kind + "s": [target]}
            inner = _Reader(r.file, {(kind + "s",) + k[len(path) + 1:]: v for k, v in r.lines.items() if k[:len(path) + 1] == path + (kind,)})
            made = _offers(inner, sub, links) if kind == "offer" else _demands(inner, sub, hosts, participants)
            for p in inner.problems:
                r.problems.append(Problem(p.file, p.line, format_path(path + (kind,)) + p.path[len(kind) + 4:], p.message))
            if not made:
                continue
            target, params = made[0].id, {kind: made[0]}
            if target in known[kind]:
                r.problem(path + (kind,), f"{kind} {target!r} already exists")
            known[kind].add(target)
        elif target not in known[kind]:
            r.problem(path + (kind,), f"unknown {kind} {target!r}")
            continue
        for key in extra & set(item):
            fn = parse_money if key.endswith("mbps") else (_rate_or_zero if key == "floor" else parse_rate_kbps)
            params[key] = r.convert(item[key], path + (key,), fn)
        if at is not None:
            events.append(Event(at, action, target, params))
    return tuple(sorted(events, key=lambda e: e.at_s))


def _check_connected(r: _Reader, s: Scenario) -> None:
    """Every host must reach every other over the links."""
    if not s.hosts:
        return
    reached = s.graph.reachable(s.hosts[0].switch)
    for i, h in enumerate(s.hosts):
        if h.switch not in reached:
            r.problem(("hosts", i, "switch"), f"host {h.name} on {h.switch} cannot reach {s.hosts[0].name}: no path of links joins them")
