"""Winner determination: the welfare-maximising multi-commodity flow, as one LP
over arcs.  Column generation over paths (:mod:`.pathlp`) solves the same LP
faster and is the default; this formulation is its reference and fallback.

Formulation (rates in Mbps inside the LP, money per Mbps per epoch):

* one commodity per *source switch* k (flows leaving the same switch are
  interchangeable, so this is exact and far smaller than one per demand):
  ``f[k,a] >= 0`` on every offered arc a;
* ``y[a,t]`` in ``[0, capacity of tier t]``: what arc a sells from its tier t;
* ``x[d]`` in ``[floor_d, max_d]``: the rate served to demand d.

Maximise ``sum(value_d * x_d) - sum(ask_t * y[a,t]) - eps * sum(cost_a * f[k,a])``
subject to flow conservation of each commodity (the source sends the rates of
its demands, each destination switch absorbs its own), ``sum_k f[k,a] =
sum_t y[a,t]`` on every arc (its dual is the arc's price), per host the
universal-service floor over the demands it sends, and per host access link
the rates of the demands it sends (or receives) at most its capacity.

``eps * cost_a`` breaks ties towards fewer hops and lower latency (local
first): ``cost_a = 1 + latency_ms / 1000`` and ``eps = 1e-6`` per Mbps, so
the tie-break moves welfare by at most ``eps * (hops + latency_s)`` per Mbps
carried, i.e. less than 1e-4 per Mbps on paths under 100 hops.

Participants are removed for VCG by changing bounds on the same model, so
HiGHS re-solves from the optimal basis (warm start).  The welfare of a
solution and its prices carry no tie-break: :func:`pure_welfare` and
:func:`pure_duals`.
"""
from __future__ import annotations

import math
import os
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Sequence

import highspy
import numpy as np

from .network import Market, MarketError

EPSILON = 1e-6
IPM_ABOVE_COLUMNS = 20_000
INF = highspy.kHighsInf


def _quiet_highs() -> highspy.Highs:
    """A HiGHS instance that prints nothing (its banner goes to fd 1 on first use)."""
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    h.setOptionValue("output_flag", False)
    return h


@contextmanager
def changed_bounds(lp, cols: dict[int, tuple[float, float]], rows: dict[int, tuple[float, float]]):
    """Give ``lp``'s HiGHS model these column and row bounds for a while, then
    put back its own (``lp.col_lo``, ``col_hi``, ``row_lo``, ``row_hi``)."""
    for col, (lo, hi) in cols.items():
        lp.h.changeColBounds(col, lo, hi)
    for row, (lo, hi) in rows.items():
        lp.h.changeRowBounds(row, lo, hi)
    try:
        yield
    finally:
        for col in cols:
            lp.h.changeColBounds(col, lp.col_lo[col], lp.col_hi[col])
        for row in rows:
            lp.h.changeRowBounds(row, lp.row_lo[row], lp.row_hi[row])


def basis_statuses(basis: highspy.HighsBasis | None) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """A basis as plain integers (picklable), columns then rows."""
    if basis is None:
        return None
    return tuple(int(s) for s in basis.col_status), tuple(int(s) for s in basis.row_status)


def basis_from_statuses(statuses) -> highspy.HighsBasis:
    basis = highspy.HighsBasis()
    basis.col_status = [highspy.HighsBasisStatus(s) for s in statuses[0]]
    basis.row_status = [highspy.HighsBasisStatus(s) for s in statuses[1]]
    basis.valid = True
    return basis


