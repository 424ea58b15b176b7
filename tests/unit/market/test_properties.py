"""Properties of the market on small random markets (hypothesis), each claim
of docs/market.md checked with and without floors.

The default profile runs 60 markets per property; HYPOTHESIS_PROFILE=thorough
runs 1,500.  Each property tells, through ``event()``, how often its
interesting branch ran (``pytest --hypothesis-show-statistics``).
"""
from __future__ import annotations

import json
import os
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, event, given, settings, strategies as st

from controller.market import MarketError, clear_market
from controller.market.allocation import allocate
from controller.market.compare import misreport, utility
from controller.market.network import market_from_scenario
from controller.market.pathlp import PathLP
from controller.market.wdp import WelfareLP

from .oracle import clarke, markets, optimum

settings.register_profile("default", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
settings.register_profile("thorough", max_examples=1500, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

#: Whole-kbps rounding: each path may lose up to 1 kbps of its LP rate, worth at most 0.003.
ROUNDING = Decimal("0.003")
MECHANISMS = ("vcg", "lmp", "pay-as-bid")
FACTORS = [Decimal("0"), Decimal("0.5"), Decimal("0.8"), Decimal("1.25"), Decimal("2")]
#: The path formulation (the default) and its reference, the arc formulation: the
#: properties that re-solve counterfactuals or read prices hold under both.
BOTH_FORMULATIONS = pytest.mark.parametrize("formulation", ["paths", "arcs"])


def clear(s, mechanism, **options):
    """The result, or None when the floors cannot be met (then the oracle must agree)."""
    try:
        return clear_market(s, mechanism, options=options or None)
    except MarketError as exc:
        assert "floors cannot all be met" in str(exc)
        assert optimum(s) is None, "the market says the floors fail, the oracle meets them"
        event("floors cannot be met")
        return None


def describe(s, r) -> None:
    """Events: what kind of market this was."""
    event("trades" if any(d.allocated_kbps for d in r.demands) else "allocates nothing")
    if any(d.floor_kbps for d in s.demands) or s.market.universal_floor_kbps:
        event("has floors")
    if any(o.tiers for o in s.offers):
        event("has price tiers")
    if any(s.host[d.src].switch == s.host[d.dst].switch for d in s.demands):
        event("a pair on one switch")
    if any(len({d.buyer for d in s.demands if d.src == h.name}) > 1 for h in s.hosts):
        event("two buyers on one host")


def paths_budget(r) -> Decimal:
    return ROUNDING * max(1, sum(len(d.paths) for d in r.demands))


@given(markets())
def test_flows_are_feasible_and_welfare_is_optimal(s):
    r = clear(s, "lmp")
    if r is None:
        return
    describe(s, r)
    load: dict[tuple[str, str], int] = {}
    sent: dict[str, int] = {}
    received: dict[str, int] = {}
    for d in r.demands:
        demand = s.demand[d.demand_id]
        assert d.allocated_kbps == sum(p.kbps for p in d.paths) <= demand.max_kbps
        assert d.allocated_kbps >= demand.floor_kbps - len(d.paths)  # rounding down: 1 kbps per path at most
        sent[demand.src] = sent.get(demand.src, 0) + d.allocated_kbps
        received[demand.dst] = received.get(demand.dst, 0) + d.allocated_kbps
        for p in d.paths:
            assert p.switches[0] == s.host[demand.src].switch and p.switches[-1] == s.host[demand.dst].switch
            for link, tail, head in zip(p.links, p.switches, p.switches[1:]):
                assert {tail, head} == {s.link[link].a, s.link[link].b}
                load[(link, tail)] = load.get((link, tail), 0) + p.kbps
    for (link, _), kbps in load.items():
        assert kbps <= next(o.capacity_kbps for o in s.offers if o.link == link)
    for h in s.hosts:
        assert sent.get(h.name, 0) <= h.access_kbps and received.get(h.name, 0) <= h.access_kbps
    best = optimum(s)
    assert best is not None
    assert abs(float(r.welfare) - best) <= float(paths_budget(r)), (r.welfare, best)
    if r.welfare < Decimal(str(best)) - Decimal("0.0000005"):
        event("rounding to whole kbps cost welfare")


@BOTH_FORMULATIONS
@given(markets())
def test_every_rule_keeps_every_participant_whole(formulation, s):
    """IR under all three rules, exactly, thanks to the fund; the fund pays only
    when there are floors, and pay-as-bid never needs it."""
    for mechanism in MECHANISMS:
        r = clear(s, mechanism, formulation=formulation)
        if r is None:
            return
        if mechanism == "vcg":
            describe(s, r)
        assert r.floors_cost == sum((p.funded for p in r.participants), Decimal(0))
        assert r.budget_balance == r.collected - r.paid_out
        for p in r.participants:
            assert p.pays >= 0 and p.receives >= 0 and p.funded >= 0
            assert utility(s, r, p.name) >= 0, (mechanism, p)
        for d in r.demands:  # the buyer's payment is split over its demands, to the micro-unit
            assert d.pays >= 0
        for name in {d.buyer for d in s.demands}:
            assert sum(d.pays for d in r.demands if s.demand[d.demand_id].buyer == name) == r.participant(name).pays
        floors = any(d.floor_kbps for d in s.demands) or s.market.universal_floor_kbps
        if r.floors_cost:
            event(f"{mechanism}: the fund paid")
            assert floors, f"{mechanism} needed the fund without floors"
        if mechanism == "lmp":
            assert r.budget_balance == -r.floors_cost
        if mechanism == "pay-as-bid":
            assert r.floors_cost == 0 and r.budget_balance == r.welfare


@given(markets(), st.sampled_from(FACTORS), st.data())
def test_vcg_is_truthful_while_the_fund_stays_out(s, factor, data):
    truthful = clear(s, "vcg")
    if truthful is None:
        return
    describe(s, truthful)
    names = sorted({o.seller for o in s.offers} | {d.buyer for d in s.demands})
    name = data.draw(st.sampled_from(names))
    lied = clear_market(misreport(s, name, factor), "vcg")
    gain = utility(s, lied, name) - utility(s, truthful, name)
    funded = truthful.participant(name).funded or lied.participant(name).funded
    if funded:
        event("the fund tops the prober up: no claim")
        return
    if lied.demands != truthful.demands:
        event("the lie changed the allocation")
    assert gain <= paths_budget(truthful) + paths_budget(lied), (name, factor, gain)


@given(markets(floors=False))
def test_without_floors_vcg_needs_no_fund_and_runs_no_surplus_from_providers(s):
    r = clear(s, "vcg")
    describe(s, r)
    assert r.floors_cost == 0
    for p in r.participants:
        if any(o.seller == p.name for o in s.offers) and not any(d.buyer == p.name for d in s.demands):
            assert p.pays == 0  # a provider is never charged
        if any(d.buyer == p.name for d in s.demands) and not any(o.seller == p.name for o in s.offers):
            assert p.receives == 0  # nor a customer paid
    lmp = clear(s, "lmp")
    assert lmp.budget_balance == 0 and lmp.floors_cost == 0


@BOTH_FORMULATIONS
@given(markets())
def test_customers_settled_by_duality_pay_what_a_re_solve_says(formulation, s):
    full = clear(s, "vcg", duality=False, formulation=formulation)
    if full is None:
        return
    settled = clear_market(s, "vcg", options={"formulation": formulation})
    if settled.timings["settled_by_duality"]:
        event("settled by duality")
    assert settled.welfare == full.welfare
    for a, b in zip(settled.participants, full.participants):
        assert a.name == b.name
        assert abs(a.pays - b.pays) <= Decimal("0.000001") and abs(a.receives - b.receives) <= Decimal("0.000001"), (a, b)


@given(markets())
def test_column_generation_reaches_the_arc_formulations_optimum(s):
    market = market_from_scenario(s)
    path_lp = PathLP(market)
    arcs, paths = WelfareLP(market).solve(), path_lp.solve()
    assert (arcs is None) == (paths is None)
    if arcs is None:
        event("floors cannot be met")
        return
    assert path_lp.fell_back is False  # feasible floors are met by the paths generated
    assert abs(arcs.objective - paths.objective) <= 1e-6
    assert abs(arcs.welfare - paths.welfare) <= 1e-6  # the same optimum without the tie-break too
    # The arc formulation's loads are its commodities' flows, summed arc by arc, in kbps.
    for i, load in enumerate(arcs.arc_load_kbps):
        assert abs(load - sum(flow[i] for flow in arcs.flows_kbps.values())) <= 1e-3, i
    by_arcs = clear_market(s, "vcg", options={"formulation": "arcs"})
    by_paths = clear_market(s, "vcg")
    assert allocate(market, paths).kbps == {d.demand_id: d.allocated_kbps for d in by_paths.demands}
    if by_arcs.demands != by_paths.demands:
        event("a tie broken the other way")
        return  # a tie (say two links at one ask) broken the other way: VCG pays whoever carries
    event("same allocation")
    for a, b in zip(by_paths.participants, by_arcs.participants):
        assert abs(a.pays - b.pays) <= Decimal("0.000001") and abs(a.receives - b.receives) <= Decimal("0.000001"), (a, b)


@given(markets())
def test_clearing_is_reproducible(s):
    """Identical inputs, identical bytes (the worker processes are tested in test_workers.py)."""
    for mechanism in MECHANISMS:
        a = clear(s, mechanism)
        if a is None:
            return
        if mechanism == "vcg":
            describe(s, a)
        b = clear_market(replace(s), mechanism)
        assert json.dumps(a.to_json_dict()) == json.dumps(b.to_json_dict())


@BOTH_FORMULATIONS
@given(markets())
def test_vcg_pays_the_clarke_pivot_of_an_independent_optimum(formulation, s):
    """Every participant's net transfer before the fund is its contribution W* - W*_-i
    (both from the oracle, which shares no code with the market) less its value plus
    its asks; a participant the fund tops up gets at least that."""
    r = clear(s, "vcg", formulation=formulation)
    if r is None:
        return
    describe(s, r)
    welfare = optimum(s)
    for p in r.participants:
        if not (p.pays or p.receives or p.funded):
            continue
        contribution, relaxed = clarke(s, p.name, welfare)
        if relaxed:
            event("floors relaxed without a participant")
        own = utility(s, r, p.name) - (p.receives - p.pays)  # value served minus asks carried
        expected = Decimal(str(contribution)) - own
        net = p.receives - p.pays - p.funded  # what VCG alone pays it
        slack = paths_budget(r) + Decimal("0.000002")
        if p.funded:
            event("the fund topped VCG up")
            assert net + p.funded >= expected - slack
            continue
        assert abs(net - expected) <= slack, (p, contribution, own)
