"""Counterfactual optima for VCG: the welfare of the market without each participant.

Two optimisers with one signature, ``names -> {name: (welfare, floors_relaxed)}``:
:func:`in_process` re-solves the already solved LP from its optimal basis, one
participant after the other; :func:`in_parallel` spreads the re-solves over
worker processes, each with its own copy of the LP (HiGHS models are not
shared between processes), which pays off only when there are many large
re-solves.
"""
from __future__ import annotations

import multiprocessing
from decimal import Decimal
from typing import Callable, Iterable

from .allocation import allocate
from .network import Market
from .wdp import WelfareLP

Counterfactuals = Callable[[Iterable[str]], dict[str, tuple[Decimal, bool]]]


def _without(market: Market, lp: WelfareLP, name: str) -> tuple[Decimal, bool]:
    solution = lp.solve(without=name)
    relaxed = solution is None
    if relaxed:  # without it the floors cannot be met: measure against the market without floors
        solution = lp.solve(without=name, relax_floors=True)
    return allocate(market, solution).welfare, relaxed


def in_process(market: Market, lp: WelfareLP) -> Counterfactuals:
    return lambda names: {name: _without(market, lp, name) for name in names}


_worker: tuple[Market, WelfareLP] | None = None


def _start_worker(market: Market) -> None:
    global _worker
    lp = WelfareLP(market)
    lp.solve()  # the optimal basis every re-solve starts from
    _worker = (market, lp)


def _in_worker(name: str) -> tuple[str, tuple[Decimal, bool]]:
    market, lp = _worker
    return name, _without(market, lp, name)


def in_parallel(market: Market, workers: int) -> Counterfactuals:
    def run(names: Iterable[str]) -> dict[str, tuple[Decimal, bool]]:
        names = list(names)
        context = multiprocessing.get_context("spawn")  # no fork of a process holding HiGHS threads
        with context.Pool(workers, initializer=_start_worker, initargs=(market,)) as pool:
            return dict(pool.imap_unordered(_in_worker, names))
    return run
