"""Winner determination by column generation over paths: the same LP as
:mod:`controller.market.wdp`, solved from a small master problem.

The arc formulation has one flow column per (source switch, arc): 72,820
columns for the 1,000-demand library market.  Here a column is one path of
one demand, and only the paths that could improve welfare are ever built:

* master LP: rows are each arc's balance (paths on it <= what its tiers sell),
  each demand's rate (between its floor and its maximum), each host's
  universal-service floor and each host access link that could be overrun;
  columns are the tiers ``y[a,t]`` and the paths found so far, each worth
  ``value_d - eps * cost(path)`` per Mbps;
* pricing: with the master's duals, an arc costs ``eps * cost_a + price_a``;
  a demand gains from a new path when its value, less the duals of its rate
  row, its host's floor row and its hosts' access rows, beats its shortest
  path.  One Dijkstra per source switch (scipy) finds every improving path
  at once; the loop stops when none improves by more than
  :data:`REDUCED_COST_TOLERANCE`.

The optimum is the arc formulation's (same objective, same constraints, so
the same duals: arc prices for LMP); the tests check it against a
brute-force path LP and against the arc formulation.  Floors are met in the
master through artificial columns at a penalty; when an artificial is still
needed at the end, the arc formulation gives the answer instead.

An arc's balance row reads "paths on it <= what its tiers sell" rather than
"=": with asks >= 0 the optimum is the same, and the inequality keeps every
arc's dual (minus its price) <= 0, so pricing weights are never negative and
Dijkstra is exact.  (With "=", degenerate duals made some unused arcs look
cheaper than free and priced negative cycles.)

Counterfactuals for VCG change bounds on the same master (a provider's tiers
to zero and its arcs out of pricing; a customer's rate rows to zero), start
from the full optimum's basis, and generate the paths they need; the paths
stay until :meth:`PathLP.reset` drops them (at the end of each group of
counterfactuals, see :mod:`.counterfactual`).

Welfare and prices come without the tie-break: the welfare from the column
values (``value_d`` per Mbps of a path, minus the asks of what the tiers
sell), the prices from the optimum re-solved without ``eps`` (see
:meth:`PathLP._pure_prices`).
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import highspy
from scipy.sparse.csgraph import dijkstra

from .network import Market, MarketError
from .pricing import RestrictedPricing, cheapest_graph, floors_without, walk
from .wdp import EPSILON, INF, LpSolution, WelfareLP, _quiet_highs, basis_from_statuses, basis_statuses, changed_bounds

REDUCED_COST_TOLERANCE = 1e-7  # per Mbps: HiGHS's own dual feasibility tolerance
MAX_ROUNDS = 500
LOWER = highspy.HighsBasisStatus.kLower
DUAL, PRIMAL = 1, 4  # HiGHS's simplex_strategy: dual (its default), primal


class PathLP:
    """The market's LP by column generation; ``solve`` as :class:`WelfareLP`'s."""

    _point: tuple | None = None  # (the optimal basis, its row duals, its column values): see _optimum_point

    def __init__(self, market: Market):
        self.market = market
        arcs, demands = market.arcs, market.demands
        self.switches = [s.name for s in market.scenario.switches]
        self.node = {s: i for i, s in enumerate(self.switches)}
        n_arcs = len(arcs)
        self.arc_cost = np.array([EPSILON * (1 + a.latency_ms / 1000) for a in arcs])
        self.tail = np.array([self.node[a.tail] for a in arcs], dtype=np.int64)
        self.head = np.array([self.node[a.head] for a in arcs], dtype=np.int64)
        self.demand_row = {d.id: n_arcs + i for i, d in enumerate(demands)}
        floor_row0 = n_arcs + len(demands)
        self.floor_row = {host: floor_row0 + i for i, (host, _) in enumerate(market.host_floors)}
        floors = dict(market.host_floors)
        access_row0 = floor_row0 + len(market.host_floors)
        self.access_row = {(a.host, a.direction): access_row0 + i for i, a in enumerate(market.access)}
        self.row_lo = np.array([-INF] * n_arcs + [d.floor_kbps / 1000 for d in demands]
                               + [floors[h] / 1000 for h, _ in market.host_floors] + [-INF] * len(market.access))
        self.row_hi = np.array([0.0] * n_arcs + [d.max_kbps / 1000 for d in demands] + [INF] * len(floors)
                               + [a.kbps / 1000 for a in market.access])
        self.h = _quiet_highs()
        self.h.setOptionValue("solver", "simplex")
        lp = highspy.HighsLp()
        lp.num_row_ = len(self.row_lo)
        lp.row_lower_, lp.row_upper_ = self.row_lo, self.row_hi
        self.h.passModel(lp)
        self.col_lo: list[float] = []
        self.col_hi: list[float] = []
        self.col_cost: list[float] = []
        self.col_worth: list[float] = []  # per column, what one Mbps of it adds to welfare (value, or minus the ask)
        self.y_cols: list[list[int]] = []
        for a in arcs:
            self.y_cols.append([self._add(float(t.ask_per_mbps), 0.0, t.capacity_kbps / 1000, [a.index], -1.0,
                                          -float(t.ask_per_mbps)) for t in a.tiers])
        # Artificial columns keep every floor row satisfiable while paths are missing.
        penalty = 1e3 + 10 * (max((float(d.value_per_mbps) for d in demands), default=0)
                              + sum(float(max(t.ask_per_mbps for t in a.tiers)) for a in arcs))
        self.artificials = [self._add(penalty, 0.0, INF, [row], 1.0)
                            for row in [self.demand_row[d.id] for d in demands if d.floor_kbps] + list(self.floor_row.values())]
        self.paths: list[tuple[str, tuple[int, ...]]] = []  # column - first path column -> (demand, arcs)
        self._hop_cols: list[int] = []
        self._hop_arcs: list[int] = []
        self.known: set[tuple[str, tuple[int, ...]]] = set()
        self.first_path_col = len(self.col_lo)
        for d in demands:
            if market.src_switch(d) == market.dst_switch(d):
                self._add_path(d, ())
        self.network_demands = [d for d in demands if market.src_switch(d) != market.dst_switch(d)]
        # Pricing data per network demand, as arrays.
        nd = self.network_demands
        self.d_src = np.array([self.node[market.src_switch(d)] for d in nd], dtype=np.int64)
        self.d_dst = np.array([self.node[market.dst_switch(d)] for d in nd], dtype=np.int64)
        self.d_value = np.array([float(d.value_per_mbps) for d in nd])
        self.d_row = np.array([self.demand_row[d.id] for d in nd], dtype=np.int64)
        self.d_floor_row = np.array([self.floor_row.get(d.src, -1) for d in nd], dtype=np.int64)
        self.d_up_row = np.array([self.access_row.get((d.src, "up"), -1) for d in nd], dtype=np.int64)
        self.d_down_row = np.array([self.access_row.get((d.dst, "down"), -1) for d in nd], dtype=np.int64)
        self.restricted = RestrictedPricing(
            len(self.switches), self.tail, self.head, [a.latency_ms for a in arcs], self.d_src, self.d_dst, nd,
            market.demand_class, market.arc_classes) if market.constrained else None
        self.optimal_basis = None
        self._basis_cache: tuple | None = None  # (the optimal basis, its column and row statuses as lists)
        self._arc_lp: WelfareLP | None = None
        self.fell_back = False  # did the last solve need the arc formulation?

    def add_paths(self, paths) -> None:
        """Start from paths found elsewhere (``(demand id, arc indices)``, as in
        :attr:`paths`): a worker process handed the parent's columns needs one
        pricing round instead of many."""
        by_id = {d.id: d for d in self.market.demands}
        for demand, arcs in paths:
            if (demand, tuple(arcs)) not in self.known:
                self._add_path(by_id[demand], tuple(arcs))

    @property
    def n_cols(self) -> int:
        return len(self.col_lo)

    def _add(self, cost: float, lo: float, hi: float, rows: list[int], value: float, worth: float = 0.0) -> int:
        self.h.addCol(cost, lo, hi, len(rows), np.array(rows, dtype=np.int32), np.full(len(rows), value))
        self.col_lo.append(lo)
        self.col_hi.append(hi)
        self.col_cost.append(cost)
        self.col_worth.append(worth)
        return len(self.col_lo) - 1

    def _add_path(self, d, arcs: tuple[int, ...], pure: bool = False, phase1: bool = False) -> None:
        """A path column; ``pure``: into the model without its tie-break cost
        for now (while :meth:`_pure_prices` runs), recorded with it; ``phase1``:
        at no cost for now (while :meth:`_two_phase` looks for a feasible basis)."""
        rows = [*arcs, self.demand_row[d.id]]
        if d.src in self.floor_row:
            rows.append(self.floor_row[d.src])
        for key in ((d.src, "up"), (d.dst, "down")):
            if key in self.access_row:
                rows.append(self.access_row[key])
        cost = -float(d.value_per_mbps) + float(self.arc_cost[list(arcs)].sum())
        self._add(cost, 0.0, INF, rows, 1.0, float(d.value_per_mbps))
        if pure or phase1:
            self.h.changeColCost(self.n_cols - 1, 0.0 if phase1 else -float(d.value_per_mbps))
        self._hop_cols.extend([len(self.paths)] * len(arcs))  # path -> arc incidence, for loads
        self._hop_arcs.extend(arcs)
        self.paths.append((d.id, arcs))
        self.known.add((d.id, arcs))

    # -- solving ------------------------------------------------------------

    def mark(self) -> tuple[int, int]:
        """The columns so far, for :meth:`reset`."""
        return self.n_cols, len(self._hop_arcs)

    def reset(self, mark: tuple[int, int]) -> None:
        """Drop the columns added since ``mark``, and the arc formulation built
        meanwhile: the LP is again what it was then."""
        n_cols, n_hops = mark
        if self.n_cols > n_cols:
            self._drop_columns(n_cols, n_hops)
        self._arc_lp = None

    def solve(self, without: str | None = None, relax_floors: bool = False,
              offers_only: bool = False) -> LpSolution | None:
        """Solve, optionally without one participant (its offers and demands, or its
        offers alone with ``offers_only``) or with every floor relaxed; None when the
        floors cannot all be met.  Bounds are restored afterwards; the columns
        generated stay (see :meth:`reset`)."""
        return self._solve(without, relax_floors, True, offers_only)

    def counterfactual_welfare(self, without: str | None = None, relax_floors: bool = False,
                               offers_only: bool = False) -> float | None:
        """:meth:`solve`'s ``welfare`` alone, without building the solution (VCG asks for it per participant)."""
        return self._solve(without, relax_floors, False, offers_only)

    def _solve(self, without, relax_floors, full: bool, offers_only: bool = False):
        cols, rows, banned, gone = self._counterfactual_bounds(without, relax_floors, offers_only)
        counterfactual = not full and self.optimal_basis is not None
        if counterfactual and banned.any():
            self._add_detours(banned, gone)
        with changed_bounds(self, cols, rows):
            if self.optimal_basis is not None:
                self.h.setBasis(self._extended_basis())
            else:
                self.h.clearSolver()  # a cold start, whatever was solved before
            found = self._generate_columns(banned, gone, primal_after_first=counterfactual)
            if found is None and self.market.constrained:  # restricted paths: no arc formulation
                found = self._two_phase(banned, gone)
                if found is None:
                    return None
            self.fell_back = found is None
            if found is None:  # undecided here: the arc formulation decides
                if self._arc_lp is None:
                    self._arc_lp = WelfareLP(self.market)
                solution = self._arc_lp.solve(without, relax_floors, offers_only)
                return solution if full or solution is None else solution.welfare
            if not full:
                return self._welfare(found[0])
            solution = self._solution(*found)
            if cols or rows:
                return solution
            if self.optimal_basis is None:
                self.optimal_basis = self.h.getBasis()
            pure = self._pure_prices()
            return solution if pure is None else replace(solution, **self._prices(pure))

    def _pure_prices(self) -> np.ndarray | None:
        """Row duals of the optimum without the tie-break (see :func:`.wdp.pure_duals`):
        the path columns lose their ``eps`` costs and the master is re-optimised
        from the optimal basis, generating paths as usual (a path the tie-break
        kept out may price in now), then the costs and the basis are put back.
        None if the floors then need an artificial column (never seen)."""
        first = self.first_path_col
        cols = np.arange(first, self.n_cols, dtype=np.int32)
        self.h.changeColsCost(len(cols), cols, np.asarray(self.col_cost[first:]) - self._path_eps())
        try:
            found = self._generate_columns(np.zeros(len(self.market.arcs), dtype=bool), set(), pure=True)
        finally:
            cols = np.arange(first, self.n_cols, dtype=np.int32)
            self.h.changeColsCost(len(cols), cols, np.asarray(self.col_cost[first:]))
            self.h.setBasis(self._extended_basis())
        return None if found is None else found[1]

    def _welfare(self, values: np.ndarray) -> float:
        """Value served minus asks sold, from the column values: no rounding, no
        tie-break, and ``math.fsum`` so that the order of the terms does not matter."""
        return math.fsum((values * np.asarray(self.col_worth)).tolist())

    def _path_eps(self) -> np.ndarray:
        """The tie-break part of each path column's cost."""
        return np.array([float(self.arc_cost[list(arcs)].sum()) for _, arcs in self.paths])

    def _drop_columns(self, n_cols: int, n_hops: int) -> None:
        extra = np.arange(n_cols, self.n_cols, dtype=np.int32)
        self.h.deleteCols(len(extra), extra)
        for _ in range(self.n_cols - n_cols):
            self.known.discard(self.paths.pop())
        del self.col_lo[n_cols:], self.col_hi[n_cols:], self.col_cost[n_cols:], self.col_worth[n_cols:]
        del self._hop_cols[n_hops:], self._hop_arcs[n_hops:]

    def basis_statuses(self):
        """The optimal basis as plain integers (picklable), columns then rows."""
        return basis_statuses(self.optimal_basis)

    def set_basis_statuses(self, statuses) -> None:
        """Start every solve from this basis (:meth:`basis_statuses` of an LP with the same columns)."""
        self.optimal_basis = basis_from_statuses(statuses)
        self._optimum_point()  # read now, with the optimum's columns alone: the same in every process

    def _extended_basis(self) -> highspy.HighsBasis:
        """The optimal basis, the columns added since nonbasic at zero."""
        if self._basis_cache is None or self._basis_cache[0] is not self.optimal_basis:
            saved = self.optimal_basis
            self._basis_cache = (saved, list(saved.col_status), list(saved.row_status))
        _, cols, rows = self._basis_cache
        basis = highspy.HighsBasis()
        basis.col_status = cols + [LOWER] * (self.n_cols - len(cols))
        basis.row_status = rows
        basis.valid = True
        return basis

    def _counterfactual_bounds(self, without, relax_floors, offers_only=False):
        cols: dict[int, tuple[float, float]] = {}
        rows: dict[int, tuple[float, float]] = {}
        banned = np.zeros(len(self.market.arcs), dtype=bool)
        gone: set[str] = set()  # demands taken out
        market = self.market
        if without is not None:
            for a in market.arcs:
                if a.seller == without:
                    banned[a.index] = True
                    for col in self.y_cols[a.index]:
                        cols[col] = (0.0, 0.0)
            if not offers_only:
                for d in market.demands:
                    if d.buyer == without:
                        rows[self.demand_row[d.id]] = (0.0, 0.0)
                        gone.add(d.id)
                for host, kbps in market.floors_left_without(without).items():
                    rows[self.floor_row[host]] = (kbps / 1000, INF)
            changed = None
            if self.restricted is not None and banned.any():
                changed = floors_without(market, None if offers_only else without,
                                         frozenset(np.flatnonzero(banned).tolist()))
            if changed is not None:  # demands no path serves without it: their floors go (as in the market)
                rows.update({self.demand_row[d]: (0.0, self.row_hi[self.demand_row[d]]) for d in changed[0] - gone})
                rows.update({self.floor_row[h]: (kbps / 1000, INF) for h, kbps in changed[1].items()})
        if relax_floors:
            for d in market.demands:
                row = self.demand_row[d.id]
                rows[row] = (0.0, rows.get(row, (0.0, self.row_hi[row]))[1])
            for row in self.floor_row.values():
                rows[row] = (0.0, INF)
        return cols, rows, banned, gone

    def _optimum_point(self) -> tuple[np.ndarray, np.ndarray]:
        """The optimum's row duals and column values, from its basis (HiGHS
        re-reads it in no iteration), once per optimum; call with the bounds
        of the market itself.  An :class:`.counterfactual.Engine` reads it as it
        starts (:meth:`set_basis_statuses`), before any group adds columns."""
        if self._point is None or self._point[0] is not self.optimal_basis:
            self.h.setBasis(self._extended_basis())
            self.h.run()
            solution = self.h.getSolution()
            self._point = (self.optimal_basis, np.array(solution.row_dual), np.array(solution.col_value))
        return self._point[1], self._point[2]

    def _add_detours(self, banned: np.ndarray, gone: set[str]) -> int:
        """Before a counterfactual that takes arcs out (a provider's): for each
        demand the optimum routes over them, its cheapest path around them at the
        optimum's prices, as a column.  These are the paths the re-solve would
        price in after its first round; given first, they save it a round or
        two and the pivots that go with them.  Restricted demands are left to
        their own pricing.  Returns the number of columns added."""
        duals, values = self._optimum_point()
        on_banned = np.asarray(self._hop_cols)[banned[self._hop_arcs]]  # paths (by index) over them
        carried = values[self.first_path_col:]
        routed = {self.paths[j][0] for j in np.unique(on_banned).tolist() if j < len(carried) and carried[j] > 0}
        index = [i for i, d in enumerate(self.network_demands) if d.id in routed and d.id not in gone
                 and not (self.restricted is not None and self.restricted.restricted[i])]
        if not index:
            return 0
        sources = np.unique(self.d_src[index])
        dist, pred, arc_of = self._trees(self._arc_weights(duals), np.flatnonzero(~banned), sources)
        row = {int(s): k for k, s in enumerate(sources)}
        added = 0
        for i in index:
            src, dst = int(self.d_src[i]), int(self.d_dst[i])
            if np.isfinite(dist[row[src], dst]):
                path = walk(pred[row[src]], src, dst, arc_of)
                if (self.network_demands[i].id, path) not in self.known:
                    self._add_path(self.network_demands[i], path)
                    added += 1
        return added

    def _arc_weights(self, duals: np.ndarray, pure: bool = False) -> np.ndarray:
        """Pricing's length of each arc at ``duals``: its price, plus its tie-break cost
        unless ``pure``."""
        weight = (0.0 if pure else self.arc_cost) - duals[:len(self.market.arcs)]
        return np.maximum(weight, 1e-15)  # solver noise; an explicit zero would read as no edge

    def _trees(self, weight: np.ndarray, open_arcs: np.ndarray, sources: np.ndarray):
        """Shortest paths from ``sources`` over ``open_arcs`` at ``weight``: distances and
        predecessors (a row per source), and the arc of each (tail, head) they use."""
        # Parallel arcs: pricing needs only the cheapest of each (tail, head).
        graph, arc_of = cheapest_graph(weight, open_arcs, self.tail, self.head, len(self.switches))
        dist, pred = dijkstra(graph, indices=sources, return_predecessors=True)
        return dist, pred, arc_of

    def _generate_columns(self, banned: np.ndarray, gone: set[str], pure: bool = False, phase1: bool = False,
                          primal_after_first: bool = False) -> tuple[np.ndarray, np.ndarray] | None:
        """Solve the master and add improving paths until none improves.  ``pure``:
        without the tie-break; ``phase1``: the columns are worth nothing and only
        the artificials cost (see :meth:`_two_phase`); ``primal_after_first``:
        the rounds after the first run the primal simplex (new columns leave the
        basis primal feasible; the dual simplex would first undo its cost
        perturbation, about 20% slower over VCG's re-solves)."""
        try:
            n = len(self.switches)
            wanted = np.array([d.id not in gone for d in self.network_demands], dtype=bool)
            sources = np.unique(self.d_src[wanted])
            row_of_source = np.full(n, -1, dtype=np.int64)
            row_of_source[sources] = np.arange(len(sources))
            open_arcs = np.flatnonzero(~banned)
            value = np.zeros(len(self.d_value)) if phase1 else self.d_value
            for round_ in range(MAX_ROUNDS):
                if primal_after_first and round_ == 1:
                    self.h.setOptionValue("simplex_strategy", PRIMAL)
                self.h.run()
                if self.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                    return None
                duals = np.asarray(self.h.getSolution().row_dual)
                weight = self._arc_weights(duals, pure or phase1)
                src_rows = row_of_source[self.d_src]
                if len(sources):
                    dist, pred, arc_of = self._trees(weight, open_arcs, sources)
                    shortest = np.where(wanted, dist[np.maximum(src_rows, 0), self.d_dst], np.inf)
                else:  # nobody left to route
                    shortest = np.full(len(self.network_demands), np.inf)
                reduced = -value + shortest - duals[self.d_row]
                for rows in (self.d_floor_row, self.d_up_row, self.d_down_row):
                    reduced -= np.where(rows >= 0, duals[np.maximum(rows, 0)], 0.0)
                restricted = self.restricted.round(weight, banned) if self.restricted is not None else None
                added = 0
                for i in np.flatnonzero(reduced < -REDUCED_COST_TOLERANCE).tolist():
                    path = walk(pred[src_rows[i]], int(self.d_src[i]), int(self.d_dst[i]), arc_of)
                    if restricted is not None and self.restricted.restricted[i]:
                        # what the path may cost and still improve welfare
                        budget = float(shortest[i] - reduced[i]) - REDUCED_COST_TOLERANCE
                        path = restricted.path(i, path, budget)
                        if path is None:
                            continue
                    d = self.network_demands[i]
                    if (d.id, path) not in self.known:
                        self._add_path(d, path, pure, phase1)
                        added += 1
                if not added:
                    values = np.asarray(self.h.getSolution().col_value)
                    if not phase1 and any(values[c] > 1e-9 for c in self.artificials):
                        return None  # floors unmet by the paths found: maybe infeasible
                    return values, duals
            raise MarketError(f"column generation did not converge in {MAX_ROUNDS} rounds")
        finally:
            if primal_after_first:
                self.h.setOptionValue("simplex_strategy", DUAL)

    def _two_phase(self, banned: np.ndarray, gone: set[str]) -> tuple[np.ndarray, np.ndarray] | None:
        """The fallback of a restricted market (the arc formulation cannot restrict
        paths): phase 1 minimises the artificial columns alone, generating paths;
        if they cannot reach zero, the floors cannot be met (None).  Phase 2 then
        fixes them at zero and optimises from that feasible basis."""
        every = np.arange(self.n_cols, dtype=np.int32)
        costs = np.zeros(self.n_cols)
        costs[self.artificials] = 1.0
        self.h.changeColsCost(len(every), every, costs)
        try:
            found = self._generate_columns(banned, gone, phase1=True)
        finally:
            every = np.arange(self.n_cols, dtype=np.int32)
            self.h.changeColsCost(len(every), every, np.asarray(self.col_cost))
        if found is None or sum(found[0][c] for c in self.artificials) > 1e-9:
            return None
        for c in self.artificials:
            self.h.changeColBounds(c, 0.0, 0.0)
        try:
            return self._generate_columns(banned, gone)
        finally:
            for c in self.artificials:
                self.h.changeColBounds(c, self.col_lo[c], self.col_hi[c])

    def _solution(self, values: np.ndarray, duals: np.ndarray) -> LpSolution:
        n_arcs = len(self.market.arcs)
        x = {d.id: 0.0 for d in self.market.demands}
        paths: dict[str, list] = {}
        rates = 1000 * values[self.first_path_col:]
        for i in np.flatnonzero(rates > 0).tolist():
            demand, arcs = self.paths[i]
            x[demand] += float(rates[i])
            paths.setdefault(demand, []).append((arcs, float(rates[i])))
        # What paths carry (a free tier may sell more than that).
        load = np.bincount(np.asarray(self._hop_arcs, dtype=np.int64),
                           weights=np.clip(rates, 0, None)[np.asarray(self._hop_cols, dtype=np.int64)], minlength=n_arcs)
        sold = tuple(tuple(float(values[c]) for c in cols) for cols in self.y_cols)
        info = self.h.getInfo()
        return LpSolution(
            x_kbps=x, arc_load_kbps=tuple(load.tolist()), flows_kbps={},
            objective=-info.objective_function_value, iterations=info.simplex_iteration_count,
            paths={d: tuple(p) for d, p in paths.items()}, sold_mbps=sold, welfare=self._welfare(values),
            **self._prices(duals),
        )

    def _prices(self, duals: np.ndarray) -> dict:
        return {"arc_price_per_mbps": tuple(np.abs(duals[:len(self.market.arcs)]).tolist()),
                "access_price_per_mbps": {key: abs(float(duals[row])) for key, row in self.access_row.items()}}
