"""VCG's payments are a function of the market alone: the same bytes with one
process or several (the worker pool is spawned for real here)."""
from __future__ import annotations

import json

from controller.market import clear_market, clearing
from controller.market.counterfactual import GROUP
from topologies.generate import generate_world
from topologies.loader import build_scenario


def generated(seed: int):
    """A 100-demand market of 29 switches; with seed 5, the counterfactuals' rounding used to
    make three runs pay three different sets of payments."""
    world = generate_world(backbones=2, backbone_switches=8, last_miles=12, hosts_per_last_mile=4, demands=100, seed=seed)
    return build_scenario(world, {}, "<generated>")


def test_one_worker_or_two_give_byte_identical_json(monkeypatch):
    s = generated(5)
    monkeypatch.setattr(clearing, "PARALLEL_ABOVE_DEMANDS", 0)  # a worker pool even for 100 demands
    alone = clear_market(s, "vcg", options={"workers": 1})
    together = clear_market(s, "vcg", options={"workers": 2})
    assert together.timings["re_solves"] > GROUP  # two groups or more, shared by two processes
    assert json.dumps(together.to_json_dict(), indent=2) == json.dumps(alone.to_json_dict(), indent=2)
    assert together.notes == alone.notes


def test_the_pool_returns_the_floats_this_process_computes():
    from controller.market.counterfactual import in_process, optimum_of
    from controller.market.network import market_from_scenario
    from controller.market.pathlp import PathLP
    from controller.market.workers import WorkerPool

    market = market_from_scenario(generated(9))  # here cutting the groups otherwise changes a float
    lp = PathLP(market)
    solution = lp.solve()
    names = sorted({d.buyer for d in market.demands if solution.x_kbps[d.id] > 0}
                   | {a.seller for a in market.arcs if solution.arc_load_kbps[a.index] > 0})
    optimum = optimum_of(lp)
    pool = WorkerPool(1)
    try:
        shared = pool.optimiser(optimum)(names)
    finally:
        pool.close()
    assert shared == in_process(optimum)(names)  # to the last bit, whoever took which group
