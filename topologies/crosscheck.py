"""Checks across a whole scenario, once every item in it is valid.

Problems (the loader refuses the file):

- every host reaches every other over the links;
- every interface name fits Linux's 15 bytes: Mininet names a host's interface
  ``<host>-eth0`` and a switch's ``<switch>-eth<port>``, and ports are numbered
  by :mod:`topologies.graph` (hosts first, then links, from 1 per switch), so a
  switch with many ports needs a shorter name.

Warnings (the file is valid, but something in it cannot happen):

- a demand whose hosts no path of offered links joins: the market can never
  serve it, whatever it bids;
- a demand with ``max_latency_ms`` that no path of offered links meets (the
  market prices only paths within it; in POC mode it may use fewer links, and
  ``openisp auction`` notes what it cannot serve).

The first two run in time linear in the size of the scenario (union-find, not
a path search per demand); the latency check runs one lowest-latency tree per
destination switch of a demand with a bound.

>>> from topologies.loader import load_scenario
>>> s = load_scenario("topologies/default.yaml")
>>> problems(s), unservable_demands(s)
([], [])
"""
from __future__ import annotations

from typing import Iterable

from .errors import Problem
from .language import INTERFACE_BYTES
from .model import Demand, Scenario
from .yamlsource import KeyPath, format_path

__all__ = ["problems", "warnings", "host_groups", "unservable_demands", "too_slow_demands", "components", "interface_name"]


def interface_name(node: str, port: int) -> str:
    """Mininet's name for port ``port`` of ``node`` (a host's only port is 0).

    >>> interface_name("mn1", 12)
    'mn1-eth12'
    """
    return f"{node}-eth{port}"


