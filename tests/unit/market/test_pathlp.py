"""Column generation (``pathlp.PathLP``) on its own: the two-phase fallback of a market
whose paths are restricted.  Its optimum, prices and counterfactuals are checked against
the arc formulation and an independent LP in ``test_properties.py`` and ``test_latency.py``."""
from __future__ import annotations

import numpy as np
import pytest

from controller.market.counterfactual import Engine, optimum_of
from controller.market.network import market_from_scenario
from controller.market.pathlp import PathLP

from .helpers import build, winners
from .test_latency import slow_and_fast
from .test_workers import generated


def two_phase(s, strategies=None):
    """``_two_phase`` from a cold start, as ``solve`` calls it when the floors still need an
    artificial column; and the LP, to look at afterwards.  ``strategies`` receives the
    simplex strategy of each run."""
    market = market_from_scenario(s)
    lp = PathLP(market)
    lp.h.clearSolver()
    if strategies is not None:
        run = lp.h.run
        lp.h.run = lambda: strategies.append(lp.h.getOptionValue("simplex_strategy")[1]) or run()
    return lp._two_phase(np.zeros(len(market.arcs), dtype=bool), set()), lp


def test_the_two_phase_fallback_finds_the_optimum_a_floor_allows_and_puts_the_artificials_back():
    # A 500 kbps floor within 19.5 ms: only the fast dear path, which the optimum takes anyway.
    s = slow_and_fast(bound=19.5, floor=500)
    strategies = []
    found, lp = two_phase(s, strategies)
    assert len(strategies) > 2 and set(strategies) == {1}  # both phases, dual throughout: not a counterfactual
    assert found is not None
    values, duals = found
    assert lp.artificials and all(values[c] == 0 for c in lp.artificials)
    assert lp._welfare(values) == pytest.approx(2.5) == PathLP(market_from_scenario(s)).solve().welfare
    assert len(duals) == lp.h.getNumRow()
    model = lp.h.getLp()  # phase 2 fixed the artificials at zero; they are free again
    assert [(model.col_lower_[c], model.col_upper_[c], model.col_cost_[c]) for c in lp.artificials] == \
        [(lp.col_lo[c], lp.col_hi[c], lp.col_cost[c]) for c in lp.artificials]
    assert list(model.col_cost_) == pytest.approx(lp.col_cost)  # phase 1's costs are gone


def test_the_two_phase_fallback_says_none_when_no_path_within_the_bound_meets_the_floor():
    found, lp = two_phase(slow_and_fast(bound=4, floor=500))
    assert found is None
    assert list(lp.h.getLp().col_cost_) == pytest.approx(lp.col_cost)


def triangle(bound=None):
    """a -l1 (p1, 0.1)- b, and around it a -l2- c -l3- b (p2, 0.2 each); d1 and d5 (a to b,
    0.5 Mbps each) take l1, d2 (c to b) takes l3 alone, d3 (a to b) is not worth carrying."""
    links = [("l1", "a", "b", 10_000, "p1", "0.1"), ("l2", "a", "c", 10_000, "p2", "0.2"),
             ("l3", "c", "b", 10_000, "p2", "0.2")]
    demands = [("d1", "ha", "hb", 500, "1.5"), ("d2", "hc", "hb", 1_000, "1.0"),
               ("d3", "ha", "hb", 1_000, "0.05"),  # worth less than l1's ask: a path over l1, never used
               ("d5", "ha", "hb", 500, "1.2", 0, "c5")]
    return build(["a", "b", "c"], links, demands, bounds={"d1": bound} if bound else None)


def arcs_of(market, owner):
    banned = np.zeros(len(market.arcs), dtype=bool)
    banned[[a.index for a in market.arcs if a.seller == owner]] = True
    return banned


def links_of(market, arcs):
    return [market.arcs[i].link for i in arcs]


def test_a_providers_counterfactual_first_gets_the_detour_of_each_demand_it_carries():
    market = market_from_scenario(triangle())
    lp = PathLP(market)
    lp.solve()
    before = list(lp.paths)
    banned = arcs_of(market, "p1")
    assert lp._add_detours(banned, set()) == 2
    assert [(d, links_of(market, arcs)) for d, arcs in lp.paths[len(before):]] == \
        [("d1", ["l2", "l3"]), ("d5", ["l2", "l3"])]
    assert lp._add_detours(banned, set()) == 0  # known already
    fresh = PathLP(market)
    fresh.solve()
    assert fresh._add_detours(banned, {"d1", "d5"}) == 0  # their buyers left with them
    assert fresh._add_detours(arcs_of(market, "p2"), set()) == 0  # d2 has no way around p2
    nothing = np.zeros(len(market.arcs), dtype=bool)
    assert fresh._add_detours(nothing, set()) == 0  # nothing banned, nothing routed over it
    # Without p1: d1 and d5 around it (0.5 Mbps x (1.5 - 0.4) + 0.5 x (1.2 - 0.4)), d2 as before (1 x 0.8).
    assert fresh.counterfactual_welfare("p1") == pytest.approx(1.75)
    assert fresh.counterfactual_welfare("p2") == pytest.approx(1.25)  # d1 and d5 alone, at 1.4 and 1.1


