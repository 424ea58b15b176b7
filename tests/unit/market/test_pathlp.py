"""Column generation (``pathlp.PathLP``) on its own: the two-phase fallback of a market
whose paths are restricted.  Its optimum, prices and counterfactuals are checked against
the arc formulation and an independent LP in ``test_properties.py`` and ``test_latency.py``."""
from __future__ import annotations

import numpy as np
import pytest

from controller.market.network import market_from_scenario
from controller.market.pathlp import PathLP

from .test_latency import slow_and_fast


def two_phase(s):
    """``_two_phase`` from a cold start, as ``solve`` calls it when the floors still need an
    artificial column; and the LP, to look at afterwards."""
    market = market_from_scenario(s)
    lp = PathLP(market)
    lp.h.clearSolver()
    return lp._two_phase(np.zeros(len(market.arcs), dtype=bool), set()), lp


def test_the_two_phase_fallback_finds_the_optimum_a_floor_allows_and_puts_the_artificials_back():
    # A 500 kbps floor within 19.5 ms: only the fast dear path, which the optimum takes anyway.
    s = slow_and_fast(bound=19.5, floor=500)
    found, lp = two_phase(s)
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
