"""Parametric worlds: backbones, last miles, content providers, hosts and demands.

:func:`generate_world` returns the plain data of a scenario file (dicts and
lists, as YAML holds it), so the result goes through the same loader and
validation as a hand-written file.  Everything random comes from ``seed``.

>>> from topologies.loader import build_scenario
>>> data = generate_world(backbones=2, backbone_switches=3, last_miles=3, hosts_per_last_mile=2,
...                       content=0, demands=4, seed=1)
>>> s = build_scenario(data, {}, "<generated>")
>>> (len(s.switches), len(s.hosts), len(s.demands))  # 2 x 3 backbone switches, 3 last miles, 3 x 2 hosts
(9, 6, 4)
"""
from __future__ import annotations

import json
import math
import random
import re
from typing import Any

import yaml

from .model import EMULATION_RANGE
from .units import MAX_KBPS

_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml's emitter: 4 times faster, same text

CITIES = ["Seattle", "Sunnyvale", "Los Angeles", "Denver", "Houston", "Kansas City", "Chicago", "Indianapolis",
          "Atlanta", "Washington", "New York", "Boston", "Miami", "Dallas", "Phoenix", "Salt Lake City",
          "Portland", "Minneapolis", "Detroit", "Philadelphia", "Nashville", "Charlotte", "St. Louis", "Pittsburgh"]


#: Parameter -> (least, most).  The most keep names short enough for interface names
#: (``bb99-s999``, ``lm512-s99``, ``h512-250``) and the world small enough to check in seconds.
LIMITS = {"backbones": (1, 99), "backbone_switches": (1, 999), "last_miles": (1, 512), "last_mile_switches": (1, 99),
          "hosts_per_last_mile": (1, 250), "content": (0, 512), "demands": (0, 100_000), "multihomed": (0, 128_000)}
MAX_SWITCHES = 10_000
MAX_DIRECT_LINKS = 50_000


def check_parameters(**given: int) -> None:
    """Refuse parameters outside :data:`LIMITS`, naming the command-line option.

    >>> check_parameters(last_miles=0)
    Traceback (most recent call last):
    ValueError: --last-miles must be between 1 and 512, got 0
    """
    for key, value in given.items():
        low, high = LIMITS[key]
        if not low <= value <= high:
            option = "--" + {"hosts_per_last_mile": "hosts"}.get(key, key).replace("_", "-")
            raise ValueError(f"{option} must be between {low} and {high}, got {value}")
    if given.get("last_miles", 0) + given.get("content", 0) > 512:
        raise ValueError("at most 512 last miles and content providers in all: each takes a /24 of 198.18.0.0/15")
    switches = (given.get("backbones", 0) * given.get("backbone_switches", 0)
                + given.get("last_miles", 0) * given.get("last_mile_switches", 0) + given.get("content", 0))
    if switches > MAX_SWITCHES:
        raise ValueError(f"these parameters make {switches:,} switches; at most {MAX_SWITCHES:,}")
    hosts = given.get("last_miles", 0) * given.get("hosts_per_last_mile", 0) + 2 * given.get("content", 0)
    if given.get("demands", 0) and hosts < 2:
        raise ValueError("demands need at least two hosts: raise --hosts or --content")
    if given.get("multihomed", 0) > given.get("last_miles", 0) * given.get("hosts_per_last_mile", 0):
        raise ValueError("--multihomed cannot exceed the last miles' hosts (--last-miles x --hosts)")
    if given.get("multihomed", 0) and given.get("last_miles", 0) < 2:
        raise ValueError("--multihomed needs at least two last miles to attach to")


def _money(rng: random.Random, low: float, high: float) -> str:
    return f"{rng.uniform(low, high):.2f}"


