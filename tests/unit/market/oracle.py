"""An independent optimum for the property tests: the market's LP over every
simple path, written from the scenario alone (none of the market's code) and
solved by scipy's HiGHS, and random markets to check the market against it."""
from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
from hypothesis import strategies as st
from scipy.optimize import linprog

from .helpers import build

SWITCHES = ["a", "b", "c", "d"]


def _tiers(offer):
    """(capacity kbps, ask) per tier, cheapest tiers as the scenario declares them."""
    out, used = [], 0
    for t in offer.tiers:
        up_to = min(t.up_to_kbps, offer.capacity_kbps)
        if up_to > used:
            out.append((up_to - used, float(t.ask_per_mbps)))
            used = up_to
    if used < offer.capacity_kbps:
        out.append((offer.capacity_kbps - used, float(offer.ask_per_mbps)))
    return out


def optimum(s, allowed=None, poc: bool = False) -> float | None:
    """The optimal welfare (value served minus asks sold), or None when the floors cannot be met.

    Only paths within a demand's ``max_latency_ms`` count, and, when ``allowed`` is
    given, only those ``allowed(demand, link ids)`` accepts.  A bounded demand with
    no such path adds nothing to its host's universal floor; with ``poc`` no demand
    without a path does, and its own floor is dropped too (as POC mode does)."""
    g = nx.MultiGraph()
    g.add_nodes_from(sw.name for sw in s.switches)
    offered = {o.link: o for o in s.offers}
    for link in s.links:
        if link.id in offered:
            g.add_edge(link.a, link.b, key=link.id)
    paths = []  # (demand, ((link, tail), ...))
    for d in s.demands:
        src, dst = s.host[d.src].switch, s.host[d.dst].switch
        if src == dst:
            paths.append((d, ()))
            continue
        for nodes in nx.all_simple_paths(g, src, dst):
            for keys in itertools.product(*[list(g[u][v]) for u, v in zip(nodes, nodes[1:])]):
                if d.max_latency_ms is not None and sum(s.link[k].latency_ms for k in keys) > d.max_latency_ms + 1e-9:
                    continue
                if allowed is not None and not allowed(d, frozenset(keys)):
                    continue
                paths.append((d, tuple(zip(keys, nodes))))
    routed = {d.id for d, _ in paths}
    cut = {d.id for d in s.demands if d.id not in routed and (poc or d.max_latency_ms is not None)}
    if poc:
        from dataclasses import replace

        s = replace(s, demands=tuple(replace(d, floor_kbps=0) if d.id in cut else d for d in s.demands))
        paths = [(next(x for x in s.demands if x.id == d.id), hops) for d, hops in paths]
    arcs = [(link, tail) for link in offered for tail in (s.link[link].a, s.link[link].b)]
    tiers = [(arc, cap, ask) for arc in arcs for cap, ask in _tiers(offered[arc[0]])]
    n_f, n_y = len(paths), len(tiers)
    cost = np.array([-float(d.value_per_mbps) for d, _ in paths] + [ask for _, _, ask in tiers])
    bounds = [(0, None)] * n_f + [(0, cap / 1000) for _, cap, _ in tiers]
    rows, rhs = [], []

    def row(f_coef, y_coef=None):
        return [f_coef(d, hops) for d, hops in paths] + [y_coef(arc) if y_coef else 0.0 for arc, _, _ in tiers]

    for arc in arcs:  # what the paths carry on an arc, at most what its tiers sell
        rows.append(row(lambda d, hops: 1.0 if arc in hops else 0.0, lambda a: -1.0 if a == arc else 0.0))
        rhs.append(0.0)
    for dem in s.demands:  # floor <= rate <= max
        rows.append(row(lambda d, hops: 1.0 if d is dem else 0.0))
        rhs.append(dem.max_kbps / 1000)
        rows.append(row(lambda d, hops: -1.0 if d is dem else 0.0))
        rhs.append(-dem.floor_kbps / 1000)
    universal = s.market.universal_floor_kbps
    for h in s.hosts:
        for end in ("src", "dst"):  # what a host sends, and what it receives, fit its access link
            rows.append(row(lambda d, hops: 1.0 if getattr(d, end) == h.name else 0.0))
            rhs.append(h.access_kbps / 1000)
        asked = sum(d.max_kbps for d in s.demands if d.src == h.name and d.id not in cut)
        if universal and asked:  # the universal floor of a sending host
            rows.append(row(lambda d, hops: -1.0 if d.src == h.name else 0.0))
            rhs.append(-min(universal, asked) / 1000)
    if not n_f + n_y:  # nothing to sell or to buy: welfare 0, if no floor asks for something
        return None if min(rhs, default=0.0) < 0 else 0.0
    res = linprog(cost, A_ub=np.array(rows), b_ub=np.array(rhs), bounds=bounds, method="highs")
    if res.status == 2:
        return None
    assert res.status == 0, res.message
    return -res.fun