@dataclass(frozen=True)
class LpSolution:
    """A solved LP in kbps: demand rates, arc loads and commodity flows, arc prices."""

    x_kbps: dict[str, float]
    arc_load_kbps: tuple[float, ...]
    flows_kbps: dict[str, Sequence[float]]  # source switch -> flow on each arc ({} when ``paths`` is given)
    arc_price_per_mbps: tuple[float, ...]
    objective: float
    iterations: int
    #: demand -> ((arc indices in order, kbps), ...) when the solver knows its paths
    #: (column generation); None: decompose ``flows_kbps`` instead.
    paths: dict[str, tuple[tuple[tuple[int, ...], float], ...]] | None = None
    #: (host, "up" | "down") -> the dual of its access limit (its congestion rent; no one sells access)
    access_price_per_mbps: dict[tuple[str, str], float] = field(default_factory=dict)
    #: per arc, the Mbps sold from each of its tiers (the LP's ``y``)
    sold_mbps: tuple[tuple[float, ...], ...] = ()
    #: value served minus asks sold, from the LP's own rates (no rounding, no tie-break)
    welfare: float = 0.0


def pure_welfare(market: Market, x_kbps: dict[str, float], sold_mbps) -> float:
    """``sum(value_d * x_d) - sum(ask_t * y_t)`` of an LP solution, without the
    tie-break.  ``math.fsum`` rounds once, so the result does not depend on
    the order of the terms."""
    terms = [float(d.value_per_mbps) * x_kbps[d.id] / 1000 for d in market.demands]
    terms += [-float(t.ask_per_mbps) * y for a in market.arcs for t, y in zip(a.tiers, sold_mbps[a.index])]
    return math.fsum(terms)


def pure_duals(h: highspy.Highs, cols: np.ndarray, pure_cost: np.ndarray, eps_cost: np.ndarray) -> np.ndarray | None:
    """Row duals of the optimum without the tie-break.

    The tie-break only chooses among optima; prices must not carry it.  The
    columns ``cols`` get their costs without ``eps``, HiGHS re-optimises from
    the optimal basis (a few primal iterations at most), and the costs and the
    basis are put back.  An optimal dual of the pure LP is complementary to
    every pure optimum, the tie-broken one included.  None if HiGHS fails.
    """
    basis = h.getBasis()
    cols = np.asarray(cols, dtype=np.int32)
    h.changeColsCost(len(cols), cols, np.asarray(pure_cost, dtype=np.float64))
    try:
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        return np.asarray(h.getSolution().row_dual)
    finally:
        h.changeColsCost(len(cols), cols, np.asarray(eps_cost, dtype=np.float64))
        h.setBasis(basis)