def components(switches: Iterable[str], links: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Each switch -> a representative of the switches ``links`` join it to.

    >>> c = components("abcd", [("a", "b"), ("c", "d")])
    >>> c["a"] == c["b"] != c["c"] == c["d"]
    True
    """
    parent = {s: s for s in switches}

    def root(s: str) -> str:
        while parent[s] != s:
            parent[s] = parent[parent[s]]
            s = parent[s]
        return s

    for a, b in links:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[ra] = rb
    return {s: root(s) for s in parent}


def host_groups(s: Scenario, links: Iterable[str] | None = None) -> dict[str, set[str]]:
    """Each host -> the components (by :func:`components`) of the switches it attaches to,
    joined by ``links`` (all when None).  A multihomed host's device switch joins nothing:
    two hosts reach each other when they share a component.

    >>> from topologies.loader import load_scenario
    >>> s = load_scenario("topologies/library/multihomed.yaml")
    >>> g = host_groups(s)
    >>> len(g["phone"]), g["web"] == g["phone"]
    (1, True)
    >>> g = host_groups(s, ["ph-cell", "ph-home", "cell-core", "core-dc"])  # home is cut off
    >>> len(g["phone"]), g["web"] < g["phone"]
    (2, True)
    """
    usable = set(links) if links is not None else set(s.link)
    group = components((sw.name for sw in s.switches),
                       ((s.link[l].a, s.link[l].b) for l in usable if l not in s.attachment_links))
    return {h.name: {group[s.link[a].other_end(h.switch)] for a in h.attachments if a in usable}
            if h.attachments else {group[h.switch]} for h in s.hosts}


def problems(s: Scenario) -> list[tuple[KeyPath, str]]:
    """What makes a scenario whose items are all valid still unusable, as ``(key path, message)``."""
    out: list[tuple[KeyPath, str]] = []
    groups = host_groups(s)
    # Two hosts reach each other when they share a component: every single-homed host must be
    # in the first one's, and a multihomed host must share one with it and with each other one.
    first = next((h for h in s.hosts if not h.attachments), None)
    multihomed_before: list = []
    for i, h in enumerate(s.hosts):
        others = ([first] if first is not None else []) + multihomed_before
        other = next((o for o in others if not groups[o.name] & groups[h.name]), None)
        if h.attachments:
            multihomed_before.append(h)
        if other is not None:
            out.append((("hosts", i, "attach" if h.attachments else "switch"),
                        f"host {h.name} on {h.switch} cannot reach {other.name} on {other.switch}: "
                        "no path of links joins them"))
        if len(interface_name(h.name, 0)) > INTERFACE_BYTES:  # the language's name length already keeps this
            out.append((("hosts", i, "name"), f"host name {h.name!r} is too long for its interface"))
    top_port: dict[str, int] = {}
    for port in s.graph.ports():
        top_port[port.switch] = max(top_port.get(port.switch, 0), port.number)
    for i, sw in enumerate(s.switches):
        longest = interface_name(sw.name, top_port.get(sw.name, 1))
        if len(longest.encode()) > INTERFACE_BYTES and sw.device_of:
            out.append((("hosts", next(j for j, h in enumerate(s.hosts) if h.name == sw.device_of), "attach"),
                        f"too many attachments: Mininet names the last interface of {sw.name} {longest!r} "
                        f"({len(longest)} bytes; Linux allows {INTERFACE_BYTES})"))
        elif len(longest.encode()) > INTERFACE_BYTES:
            room = INTERFACE_BYTES - len(longest) + len(sw.name)
            out.append((("switches", i, "name"),
                        f"switch name {sw.name!r} is too long for its {top_port[sw.name]} ports: Mininet names its "
                        f"last interface {longest!r} ({len(longest)} bytes; Linux allows {INTERFACE_BYTES}); "
                        f"use at most {room} characters"))
    return out


def unservable_demands(s: Scenario) -> list[Demand]:
    """Demands whose hosts no path of offered links joins (the market cannot serve them)."""
    groups = host_groups(s, {o.link for o in s.offers})
    return [d for d in s.demands if not groups[d.src] & groups[d.dst]]


def unservable_reason(s: Scenario, d: Demand) -> str:
    src, dst = s.host[d.src].switch, s.host[d.dst].switch
    return (f"demand {d.id} ({d.src} on {src} -> {d.dst} on {dst}) can never be served: no path of offered links "
            f"joins {src} and {dst}; offer links between them, or drop the demand")


def too_slow_demands(s: Scenario) -> list[tuple[Demand, float, tuple[str, ...]]]:
    """Demands with ``max_latency_ms`` whose fastest path of offered links is slower:
    ``(demand, its latency in ms, its switches)``.  Demands no offered path serves
    at all are :func:`unservable_demands`, not these."""
    offered = {o.link for o in s.offers}
    trees: dict[str, dict] = {}
    out = []
    for d in s.demands:
        src, dst = s.host[d.src].switch, s.host[d.dst].switch
        if d.max_latency_ms is None or src == dst:
            continue
        if dst not in trees:
            trees[dst] = s.graph.tree_towards(dst, offered)
        towards, switches, latency = trees[dst], [src], 0.0
        while switches[-1] != dst and switches[-1] in towards:
            link, step = towards[switches[-1]]
            latency += s.link[link].latency_ms
            switches.append(step)
        if switches[-1] == dst and latency > d.max_latency_ms + 1e-9:
            out.append((d, latency, tuple(switches)))
    return out


def warnings(s: Scenario, lines: dict[KeyPath, int]) -> list[Problem]:
    """Warnings about a valid scenario, with the file, line and key path of what they are about."""
    index = {d.id: i for i, d in enumerate(s.demands)}
    out = []
    for d in unservable_demands(s):
        path = ("demands", index[d.id])
        out.append(Problem(s.source, lines.get(path), format_path(path), "warning: " + unservable_reason(s, d)))
    for d, latency, switches in too_slow_demands(s):
        path = ("demands", index[d.id], "max_latency_ms")
        out.append(Problem(s.source, lines.get(path) or lines.get(path[:2]), format_path(path),
                           f"warning: demand {d.id} can never be served within max_latency_ms {d.max_latency_ms:g}: "
                           f"the fastest path of offered links takes {latency:g} ms ({' > '.join(switches)})"))
    return sorted(out, key=lambda p: -1 if p.line is None else p.line)
