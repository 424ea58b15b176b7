"""Checks across a whole scenario, once every item in it is valid.

Problems (the loader refuses the file):

- every host reaches every other over the links;
- every interface name fits Linux's 15 bytes: Mininet names a host's interface
  ``<host>-eth0`` and a switch's ``<switch>-eth<port>``, and ports are numbered
  by :mod:`topologies.graph` (hosts first, then links, from 1 per switch), so a
  switch with many ports needs a shorter name.

Warnings (the file is valid, but something in it cannot happen):

- a demand whose hosts no path of offered links joins: the market can never
  serve it, whatever it bids.

Both run in time linear in the size of the scenario (union-find, not a path
search per demand).

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

__all__ = ["problems", "warnings", "unservable_demands", "components", "interface_name"]


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


def problems(s: Scenario) -> list[tuple[KeyPath, str]]:
    """What makes a scenario whose items are all valid still unusable, as ``(key path, message)``."""
    out: list[tuple[KeyPath, str]] = []
    group = components((sw.name for sw in s.switches), ((l.a, l.b) for l in s.links))
    first = s.hosts[0] if s.hosts else None
    for i, h in enumerate(s.hosts):
        if group[h.switch] != group[first.switch]:
            out.append((("hosts", i, "switch"), f"host {h.name} on {h.switch} cannot reach {first.name} on "
                                                f"{first.switch}: no path of links joins them"))
        if len(interface_name(h.name, 0)) > INTERFACE_BYTES:  # the language's name length already keeps this
            out.append((("hosts", i, "name"), f"host name {h.name!r} is too long for its interface"))
    top_port: dict[str, int] = {}
    for port in s.graph.ports():
        top_port[port.switch] = max(top_port.get(port.switch, 0), port.number)
    for i, sw in enumerate(s.switches):
        longest = interface_name(sw.name, top_port.get(sw.name, 1))
        if len(longest.encode()) > INTERFACE_BYTES:
            room = INTERFACE_BYTES - len(longest) + len(sw.name)
            out.append((("switches", i, "name"),
                        f"switch name {sw.name!r} is too long for its {top_port[sw.name]} ports: Mininet names its "
                        f"last interface {longest!r} ({len(longest)} bytes; Linux allows {INTERFACE_BYTES}); "
                        f"use at most {room} characters"))
    return out


def unservable_demands(s: Scenario) -> list[Demand]:
    """Demands whose hosts no path of offered links joins (the market cannot serve them)."""
    offered = {o.link for o in s.offers}
    group = components((sw.name for sw in s.switches), ((l.a, l.b) for l in s.links if l.id in offered))
    return [d for d in s.demands if group[s.host[d.src].switch] != group[s.host[d.dst].switch]]


def unservable_reason(s: Scenario, d: Demand) -> str:
    src, dst = s.host[d.src].switch, s.host[d.dst].switch
    return (f"demand {d.id} ({d.src} on {src} -> {d.dst} on {dst}) can never be served: no path of offered links "
            f"joins {src} and {dst}; offer links between them, or drop the demand")


def warnings(s: Scenario, lines: dict[KeyPath, int]) -> list[Problem]:
    """Warnings about a valid scenario, with the file, line and key path of what they are about."""
    index = {d.id: i for i, d in enumerate(s.demands)}
    out = []
    for d in unservable_demands(s):
        path = ("demands", index[d.id])
        out.append(Problem(s.source, lines.get(path), format_path(path), "warning: " + unservable_reason(s, d)))
    return out
