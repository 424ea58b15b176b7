"""Properties of the market on small random markets (hypothesis).

Example counts: the default profile runs a few hundred markets in all; set
HYPOTHESIS_PROFILE=thorough for thousands.
"""
from __future__ import annotations

import itertools
import os
from dataclasses import replace
from decimal import Decimal

import networkx as nx
import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st
from scipy.optimize import linprog

from controller.market import MarketError, clear_market
from controller.market.allocation import allocate, welfare_of
from controller.market.network import market_from_scenario
from controller.market.pathlp import PathLP
from controller.market.wdp import WelfareLP

from .helpers import build

settings.register_profile("default", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

SWITCHES = ["a", "b", "c", "d"]
TOLERANCE = Decimal("0.002")  # whole-kbps rounding and the local-first tie-break


@st.composite
def markets(draw, floors: bool = False):
    n = draw(st.integers(2, 4))
    switches = SWITCHES[:n]
    pairs = [p for p in itertools.combinations(switches, 2)]
    chosen = draw(st.lists(st.sampled_from(pairs), min_size=1, max_size=5))
    links = []
    for i, (a, b) in enumerate(chosen):
        links.append((f"l{i}", a, b, draw(st.integers(1, 6)) * 1000, f"p{draw(st.integers(0, 2))}",
                      str(draw(st.integers(0, 20)) / 10)))
    demands = []
    for i in range(draw(st.integers(1, 3))):
        src, dst = draw(st.sampled_from([p for p in itertools.permutations(switches, 2)]))
        demands.append((f"d{i}", f"h{src}", f"h{dst}", draw(st.integers(1, 6)) * 1000, str(draw(st.integers(0, 30)) / 10)))
    access = {f"h{sw}": draw(st.sampled_from([1000, 3000, 100_000])) for sw in switches}
    return build(switches, links, demands, access_kbps=access)


def path_lp_welfare(s) -> float:
    """An independent optimum: the path formulation over every simple path, by scipy's HiGHS."""
    g = nx.MultiGraph()
    g.add_nodes_from(sw.name for sw in s.switches)
    for link in s.links:
        g.add_edge(link.a, link.b, key=link.id)
    ask = {o.link: float(o.ask_per_mbps) for o in s.offers}
    cols, costs, bounds = [], [], []
    for d in s.demands:
        src, dst = s.host[d.src].switch, s.host[d.dst].switch
        for nodes in nx.all_simple_paths(g, src, dst):
            for keys in itertools.product(*[list(g[u][v]) for u, v in zip(nodes, nodes[1:])]):
                hops = tuple((k, u) for k, u in zip(keys, nodes))
                cols.append((d.id, hops))
                costs.append(sum(ask[k] for k in keys) - float(d.value_per_mbps))
    if not cols:
        return 0.0
    rows, b = [], []
    for link in s.links:
        for tail in (link.a, link.b):
            rows.append([1.0 if (link.id, tail) in c[1] else 0.0 for c in cols])
            b.append(link.capacity_kbps / 1000)
    for d in s.demands:
        rows.append([1.0 if c[0] == d.id else 0.0 for c in cols])
        b.append(d.max_kbps / 1000)
    for h in s.hosts:  # what a host sends, and what it receives, fit its access link
        for end in ("src", "dst"):
            rows.append([1.0 if getattr(s.demand[c[0]], end) == h.name else 0.0 for c in cols])
            b.append(h.access_kbps / 1000)
    res = linprog(np.array(costs), A_ub=np.array(rows), b_ub=np.array(b), bounds=(0, None), method="highs")
    return -res.fun


@given(markets())
def test_flows_are_feasible_and_welfare_is_optimal(s):
    r = clear_market(s, "lmp")
    load: dict[tuple[str, str], int] = {}
    for d in r.demands:
        demand = s.demand[d.demand_id]
        assert d.allocated_kbps == sum(p.kbps for p in d.paths) <= demand.max_kbps
        for p in d.paths:
            assert p.switches[0] == s.host[demand.src].switch and p.switches[-1] == s.host[demand.dst].switch
            for link, tail, head in zip(p.links, p.switches, p.switches[1:]):
                assert {tail, head} == {s.link[link].a, s.link[link].b}
                load[(link, tail)] = load.get((link, tail), 0) + p.kbps
    for (link, _), kbps in load.items():
        assert kbps <= s.link[link].capacity_kbps
    assert abs(float(r.welfare) - path_lp_welfare(s)) <= float(TOLERANCE)


def utility(s, r, name: str, true_s) -> Decimal:
    """What ``name`` gains under its true values and asks, given result ``r``."""
    p = r.participant(name)
    gain = p.receives - p.pays
    for d in r.demands:
        if true_s.demand[d.demand_id].buyer == name:
            gain += true_s.demand[d.demand_id].value_per_mbps * d.allocated_kbps / 1000
    asks = {o.link: o.ask_per_mbps for o in true_s.offers if o.seller == name}
    for l in r.links:
        if l.link_id in asks:
            both = [sum(pf.kbps for d in r.demands for pf in d.paths
                        for link, tail in zip(pf.links, pf.switches) if link == l.link_id and tail == end)
                    for end in (true_s.link[l.link_id].a, true_s.link[l.link_id].b)]
            gain -= asks[l.link_id] * sum(both) / 1000
    return gain


@given(markets(), st.sampled_from([Decimal("0"), Decimal("0.5"), Decimal("0.8"), Decimal("1.25"), Decimal("2")]), st.data())
def test_vcg_is_individually_rational_and_truthful(s, factor, data):
    truthful = clear_market(s, "vcg")
    for p in truthful.participants:
        assert utility(s, truthful, p.name, s) >= -TOLERANCE, p
    sellers = sorted({o.seller for o in s.offers})
    buyers = sorted({d.buyer for d in s.demands})
    name = data.draw(st.sampled_from(sellers + buyers))
    if name in sellers:
        lie = replace(s, offers=tuple(replace(o, ask_per_mbps=o.ask_per_mbps * factor) if o.seller == name else o
                                      for o in s.offers))
    else:
        lie = replace(s, demands=tuple(replace(d, value_per_mbps=d.value_per_mbps * factor) if d.buyer == name else d
                                       for d in s.demands))
    lied = clear_market(lie, "vcg")
    assert utility(lie, lied, name, s) <= utility(s, truthful, name, s) + TOLERANCE


@given(markets())
def test_lmp_and_pay_as_bid_are_individually_rational(s):
    for mechanism in ("lmp", "pay-as-bid"):
        r = clear_market(s, mechanism)
        for d in r.demands:
            demand = s.demand[d.demand_id]
            assert d.pays <= demand.value_per_mbps * d.allocated_kbps / 1000 + TOLERANCE
        for p in r.participants:
            assert utility(s, r, p.name, s) >= -TOLERANCE
        if mechanism == "lmp":
            assert abs(r.budget_balance) <= TOLERANCE


@given(markets(), st.sampled_from([0, 500, 2000]))
def test_customers_settled_by_duality_pay_what_a_re_solve_says(s, floor_kbps):
    s = replace(s, market=replace(s.market, universal_floor_kbps=floor_kbps))
    try:
        full = clear_market(s, "vcg", options={"duality": False})
    except MarketError:
        return  # floors that cannot be met: no payments to compare
    settled = clear_market(s, "vcg")
    assert settled.welfare == full.welfare
    for a, b in zip(settled.participants, full.participants):
        assert a.name == b.name
        assert abs(a.pays - b.pays) <= TOLERANCE and abs(a.receives - b.receives) <= TOLERANCE, (a, b)


@given(markets(), st.sampled_from([0, 500, 2000]))
def test_column_generation_reaches_the_arc_formulations_optimum(s, floor_kbps):
    s = replace(s, market=replace(s.market, universal_floor_kbps=floor_kbps))
    market = market_from_scenario(s)
    path_lp = PathLP(market)
    arcs, paths = WelfareLP(market).solve(), path_lp.solve()
    assert (arcs is None) == (paths is None)
    if arcs is None:
        return
    assert path_lp.fell_back is False  # feasible floors are met by the paths generated
    assert abs(arcs.objective - paths.objective) <= 1e-6
    assert welfare_of(market, paths) == allocate(market, paths).welfare
    by_arcs = clear_market(s, "vcg", options={"formulation": "arcs"})
    by_paths = clear_market(s, "vcg")
    if by_arcs.demands != by_paths.demands:
        return  # a tie (say two links at one ask) broken the other way: VCG pays whoever carries
    for a, b in zip(by_paths.participants, by_arcs.participants):
        assert abs(a.pays - b.pays) <= TOLERANCE and abs(a.receives - b.receives) <= TOLERANCE, (a, b)
