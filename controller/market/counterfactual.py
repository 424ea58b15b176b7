"""Counterfactual optima for VCG: the welfare of the market without each participant.

An optimiser is a function ``names -> {name: (welfare, floors_relaxed)}``.
Participants are re-solved in fixed groups of :data:`GROUP`, cut from the
list of participants in a fixed order.  Every group starts from the same
state, the solved market as an :class:`Optimum` (its LP, the columns it
generated and its optimal basis); its participants are re-solved one after
the other, from the optimal basis each, sharing the columns they generate;
the group leaves the LP as it found it.  So a counterfactual's welfare is a
function of the market and its group only, computed the same way in this
process, in a worker process (:mod:`.workers`) or on a Dask cluster
(:mod:`.distributed`): the payments do not depend on the number of workers
or on which worker takes which group.  The welfare is the LP's own (value served minus asks
sold, from its rates: no whole-kbps rounding, no tie-break).

:func:`with_lp_duality` wraps any optimiser: a customer whose paths cross no
congested arc is settled from the optimal duals, with no re-solve.

>>> from topologies.loader import load_scenario
>>> from controller.market.network import market_from_scenario
>>> from controller.market.pathlp import PathLP
>>> m = market_from_scenario(load_scenario("topologies/default.yaml"))
>>> lp = PathLP(m); solution = lp.solve()
>>> welfare, relaxed = in_process(optimum_of(lp))(["atlas"])["atlas"]
>>> welfare < solution.welfare, relaxed
(True, False)
"""
from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from typing import Callable, Iterable

from .allocation import lp_accounts, lp_paths, tier_cost
from .network import Arc, Market
from .pathlp import PathLP
from .wdp import LpSolution, WelfareLP

Counterfactuals = Callable[[Iterable[str]], dict[str, tuple[float, bool]]]
FORMULATIONS = {"paths": PathLP, "arcs": WelfareLP}


@dataclass(frozen=True)
class Optimum:
    """The solved market, picklable: what every counterfactual starts from."""

    market: Market
    formulation: str                         # a key of FORMULATIONS
    paths: tuple = ()                        # column generation's columns, in the order they were made
    basis: tuple | None = None               # the optimal basis (column and row statuses), or a cold start
    token: str = field(default_factory=lambda: uuid.uuid4().hex, compare=False)  # a cache key for workers


def optimum_of(lp: PathLP | WelfareLP) -> Optimum:
    """The optimum ``lp`` just found (after ``lp.solve()``)."""
    if isinstance(lp, PathLP):
        if lp.fell_back:  # the arc formulation decided this market
            return Optimum(lp.market, "arcs", (), lp._arc_lp.basis_statuses())
        return Optimum(lp.market, "paths", tuple(lp.paths), lp.basis_statuses())
    return Optimum(lp.market, "arcs", (), lp.basis_statuses())


#: Participants re-solved one after the other from the optimum, sharing the
#: columns they generate; each group starts afresh.  Groups are cut from the
#: ordered list of participants, never from the number of workers.
GROUP = 32


def groups(names: Iterable[str]) -> list[list[str]]:
    names = list(names)
    return [names[i:i + GROUP] for i in range(0, len(names), GROUP)]


class Engine:
    """One process's copy of the solved LP."""

    def __init__(self, optimum: Optimum):
        self.lp = FORMULATIONS[optimum.formulation](optimum.market)
        if optimum.paths:
            self.lp.add_paths(optimum.paths)
        if optimum.basis is not None:
            self.lp.set_basis_statuses(optimum.basis)

    def welfare_without(self, group: list[str], offers_only: bool = False) -> dict[str, tuple[float, bool]]:
        """Per participant of ``group``, in order, the optimal welfare without its
        offers and demands (its offers alone with ``offers_only``: a reverse
        auction, as the POC's), and whether the floors had to be relaxed for it
        (they cannot be met without it).  The columns the group generates are
        dropped at the end: the next group starts from the optimum again."""
        mark = self.lp.mark()
        try:
            out = {}
            for name in group:
                welfare = self.lp.counterfactual_welfare(name, offers_only=offers_only)
                out[name] = ((welfare, False) if welfare is not None else
                             (self.lp.counterfactual_welfare(name, relax_floors=True, offers_only=offers_only), True))
            return out
        finally:
            self.lp.reset(mark)


def in_process(optimum: Optimum, offers_only: bool = False) -> Counterfactuals:
    engine: list[Engine] = []

    def run(names: Iterable[str]) -> dict[str, tuple[float, bool]]:
        if not engine:
            engine.append(Engine(optimum))
        out = {}
        for group in groups(names):
            out.update(engine[0].welfare_without(group, offers_only))
        return out
    return run


