"""The arc formulation (``wdp.WelfareLP``) on its own: what it solves without a
participant, its warm starts, its tie-break and its silence; what is solved without a
participant and the tie-break are checked under column generation too.  Its optimum
and its VCG payments are checked against the path formulation and an independent LP
in ``test_properties.py`` (both formulations)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from controller.market.network import market_from_scenario
from controller.market.pathlp import PathLP
from controller.market.wdp import WelfareLP, basis_statuses

from .helpers import build

ROOT = Path(__file__).parents[3]


def seller_who_buys():
    """p1 sells l1 (a-b) and buys d2 (b to c); d1 (a to c) can take l1 and l2 or, dearer, l3."""
    links = [("l1", "a", "b", 1_000, "p1", "0.1"), ("l2", "b", "c", 1_000, "p2", "0.1"),
             ("l3", "a", "c", 1_000, "p3", "0.3")]
    return build(["a", "b", "c"], links, [("d1", "ha", "hc", 1_500, "1.0"), ("d2", "hb", "hc", 800, "0.9", 0, "p1")])


@pytest.mark.parametrize("formulation", [WelfareLP, PathLP])
def test_without_a_participant_means_without_its_offers_and_its_demands_unless_told_offers_only(formulation):
    lp = formulation(market_from_scenario(seller_who_buys()))
    assert lp.solve().welfare == pytest.approx(1.5)  # d2 800 x 0.8, d1 1000 on l3 x 0.7 and 200 on l1+l2 x 0.8
    # Without p1 altogether: no l1 and no d2, so d1 takes l3 alone (1000 x 0.7).
    without = lp.solve(without="p1")
    assert without.welfare == pytest.approx(0.7) and without.x_kbps["d2"] == 0
    assert lp.counterfactual_welfare("p1") == pytest.approx(0.7)
    # Without its offers only: d2 still buys l2 (800 x 0.8), and d1 takes l3 alone (1000 x 0.7).
    assert lp.solve(without="p1", offers_only=True).welfare == pytest.approx(1.34)
    assert lp.counterfactual_welfare("p1", offers_only=True) == pytest.approx(1.34)
    assert lp.solve().welfare == pytest.approx(1.5)  # the bounds are back


def test_without_a_participant_its_floors_go_and_relaxing_is_asked_for():
    # d2's floor of 900 kbps cannot be met without l1's seller p1, who buys d2: without p1 it goes.
    s = build(["a", "b"], [("l1", "a", "b", 1_000, "p1", "0.5")],
              [("d1", "ha", "hb", 1_000, "1.0"), ("d2", "ha2", "hb", 1_000, "0.1", 900)],
              hosts_on={"ha": "a", "ha2": "a", "hb": "b"})
    lp = WelfareLP(market_from_scenario(s))
    full = lp.solve()
    assert full.x_kbps == pytest.approx({"d1": 100.0, "d2": 900.0})
    assert full.welfare == pytest.approx(0.1 * 0.5 + 0.9 * -0.4)
    assert lp.counterfactual_welfare("cha2") == pytest.approx(0.5)  # d2 and its floor gone: d1 takes all
    assert lp.counterfactual_welfare("p1") is None  # the floor stays and nothing can carry it
    assert lp.counterfactual_welfare("p1", relax_floors=True) == pytest.approx(0.0)
    # Relaxed and without d1's buyer: d1 stays out, and d2 is not worth the ask.
    assert lp.counterfactual_welfare("cha", relax_floors=True) == pytest.approx(0.0)
    assert lp.counterfactual_welfare(relax_floors=True) == pytest.approx(0.5)


def test_a_solve_starts_from_the_full_markets_optimal_basis_and_only_from_it():
    lp = WelfareLP(market_from_scenario(seller_who_buys()))
    assert lp.basis_statuses() is None
    lp.solve(without="p1")  # a counterfactual first: its basis is not the market's
    assert lp.basis_statuses() is None
    assert lp.solve().iterations > 0  # cold
    cols, rows = lp.basis_statuses()
    assert (len(cols), len(rows)) == (lp.n_cols, lp.n_rows)
    lp.solve(without="p1")
    lp.solve(without="p3", offers_only=True)
    assert lp.solve().iterations == 0  # from the optimal basis, kept through the counterfactuals
    # A basis passed as plain integers (as to a worker process) warm-starts another model of the market.
    other = WelfareLP(market_from_scenario(seller_who_buys()))
    other.set_basis_statuses(lp.basis_statuses())
    assert other.basis_statuses() == lp.basis_statuses()
    assert other.solve().iterations == 0
    assert basis_statuses(None) is None


def test_prices_are_the_arcs_own_duals_without_the_tie_break():
    # One link, rationed from b to a: the arc b->a (listed second) is priced at the demand's
    # value, the idle arc a->b at its ask.
    s = build(["a", "b"], [("l1", "a", "b", 1_000, "p1", "0.1")], [("d1", "hb", "ha", 1_500, "1.0")])
    market = market_from_scenario(s)
    solution = WelfareLP(market).solve()
    assert [(a.link, a.tail) for a in market.arcs] == [("l1", "a"), ("l1", "b")]
    assert solution.arc_price_per_mbps == (0.1, 1.0)  # exactly: 0.999999 with the tie-break
    assert solution.x_kbps == {"d1": 1000.0}


@pytest.mark.parametrize("formulation", [WelfareLP, PathLP])
def test_both_formulations_break_ties_towards_lower_latency(formulation):
    # Two links at one ask: the tie-break sends the demand over the faster one, whichever is listed first.
    for slow, fast in (("l1", "l2"), ("l2", "l1")):
        s = build(["a", "b"], [("l1", "a", "b", 1_000, "p1", "0.1"), ("l2", "a", "b", 1_000, "p2", "0.1")],
                  [("d1", "ha", "hb", 600, "1.0")], latency={slow: 900.0, fast: 1.0})
        market = market_from_scenario(s)
        solution = formulation(market).solve()
        loads = {(a.link, a.tail): solution.arc_load_kbps[a.index] for a in market.arcs}
        assert loads[(fast, "a")] == pytest.approx(600) and loads[(slow, "a")] == pytest.approx(0)


def test_highs_prints_nothing_and_gives_the_process_its_output_back():
    # In a fresh process, where HiGHS prints its banner on first use: nothing of HiGHS on
    # either stream, and the process's own output still on its own stream.
    code = ("from controller.market.network import market_from_scenario\n"
            "from controller.market.wdp import WelfareLP, _quiet_highs\n"
            "from tests.unit.market.test_wdp import seller_who_buys\n"
            "_quiet_highs()\n"
            "lp = WelfareLP(market_from_scenario(seller_who_buys()))\n"
            "lp.solve(); lp.solve(without='p1')\n"
            "print('out', flush=True)\n"
            "import sys; print('err', file=sys.stderr, flush=True)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, "out\n", "err\n")