class WelfareLP:
    """The LP of one market, solvable again with participants taken out."""

    def __init__(self, market: Market):
        if market.constrained:
            raise MarketError("the arc formulation cannot restrict a demand's paths (max_latency_ms, POC mode): "
                              "use the path formulation (the default)")
        self.market = market
        arcs, demands = market.arcs, market.demands
        switches = [s.name for s in market.scenario.switches]
        node = {s: i for i, s in enumerate(switches)}
        network_demands = [d for d in demands if market.src_switch(d) != market.dst_switch(d)]
        self.sources = sorted({market.src_switch(d) for d in network_demands})
        n_arcs, n_nodes = len(arcs), len(switches)
        cols_cost, cols_lo, cols_hi = [], [], []
        entries: list[tuple[int, int, float]] = []  # (row, col, value)

        def add_col(cost: float, lo: float, hi: float) -> int:
            cols_cost.append(cost)
            cols_lo.append(lo)
            cols_hi.append(hi)
            return len(cols_cost) - 1

        # Rows: conservation (source, node), then arc balance, then host floors.
        cons_row = {(k, v): ki * n_nodes + node[v] for ki, k in enumerate(self.sources) for v in switches}
        balance_row0 = len(self.sources) * n_nodes
        self.f_col: dict[str, int] = {}
        for k in self.sources:
            self.f_col[k] = len(cols_cost)
            for a in arcs:
                col = add_col(EPSILON * (1 + a.latency_ms / 1000), 0.0, INF)
                entries += [(cons_row[(k, a.tail)], col, 1.0), (cons_row[(k, a.head)], col, -1.0),
                            (balance_row0 + a.index, col, 1.0)]
        self.y_cols: list[list[int]] = []
        for a in arcs:
            cols = []
            for t in a.tiers:
                col = add_col(float(t.ask_per_mbps), 0.0, t.capacity_kbps / 1000)
                entries.append((balance_row0 + a.index, col, -1.0))
                cols.append(col)
            self.y_cols.append(cols)
        self.x_col: dict[str, int] = {}
        for d in demands:
            col = add_col(-float(d.value_per_mbps), d.floor_kbps / 1000, d.max_kbps / 1000)
            self.x_col[d.id] = col
            src, dst = market.src_switch(d), market.dst_switch(d)
            if src != dst:
                entries += [(cons_row[(src, src)], col, -1.0), (cons_row[(src, dst)], col, 1.0)]
        floor_row0 = balance_row0 + n_arcs
        self.floor_row: dict[str, int] = {}
        row_lo = [0.0] * floor_row0
        row_hi = [0.0] * floor_row0
        for i, (host, kbps) in enumerate(market.host_floors):
            self.floor_row[host] = floor_row0 + i
            row_lo.append(kbps / 1000)
            row_hi.append(INF)
            for d in demands:
                if d.src == host:
                    entries.append((floor_row0 + i, self.x_col[d.id], 1.0))
        self.access_row: dict[tuple[str, str], int] = {}
        for limit in market.access:
            self.access_row[(limit.host, limit.direction)] = len(row_lo)
            row_lo.append(-INF)
            row_hi.append(limit.kbps / 1000)
            entries += [(len(row_lo) - 1, self.x_col[d], 1.0) for d in limit.demands]
        self.balance_row0 = balance_row0
        self.n_cols, self.n_rows = len(cols_cost), len(row_lo)
        self.col_cost = np.array(cols_cost)
        self.col_lo, self.col_hi = np.array(cols_lo), np.array(cols_hi)
        self.row_lo, self.row_hi = np.array(row_lo), np.array(row_hi)
        self.h = _quiet_highs()
        self.h.passModel(self._lp(cols_cost, entries))
        # Large models: interior point (with crossover, so a basis and duals come
        # out) for the first solve; every re-solve starts from that optimal basis.
        if self.n_cols > IPM_ABOVE_COLUMNS:
            self.h.setOptionValue("solver", "ipm")
        self.optimal_basis = None

    def basis_statuses(self):
        return basis_statuses(self.optimal_basis)

    def counterfactual_welfare(self, without: str | None = None, relax_floors: bool = False,
                               offers_only: bool = False) -> float | None:
        """:meth:`solve`'s ``welfare`` alone (as :meth:`PathLP.counterfactual_welfare`)."""
        solution = self.solve(without, relax_floors, offers_only)
        return None if solution is None else solution.welfare

    def mark(self) -> None:
        """This model never adds columns: nothing to reset (as :meth:`PathLP.mark`)."""

    def reset(self, mark) -> None:
        pass

    def set_basis_statuses(self, statuses) -> None:
        self.optimal_basis = basis_from_statuses(statuses)
        self.h.setOptionValue("solver", "simplex")

    def _lp(self, cost, entries) -> highspy.HighsLp:
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = self.n_cols, self.n_rows
        lp.col_cost_ = np.array(cost)
        lp.col_lower_, lp.col_upper_ = self.col_lo, self.col_hi
        lp.row_lower_, lp.row_upper_ = self.row_lo, self.row_hi
        entries.sort(key=lambda e: (e[1], e[0]))
        starts = np.zeros(self.n_cols + 1, dtype=np.int32)
        for _, col, _ in entries:
            starts[col + 1] += 1
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.cumsum(starts).astype(np.int32)
        lp.a_matrix_.index_ = np.array([e[0] for e in entries], dtype=np.int32)
        lp.a_matrix_.value_ = np.array([e[2] for e in entries])
        return lp

    def solve(self, without: str | None = None, relax_floors: bool = False,
              offers_only: bool = False) -> LpSolution | None:
        """Solve, optionally without one participant's offers and demands (its offers
        alone with ``offers_only``), or with every floor relaxed.  Returns None when
        the floors cannot all be met.
        The model's bounds are restored afterwards; every solve starts from the
        optimal basis once there is one (a cold start before), so what it
        returns does not depend on what was solved before.
        """
        cols, rows = self._counterfactual_bounds(without, relax_floors, offers_only)
        with changed_bounds(self, cols, rows):
            if self.optimal_basis is not None:
                self.h.setBasis(self.optimal_basis)
            else:
                self.h.clearSolver()
            self.h.run()
            status = self.h.getModelStatus()
            if self.optimal_basis is None and not cols and not rows and status == highspy.HighsModelStatus.kOptimal:
                self.optimal_basis = self.h.getBasis()
                self.h.setOptionValue("solver", "simplex")  # warm starts need the simplex
            if status == highspy.HighsModelStatus.kInfeasible:
                return None
            if status != highspy.HighsModelStatus.kOptimal:
                raise MarketError(f"the LP solver stopped with status {self.h.modelStatusToString(status)}")
            solution = self._solution()
            if cols or rows:
                return solution
            f_cols = np.arange(len(self.f_col) * len(self.market.arcs), dtype=np.int32)  # the f columns come first
            duals = pure_duals(self.h, f_cols, np.zeros(len(f_cols)), self.col_cost[f_cols])
            return solution if duals is None else replace(solution, **self._prices(duals))

    def _counterfactual_bounds(self, without, relax_floors, offers_only=False):
        cols: dict[int, tuple[float, float]] = {}
        rows: dict[int, tuple[float, float]] = {}
        market = self.market
        if without is not None:
            for a in market.arcs:
                if a.seller == without:
                    for col in self.y_cols[a.index]:
                        cols[col] = (0.0, 0.0)
        if without is not None and not offers_only:
            for d in market.demands:
                if d.buyer == without:
                    cols[self.x_col[d.id]] = (0.0, 0.0)
            for host, kbps in market.floors_left_without(without).items():
                rows[self.floor_row[host]] = (kbps / 1000, INF)
        if relax_floors:
            for d in market.demands:
                col = self.x_col[d.id]
                cols[col] = (0.0, cols.get(col, (0.0, self.col_hi[col]))[1])
            for row in self.floor_row.values():
                rows[row] = (0.0, INF)
        return cols, rows

    def _prices(self, duals: np.ndarray) -> dict:
        """Arc and access prices from row duals: the balance row's dual is what one
        more Mbps on the arc is worth."""
        n_arcs = len(self.market.arcs)
        return {"arc_price_per_mbps": tuple(abs(float(duals[self.balance_row0 + a])) for a in range(n_arcs)),
                "access_price_per_mbps": {key: abs(float(duals[row])) for key, row in self.access_row.items()}}

    def _solution(self) -> LpSolution:
        """The solution HiGHS holds."""
        sol = self.h.getSolution()
        values = np.asarray(sol.col_value)
        n_arcs = len(self.market.arcs)
        sold = tuple(tuple(float(values[c]) for c in self.y_cols[a]) for a in range(n_arcs))
        loads = tuple(1000 * float(sum(s)) for s in sold)
        flows = {k: tuple(1000 * values[start:start + n_arcs]) for k, start in self.f_col.items()}
        x = {d: 1000 * float(values[c]) for d, c in self.x_col.items()}
        info = self.h.getInfo()
        return LpSolution(
            x_kbps=x, arc_load_kbps=loads, flows_kbps=flows, objective=-info.objective_function_value,
            iterations=info.simplex_iteration_count, sold_mbps=sold, welfare=pure_welfare(self.market, x, sold),
            **self._prices(np.asarray(sol.row_dual)),
        )