def test_a_detour_is_the_cheapest_at_the_optimums_prices_not_the_fastest():
    links = [("l1", "a", "b", 10_000, "p1", "0.01"), ("l2", "a", "c", 10_000, "p2", "0.2"),
             ("l3", "c", "b", 10_000, "p2", "0.2"), ("l4", "a", "e", 10_000, "p3", "0.01"),
             ("l5", "e", "f", 10_000, "p3", "0.01"), ("l6", "f", "b", 10_000, "p3", "0.01")]
    demands = [("d1", "ha", "hb", 2_000, "1.5"), ("d2", "hc", "hb", 1_000, "1.0", 0, "c2"),
               ("d4", "ha", "hc", 1_000, "1.0", 0, "c4"), ("d5", "he", "hf", 1_000, "1.0", 0, "c5"),
               ("d6", "ha", "he", 1_000, "1.0", 0, "c6"), ("d7", "hf", "hb", 1_000, "1.0", 0, "c7")]
    slow = {"l4": 50, "l5": 50, "l6": 50}
    market = market_from_scenario(build(["a", "b", "c", "e", "f"], links, demands, latency=slow))
    lp = PathLP(market)
    lp.solve()
    n = len(lp.paths)
    assert lp._add_detours(arcs_of(market, "p1"), set()) == 1
    # Every arc is in use, so priced at its ask: 0.03 the long slow way, 0.4 the short fast one.
    assert [(d, links_of(market, arcs)) for d, arcs in lp.paths[n:]] == [("d1", ["l4", "l5", "l6"])]


def test_only_a_counterfactual_that_takes_arcs_out_looks_for_detours():
    market = market_from_scenario(triangle())
    lp = PathLP(market)
    asked = []
    lp._add_detours = lambda banned, gone: asked.append(links_of(market, np.flatnonzero(banned))) or 0
    lp.solve()
    lp.solve(without="p1")  # not a counterfactual's welfare: the allocation without p1, as it was
    assert lp.counterfactual_welfare("cha") == pytest.approx(1.35) and asked == []  # d2 and d5: no arc taken out
    assert lp.counterfactual_welfare("p1") == pytest.approx(1.75)
    assert asked == [["l1", "l1"]]  # both directions of p1's link
    cold = PathLP(market)
    cold._add_detours = lp._add_detours
    assert cold.counterfactual_welfare("p1") == pytest.approx(1.75) and len(asked) == 1  # no optimum to start from


def test_a_restricted_demand_gets_no_detour_its_bound_was_not_asked_about():
    market = market_from_scenario(triangle(bound=100))
    lp = PathLP(market)
    lp.solve()
    n = len(lp.paths)
    assert lp.restricted is not None and lp._add_detours(arcs_of(market, "p1"), set()) == 1
    assert [d for d, _ in lp.paths[n:]] == ["d5"]  # d1 is bounded: not d1
    assert lp.counterfactual_welfare("p1") == pytest.approx(1.75)  # its own pricing finds d1 the way round


def test_the_optimum_point_is_read_once_per_optimum():
    market = market_from_scenario(triangle())
    lp = PathLP(market)
    solution = lp.solve()
    runs = []
    run = lp.h.run
    lp.h.run = lambda: runs.append(1) or run()
    duals, values = lp._optimum_point()
    assert len(runs) == 1 and lp.h.getInfo().simplex_iteration_count == 0
    assert -duals[:len(market.arcs)] == pytest.approx(solution.arc_price_per_mbps, abs=1e-5)  # with the tie-break
    assert lp._welfare(values) == solution.welfare
    again = lp._optimum_point()
    assert len(runs) == 1 and again[0] is duals
    lp.set_basis_statuses(lp.basis_statuses())  # another optimum: read again, at once
    assert len(runs) == 2
    lp._optimum_point()
    assert len(runs) == 2


def test_an_engine_reads_the_optimum_point_before_any_group_adds_columns():
    market = market_from_scenario(triangle())
    lp = PathLP(market)
    lp.solve()
    engine = Engine(optimum_of(lp))
    basis, duals, values = engine.lp._point
    assert basis is engine.lp.optimal_basis and len(values) == engine.lp.n_cols == lp.n_cols
    assert list(duals) == list(lp._optimum_point()[0])  # what the solved LP reads itself


def test_re_solves_run_the_dual_simplex_first_then_the_primal_and_put_the_dual_back():
    s = generated(5)
    lp = PathLP(market_from_scenario(s))
    strategies: list[list[int]] = []
    run = lp.h.run

    def spy():
        strategies[-1].append(lp.h.getOptionValue("simplex_strategy")[1])
        return run()
    lp.h.run = spy
    strategies.append([])
    solution = lp.solve()
    assert len(strategies[0]) > 1 and set(strategies[0]) == {1}  # the market's own solve: dual throughout
    lp._optimum_point()  # read once, before the providers' counterfactuals (a run of its own)
    for name in winners(lp.market, solution):
        strategies.append([])
        lp.counterfactual_welfare(name)
    rounds = strategies[1:]
    assert all(r[0] == 1 and set(r[1:]) <= {4} for r in rounds)
    assert sum(len(r) > 1 for r in rounds) > 5  # pricing rounds after the first: primal
    assert lp.h.getOptionValue("simplex_strategy")[1] == 1