@st.composite
def markets(draw, floors: bool = True, latency: bool = False):
    """Random markets of 2-4 switches that tend to trade: cheap asks, values
    mostly above them; now and then price tiers, two buyers sending from one
    host, pairs on one switch, demand floors and a universal floor.  With
    ``latency``: links of 1 to 20 ms, and most demands bound their paths'
    latency (some bounds no path meets)."""
    n = draw(st.integers(2, 4))
    switches = SWITCHES[:n]
    hosts_on = {f"h{sw}": sw for sw in switches}
    if draw(st.booleans()):  # a neighbour on one of the switches: local pairs
        hosts_on[f"h{switches[0]}2"] = switches[0]
    hosts = sorted(hosts_on)
    pairs = list(itertools.combinations(switches, 2))
    links = []
    for i, (a, b) in enumerate(draw(st.lists(st.sampled_from(pairs), min_size=1, max_size=5))):
        capacity = draw(st.integers(1, 6)) * 1000
        ask = draw(st.integers(0, 10)) / 10
        tiers = ()
        if draw(st.integers(0, 3)) == 0:  # a cheaper first tier, up to part of the capacity
            tiers = ((draw(st.integers(1, 5)) * capacity // 6, draw(st.integers(0, 10)) / 20),)
        links.append((f"l{i}", a, b, capacity, f"p{draw(st.integers(0, 2))}", str(ask), tiers))
    demands = []
    for i in range(draw(st.integers(1, 4))):
        src, dst = draw(st.sampled_from(list(itertools.permutations(hosts, 2))))
        top = draw(st.integers(1, 6)) * 1000
        value = draw(st.one_of(st.integers(5, 30), st.integers(0, 30))) / 10  # mostly worth trading
        floor = draw(st.sampled_from([0, 0, 0, 500, top // 2])) if floors else 0
        buyer = draw(st.sampled_from([f"c{src}", f"c{src}", "cx"]))  # cx buys from any host
        demands.append((f"d{i}", src, dst, top, str(value), floor, buyer))
    access = {h: draw(st.sampled_from([1000, 3000, 100_000, 100_000])) for h in hosts}
    universal = draw(st.sampled_from([0, 0, 0, 300, 1000])) if floors else 0
    lat = {l[0]: float(draw(st.sampled_from([1, 2, 5, 10, 20]))) for l in links} if latency else None
    bounds = {d[0]: b for d in demands if (b := draw(st.sampled_from([None, 3.0, 6.0, 12.0, 25.0]))) is not None} \
        if latency else None
    return build(switches, links, demands, floor_kbps=universal, hosts_on=hosts_on, access_kbps=access,
                 latency=lat, bounds=bounds)


def without(s, name):
    """The market without ``name``'s offers and demands (hosts' universal floors follow
    what is left to send, as in the market)."""
    from dataclasses import replace

    return replace(s, offers=tuple(o for o in s.offers if o.seller != name),
                   demands=tuple(d for d in s.demands if d.buyer != name))


def clarke(s, name, welfare: float) -> tuple[float, bool]:
    """``name``'s VCG net transfer (receives - pays) before the fund, from the oracle:
    its contribution W* - W*_-i, less the value it is served, plus the asks it sells;
    and whether the floors had to be relaxed to measure it."""
    rest = without(s, name)
    other = optimum(rest)
    relaxed = other is None
    if relaxed:
        from dataclasses import replace

        other = optimum(replace(rest, demands=tuple(replace(d, floor_kbps=0) for d in rest.demands),
                                market=replace(rest.market, universal_floor_kbps=0)))
    return welfare - other, relaxed
