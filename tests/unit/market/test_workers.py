"""VCG's payments are a function of the market alone: the same bytes with one
process or several (the worker pool is spawned for real here)."""
from __future__ import annotations

import json

import pytest

from controller.market import clear_market, clearing
from controller.market.counterfactual import GROUP
from topologies.generate import generate_world
from topologies.loader import build_scenario

from ..controller.tiny import promptly
from .helpers import winners


def generated(seed: int):
    """A 100-demand market of 29 switches; with seed 5, the counterfactuals' rounding used to
    make three runs pay three different sets of payments."""
    world = generate_world(backbones=2, backbone_switches=8, last_miles=12, hosts_per_last_mile=4, demands=100, seed=seed)
    return build_scenario(world, {}, "<generated>")


def test_one_worker_or_two_give_byte_identical_json(monkeypatch):
    s = generated(5)
    monkeypatch.setattr(clearing, "PARALLEL_ABOVE_DEMANDS", 0)  # a worker pool even for 100 demands
    def clear(workers):
        return clear_market(s, "vcg", options={"workers": workers})

    alone = promptly(clear, 1, seconds=30)  # a lost chunk would hang it
    together = promptly(clear, 2, seconds=30)
    assert together.timings["re_solves"] > GROUP  # two groups or more, shared by two processes
    assert json.dumps(together.to_json_dict(), indent=2) == json.dumps(alone.to_json_dict(), indent=2)
    assert together.notes == alone.notes


def test_the_pool_returns_the_floats_this_process_computes():
    from controller.market.counterfactual import in_process
    from controller.market.workers import WorkerPool

    # A generated world: here cutting the groups otherwise changes a float.
    optimum, names = optimum_and_traders(generated(9))
    pool = WorkerPool(1)
    try:
        shared = promptly(pool.optimiser(optimum), names, seconds=30)  # a lost chunk would hang it
    finally:
        pool.close()
    assert shared == in_process(optimum)(names)  # to the last bit, whoever took which group


def optimum_and_traders(scenario):
    """A scenario's optimum and the participants who trade in it."""
    from controller.market.counterfactual import optimum_of
    from controller.market.network import market_from_scenario
    from controller.market.pathlp import PathLP

    market = market_from_scenario(scenario)
    lp = PathLP(market)
    traders = winners(market, lp.solve())
    return optimum_of(lp), traders


def small_optimum(path="topologies/default.yaml"):
    """A library scenario's optimum and the participants who trade in it."""
    from topologies.loader import load_scenario

    return optimum_and_traders(load_scenario(path))


def test_one_pool_clears_one_market_after_another_and_fails_loudly():
    # Workers keep the engine of the last optimum they read (by its token): a second market
    # must be read afresh.  A worker's failure, or a closed pool, is raised, never waited on.
    from controller.market.counterfactual import in_process
    from controller.market.workers import WorkerPool

    first, second = small_optimum(), small_optimum("topologies/library/abilene.yaml")
    pool = WorkerPool(1)
    try:
        for optimum, names in (first, second, first):
            assert promptly(pool.optimiser(optimum), names, seconds=30) == in_process(optimum)(names)
        with pytest.raises(FileNotFoundError):
            promptly(pool._share, second[0], "/nonexistent/openisp-optimum.pickle", [second[1]], seconds=30)
    finally:
        pool.close()
    with pytest.raises(RuntimeError, match="shutdown"):
        promptly(pool.optimiser(first[0]), first[1], seconds=30)