def expected_work(market: Market, solution: LpSolution) -> dict[str, float]:
    """A guess of each participant's re-solve time: the flow its removal moves
    (what it carries and what it is served, in kbps)."""
    flow: dict[str, float] = {}
    for a in market.arcs:
        flow[a.seller] = flow.get(a.seller, 0.0) + solution.arc_load_kbps[a.index]
    for d in market.demands:
        flow[d.buyer] = flow.get(d.buyer, 0.0) + solution.x_kbps[d.id]
    return flow


#: How close an arc's price must be to the ask of a tier a customer frees for
#: that tier to count as unpriced (the LP's duals are exact to ~1e-12 there).
PRICE_TOLERANCE = 1e-9


def freed_cost(arc: Arc, load_mbps: float, freed_mbps: float, price: float) -> float | None:
    """The asks saved by carrying ``freed_mbps`` less on ``arc``, or None when a
    tier it frees is priced above its ask (the arc is congested at the margin)."""
    start = 0.0
    for tier in sorted(arc.tiers, key=lambda t: t.ask_per_mbps):  # the LP fills cheapest first
        end = start + tier.capacity_kbps / 1000
        if start < load_mbps and end > load_mbps - freed_mbps:
            if abs(float(tier.ask_per_mbps) - price) > PRICE_TOLERANCE * max(1.0, price):
                return None
        start = end
    return tier_cost(arc, load_mbps) - tier_cost(arc, max(0.0, load_mbps - freed_mbps))


class DualitySettlement:
    """W* without a customer, from the optimal duals, when LP duality proves it.

    Take the customer's paths out of the optimal flow.  When every arc it
    used is priced exactly at the ask of the tiers it frees, no access link it
    uses has a congestion price, and no host floor it shares with others
    changes, the optimal duals still certify the reduced flow as optimal
    (complementary slackness holds row by row), so the counterfactual optimum
    is the optimum minus the customer: its VCG payment then equals its LMP
    payment, the asks it frees.
    """

    def __init__(self, market: Market, solution: LpSolution):
        self.market, self.solution = market, solution
        self.paths = lp_paths(market, solution)
        self.value, _ = lp_accounts(market, solution)
        self.sellers = {a.seller for a in market.arcs}
        self.buyers_from: dict[str, set[str]] = {}
        for d in market.demands:
            self.buyers_from.setdefault(d.src, set()).add(d.buyer)

    def welfare_without(self, name: str) -> float | None:
        """The counterfactual welfare, or None: re-solve."""
        market, solution = self.market, self.solution
        if name in self.sellers:
            return None
        mine = [d for d in market.demands if d.buyer == name]
        floored = dict(market.host_floors)
        for d in mine:
            if d.src in floored and self.buyers_from[d.src] != {name}:
                return None  # a shared universal-service floor: its row may bind differently
            for key in ((d.src, "up"), (d.dst, "down")):
                if solution.access_price_per_mbps.get(key, 0.0) > PRICE_TOLERANCE:
                    return None  # a full access link: freeing it may let others in
        freed: dict[int, list[float]] = {}
        for d in mine:
            for arcs, kbps in self.paths.get(d.id, ()):
                for index in arcs:
                    freed.setdefault(index, []).append(kbps / 1000)
        saved = []
        for index, mbps in sorted(freed.items()):
            cost = freed_cost(market.arcs[index], solution.arc_load_kbps[index] / 1000, math.fsum(mbps),
                              solution.arc_price_per_mbps[index])
            if cost is None:
                return None
            saved.append(cost)
        return math.fsum([solution.welfare, -self.value.get(name, 0.0), *saved])


def counted(optimiser: Counterfactuals, counts: dict) -> Counterfactuals:
    """``optimiser``, every participant re-solved (no duality): ``counts`` receives
    ``settled_by_duality`` (0) and ``re_solves``, as :func:`with_lp_duality` fills them."""

    def run(names: Iterable[str]) -> dict[str, tuple[float, bool]]:
        names = list(names)
        counts.update(settled_by_duality=0, re_solves=len(names))
        return optimiser(names)
    return run


def with_lp_duality(market: Market, solution: LpSolution, optimiser: Counterfactuals,
                    counts: dict | None = None) -> Counterfactuals:
    """``optimiser``, asked only for the participants duality cannot settle;
    ``counts`` receives ``settled_by_duality`` and ``re_solves``."""
    duality = DualitySettlement(market, solution)

    def run(names: Iterable[str]) -> dict[str, tuple[float, bool]]:
        out, rest = {}, []
        for name in names:
            welfare = duality.welfare_without(name)
            if welfare is None:
                rest.append(name)
            else:
                out[name] = (welfare, False)
        out.update(optimiser(rest) if rest else {})
        if counts is not None:
            counts.update(settled_by_duality=len(out) - len(rest), re_solves=len(rest))
        return out
    return run