def generate_world(backbones: int = 2, backbone_switches: int = 4, last_miles: int = 3, last_mile_switches: int = 1,
                   hosts_per_last_mile: int = 3, content: int = 1, direct_probability: float = 0.3,
                   demands: int = 10, seed: int = 0, backbone_mbps: int = 40, access_mbps: int = 10,
                   name: str | None = None, multihomed: int = 0) -> dict[str, Any]:
    """The data of a scenario file for a random multi-provider world.

    ``multihomed`` last-mile hosts also attach to another last mile's first switch
    (drawn after everything else, so a seed's world is otherwise the same).
    Parameters out of range raise ``ValueError`` saying which and why, before any work.
    """
    check_parameters(backbones=backbones, backbone_switches=backbone_switches, last_miles=last_miles,
                     last_mile_switches=last_mile_switches, hosts_per_last_mile=hosts_per_last_mile, content=content,
                     demands=demands, multihomed=multihomed)
    if not 0 <= direct_probability <= 1:  # also refuses nan
        raise ValueError(f"--direct must be a probability between 0 and 1, got {direct_probability}")
    direct = direct_probability * last_miles * (last_miles - 1) / 2
    if direct > MAX_DIRECT_LINKS:
        raise ValueError(f"--direct {direct_probability:g} between {last_miles} last miles makes about {direct:,.0f} "
                         f"direct links; at most {MAX_DIRECT_LINKS:,}: lower --direct or --last-miles")
    prefixes = EMULATION_RANGE.subnets(new_prefix=24)
    rng = random.Random(seed)
    participants, switches, hosts, links, offers = [], [], [], [], []

    def link(a: str, b: str, mbps: int, owner: str, ask: str) -> None:
        lid = f"l{len(links) + 1}"
        links.append({"id": lid, "a": a, "b": b, "capacity": f"{mbps}Mbps",
                      "latency_ms": round(rng.uniform(1, 30), 1), "owner": owner})
        offers.append({"link": lid, "ask_per_mbps": ask})

    backbone_sw: list[list[str]] = []
    for b in range(backbones):
        owner = f"bb{b + 1}"
        participants.append({"name": owner, "role": "backbone"})
        names = [f"{owner}-s{i + 1}" for i in range(backbone_switches)]
        cities = rng.sample(CITIES * (1 + backbone_switches // len(CITIES)), backbone_switches)
        switches += [{"name": n, "owner": owner, "city": c} for n, c in zip(names, cities)]
        for i in range(1, backbone_switches):  # a ring with a chord or two: redundant paths
            link(names[i - 1], names[i], backbone_mbps, owner, _money(rng, 0.1, 0.4))
        if backbone_switches > 2:
            link(names[-1], names[0], backbone_mbps, owner, _money(rng, 0.1, 0.4))
        for _ in range(backbone_switches // 5):
            a, c = rng.sample(names, 2)
            link(a, c, backbone_mbps, owner, _money(rng, 0.1, 0.4))
        backbone_sw.append(names)
    for b in range(1, backbones):  # interconnects in two places
        for _ in range(2):
            link(rng.choice(backbone_sw[b - 1]), rng.choice(backbone_sw[b]), backbone_mbps, f"bb{b + 1}",
                 _money(rng, 0.01, 0.1))
    all_backbone = [s for names in backbone_sw for s in names]
    access_sw: list[str] = []
    for m in range(last_miles):
        owner = f"lm{m + 1}"
        participants.append({"name": owner, "role": "last_mile", "prefix": str(next(prefixes))})
        names = [f"{owner}-s{i + 1}" for i in range(last_mile_switches)]
        city = rng.choice(CITIES)
        switches += [{"name": n, "owner": owner, "city": city} for n in names]
        for i in range(1, last_mile_switches):
            link(names[(i - 1) // 2], names[i], access_mbps * 2, owner, _money(rng, 0.01, 0.05))
        for up in rng.sample(all_backbone, min(2, len(all_backbone))):
            link(names[0], up, access_mbps * 2, owner, _money(rng, 0.05, 0.2))
        for i in range(hosts_per_last_mile):
            customer = f"c{m + 1}-{i + 1}"
            participants.append({"name": customer, "role": "customer"})
            hosts.append({"name": f"h{m + 1}-{i + 1}", "owner": customer, "switch": names[i % len(names)]})
        access_sw.append(names[0])
    for i in range(last_miles):
        for j in range(i + 1, last_miles):
            if rng.random() < direct_probability:
                link(access_sw[i], access_sw[j], access_mbps, f"lm{i + 1}", _money(rng, 0.01, 0.05))
    for c in range(content):
        owner = f"cdn{c + 1}"
        participants.append({"name": owner, "role": "content", "prefix": str(next(prefixes))})
        switches.append({"name": f"{owner}-s1", "owner": owner, "city": rng.choice(CITIES)})
        for up in rng.sample(all_backbone, min(2, len(all_backbone))):
            link(f"{owner}-s1", up, backbone_mbps, owner, _money(rng, 0.01, 0.05))
        hosts += [{"name": f"{owner}-h{i + 1}", "owner": owner, "switch": f"{owner}-s1"} for i in range(2)]
    host_names = [h["name"] for h in hosts]
    wanted = []
    for i in range(demands):
        src, dst = rng.sample(host_names, 2)
        wanted.append({"id": f"d{i + 1}", "src": src, "dst": dst, "max_rate": f"{rng.randint(1, 5) * 500}kbps",
                       "value_per_mbps": _money(rng, 0.5, 3.0)})
    owner_of = {sw["name"]: sw["owner"] for sw in switches}
    for host in rng.sample(hosts[:last_miles * hosts_per_last_mile], multihomed) if multihomed else ():
        home = host.pop("switch")
        other = rng.choice([a for a in access_sw if owner_of[a] != owner_of[home]])
        host["attach"] = [{"switch": sw, "capacity": f"{access_mbps}Mbps", "latency_ms": round(rng.uniform(1, 10), 1)}
                          for sw in (home, other)]
        offers += [{"link": f"{host['name']}-{sw}", "ask_per_mbps": _money(rng, 0.01, 0.1)} for sw in (home, other)]
    return {
        "name": name or f"generated-{seed}",
        "description": f"generated: {backbones} backbones x {backbone_switches} switches, {last_miles} last miles, "
                       f"{hosts_per_last_mile} hosts each" + (f" ({multihomed} multihomed)" if multihomed else "")
                       + f", {content} content, direct p={direct_probability}, seed {seed}",
        "participants": participants, "switches": switches, "hosts": hosts, "links": links,
        "offers": offers, "demands": wanted,
        "market": {"mechanism": "vcg", "epoch_s": 30, "universal_floor": "0"},
        "emulation": {"scale": 1.0},
    }


def to_yaml(data: dict[str, Any]) -> str:
    """Scenario data as a YAML file: one flow-style line per item, readable and diffable."""
    comment = " ".join(str(data.get("description", "")).split())  # one line, whatever the Zoo file said
    out = [f"# {comment}", f"name: {json.dumps(data['name'])}"]
    if "description" in data:
        out.append(f"description: {json.dumps(data['description'])}")  # a JSON string is a YAML string
    for key in ("participants", "switches", "hosts", "links", "offers", "demands"):
        out.append(f"{key}:" if data.get(key) else f"{key}: []")
        for item in data.get(key, []):
            out.append("  - " + yaml.dump(item, Dumper=_DUMPER, default_flow_style=True, sort_keys=False,
                                          width=10_000).strip())
    for key in ("market", "emulation"):
        if key in data:
            out.append(f"{key}: " + yaml.dump(data[key], Dumper=_DUMPER, default_flow_style=True,
                                              sort_keys=False).strip())
    return "\n".join(out) + "\n"




def _speed_kbps(raw: Any, default: int) -> int:
    """A Zoo ``LinkSpeedRaw`` (bits/s) in kbps, within the language's rates; ``default`` when absent or odd."""
    try:
        bps = float(raw)
    except (TypeError, ValueError):
        return default
    if not math.isfinite(bps) or bps < 1000:
        return default
    return min(int(bps // 1000), MAX_KBPS)


def _distance_km(a: dict, b: dict) -> float | None:
    """Great-circle distance between two Zoo nodes, when both have coordinates."""
    try:
        lat1, lon1, lat2, lon2 = (math.radians(float(x)) for x in (a["Latitude"], a["Longitude"],
                                                                      b["Latitude"], b["Longitude"]))
    except (KeyError, TypeError, ValueError):
        return None
    if not all(math.isfinite(x) for x in (lat1, lon1, lat2, lon2)):
        return None
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371 * math.asin(math.sqrt(min(1.0, h)))  # rounding can push h a hair above 1


def import_zoo(path: str, last_miles: int = 3, hosts_per_last_mile: int = 2, demands: int = 6, seed: int = 0,
               default_capacity_kbps: int = 1_000_000, max_emulated_mbps: float = 20.0) -> dict[str, Any]:
    """A scenario whose backbone is an Internet Topology Zoo GraphML file.

    Cities come from the nodes' ``label``, capacities from the edges'
    ``LinkSpeedRaw`` (bits/s; ``default_capacity_kbps`` where absent), latency
    from the great-circle distance (light in fibre: 200 km per ms; 1 ms where a
    node has no coordinates).  Last miles are attached to random PoPs and
    ``emulation.scale`` keeps the fastest link under ``max_emulated_mbps``.
    """
    import networkx as nx

    check_parameters(last_miles=last_miles, hosts_per_last_mile=hosts_per_last_mile, demands=demands)
    try:
        g = nx.read_graphml(path)
    except (OSError, nx.NetworkXError, ValueError, SyntaxError, KeyError, TypeError, IndexError) as exc:
        raise ValueError(f"cannot read {path} as GraphML: {exc}") from None
    if g.number_of_nodes() < 2:
        raise ValueError(f"{path}: a backbone needs at least two nodes")
    if g.number_of_nodes() > MAX_SWITCHES:
        raise ValueError(f"{path}: {g.number_of_nodes():,} nodes; at most {MAX_SWITCHES:,}")
    rng = random.Random(seed)
    network = " ".join(str(g.graph.get("Network") or "zoo").split())
    owner = "".join(c for c in network.lower() if c.isascii() and c.isalnum())[:12] or "zoo"
    if not owner[0].isalpha() or re.fullmatch(r"lm\d+|c\d+-\d+", owner):  # a name, and not one of ours
        owner = "zoo" + owner[:9]
    names = {n: f"z{i + 1}" for i, n in enumerate(g.nodes)}
    switches = [{"name": names[n], "owner": owner, "city": str(d.get("label", n))[:100]}
                for n, d in g.nodes(data=True)]
    links, offers = [], []
    for u, v, d in g.edges(data=True):
        if u == v:
            continue  # a loop joins a PoP to itself: not a link
        kbps = _speed_kbps(d.get("LinkSpeedRaw"), default_capacity_kbps)
        km = _distance_km(g.nodes[u], g.nodes[v])
        lid = f"z{len(links) + 1}"
        links.append({"id": lid, "a": names[u], "b": names[v], "capacity": kbps,
                      "latency_ms": round(km / 200, 2) if km is not None else 1.0, "owner": owner})
        offers.append({"link": lid, "ask_per_mbps": _money(rng, 0.005, 0.02)})
    participants = [{"name": owner, "role": "backbone"}]
    prefixes = EMULATION_RANGE.subnets(new_prefix=24)
    hosts = []
    top = max(l["capacity"] for l in links) if links else default_capacity_kbps
    for m in range(last_miles):
        lm = f"lm{m + 1}"
        participants.append({"name": lm, "role": "last_mile", "prefix": str(next(prefixes))})
        switches.append({"name": f"{lm}-s1", "owner": lm, "city": switches[m % g.number_of_nodes()]["city"]})
        pop = rng.choice(list(names.values()))
        links.append({"id": f"{lm}-up", "a": f"{lm}-s1", "b": pop, "capacity": top, "latency_ms": 1.0, "owner": lm})
        offers.append({"link": f"{lm}-up", "ask_per_mbps": _money(rng, 0.001, 0.005)})
        for i in range(hosts_per_last_mile):
            participants.append({"name": f"c{m + 1}-{i + 1}", "role": "customer"})
            hosts.append({"name": f"h{m + 1}-{i + 1}", "owner": f"c{m + 1}-{i + 1}", "switch": f"{lm}-s1",
                          "access": top})
    wanted = []
    for i in range(demands):
        src, dst = rng.sample([h["name"] for h in hosts], 2)
        wanted.append({"id": f"d{i + 1}", "src": src, "dst": dst,
                       "max_rate": max(top // rng.randint(4, 10), 1), "value_per_mbps": _money(rng, 0.02, 0.1)})
    scale = min(1.0, max_emulated_mbps * 1000 / top)
    return {"name": owner, "description": f"{network} from the Internet Topology Zoo, {last_miles} last miles attached",
            "participants": participants, "switches": switches, "hosts": hosts, "links": links, "offers": offers,
            "demands": wanted, "market": {"mechanism": "vcg", "epoch_s": 30, "universal_floor": "0"},
            "emulation": {"scale": float(f"{scale:.6g}")}}