def test_a_worker_reads_the_optimum_once_per_token_and_computes_what_this_process_does(tmp_path, monkeypatch):
    # _run_chunk runs in the spawned workers, where no test can see it: here it runs in process.
    import pickle
    from dataclasses import replace

    from controller.market import workers
    from controller.market.counterfactual import in_process

    optimum, names = small_optimum()
    expected = in_process(optimum)(names)
    monkeypatch.setattr(workers, "_cached", None)
    path = tmp_path / "optimum.pickle"
    path.write_bytes(pickle.dumps(optimum))
    assert workers._run_chunk(str(path), optimum.token, names[:2]) == {n: expected[n] for n in names[:2]}
    path.unlink()  # the same token: the engine already read is used again
    assert workers._run_chunk(str(path), optimum.token, names[2:]) == {n: expected[n] for n in names[2:]}
    other = replace(optimum, token="another")  # a new market: read again, from its own file
    path.write_bytes(pickle.dumps(other))
    assert workers._run_chunk(str(path), "another", names) == expected
    assert workers._cached[0] == "another"
    assert workers._warm() > 0


def test_a_dask_worker_thread_builds_its_engine_once_per_token():
    # dask_engine._run_group runs on the cluster's workers: here it runs in process.
    import threading

    from controller.market import distributed as dask_engine
    from controller.market.counterfactual import in_process

    optimum, names = small_optimum()
    expected = in_process(optimum)(names)
    dask_engine._local.__dict__.clear()
    assert dask_engine._run_group(optimum, names[:2]) == {n: expected[n] for n in names[:2]}
    engine = dask_engine._local.engine
    assert engine[0] == optimum.token
    assert dask_engine._run_group(optimum, names) == expected
    assert dask_engine._local.engine is engine  # the same engine, not built again
    seen = []  # another thread builds its own
    thread = threading.Thread(target=lambda: seen.append((dask_engine._run_group(optimum, names),
                                                          dask_engine._local.engine is not engine)))
    thread.start()
    thread.join(60)
    assert seen == [(expected, True)]


def test_chunks_of_one_over_two_workers_and_this_process_all_come_back(tmp_path):
    # One participant per chunk: the workers take the next chunk as each finishes while this
    # process takes its own, so every hand-over of the share-out runs; none may be lost or waited for.
    import pickle

    from controller.market.counterfactual import in_process
    from controller.market.workers import WorkerPool

    optimum, names = small_optimum("topologies/library/abilene.yaml")
    path = tmp_path / "optimum.pickle"
    path.write_bytes(pickle.dumps(optimum))
    pool = WorkerPool(2)
    try:
        for _ in range(3):
            shared = promptly(pool._share, optimum, str(path), [[n] for n in names] * 4, seconds=30)
            assert shared == in_process(optimum)(names)
    finally:
        pool.close()


def test_a_pool_is_started_only_for_vcg_on_a_large_market_with_workers_to_spare(monkeypatch):
    # A pool costs a second of start-up: below PARALLEL_ABOVE_DEMANDS, for the rules
    # that re-solve nothing, or with one worker, the clearing stays in this process.
    from controller.market.counterfactual import in_process

    started, used, closed = [], [], []

    class Pool:  # re-solves in this process, saying what was asked of it
        def __init__(self, processes):
            started.append(processes)

        def optimiser(self, optimum, work):
            used.append(sorted(work))
            return in_process(optimum)

        def close(self):
            closed.append(True)

    monkeypatch.setattr(clearing, "WorkerPool", Pool)
    scenario = generated(3)
    assert 0 < len(scenario.demands) < clearing.PARALLEL_ABOVE_DEMANDS
    alone = clear_market(scenario, "vcg", options={"workers": 2})  # too small for a pool
    monkeypatch.setattr(clearing, "PARALLEL_ABOVE_DEMANDS", len(scenario.demands))
    for mechanism in ("lmp", "pay-as-bid"):
        clear_market(scenario, mechanism, options={"workers": 2})  # nothing to re-solve
    clear_market(scenario, "vcg", options={"workers": 1})  # nobody to share with
    assert started == used == closed == []
    for workers in (2, 3):  # from as many demands as PARALLEL_ABOVE_DEMANDS
        shared = clear_market(scenario, "vcg", options={"workers": workers})
        assert shared.to_json_dict() == alone.to_json_dict()
    assert started == [1, 2]  # this process takes groups too
    assert len(used) == 2 and used[0] and closed == [True, True]  # used, with the work guessed, and closed
