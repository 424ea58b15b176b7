"""The latency-bounded cheapest path (rcsp.py) against every simple path, on graphs
small enough to enumerate."""
from __future__ import annotations

import math
import random

from controller.market import rcsp
from controller.market.rcsp import LATENCY_TOLERANCE

from ..controller.tiny import promptly


def guarded(search):
    """``search`` (a function of rcsp), failing rather than hanging if its queue never empties."""
    def call(*args, **kwargs):
        def run():
            return search(*args, **kwargs)
        return promptly(run, seconds=5)
    return call


cheapest_within = guarded(rcsp.cheapest_within)
fastest_to = guarded(rcsp.fastest_to)
fastest_latency = guarded(rcsp.fastest_latency)


def simple_paths(n, arcs, source, target):
    """Every simple path from ``source`` to ``target`` as arc indices."""
    out = [[] for _ in range(n)]
    for i, (tail, head, _, _) in enumerate(arcs):
        out[tail].append((i, head))
    found, stack = [], [(source, (), {source})]
    while stack:
        node, path, seen = stack.pop()
        if node == target:
            found.append(path)
            continue
        for i, head in out[node]:
            if head not in seen:
                stack.append((head, path + (i,), seen | {head}))
    return found


def cost_and_latency(arcs, path):
    return sum(arcs[i][2] for i in path), sum(arcs[i][3] for i in path)


def random_graph(rng, n):
    arcs = []
    for tail in range(n):
        for head in range(n):
            if tail != head and rng.random() < 0.45:
                cost = rng.choice([0.5, 1.0, 2.0, 3.5, rng.uniform(0.1, 5)])
                # Dear arcs tend to be fast, as in the markets: a bound then has a price.
                latency = rng.choice([1.0, 2.0, 5.0, max(0.5, 6.0 - cost + rng.uniform(-1, 1))])
                arcs.append((tail, head, cost, latency))
    return arcs


def test_the_cheapest_path_within_the_bound_on_random_graphs():
    rng = random.Random(20261127)
    checked = bounded = pruned = 0
    for _ in range(600):
        n = rng.randint(2, 7)
        arcs = random_graph(rng, n)
        source, target = rng.sample(range(n), 2)
        paths = simple_paths(n, arcs, source, target)
        latencies = sorted({cost_and_latency(arcs, p)[1] for p in paths})
        # Mostly the latency of one of the faster paths: the bound then often rules out the cheapest.
        bound = rng.choice(latencies[:len(latencies) // 2 + 1] * 3 + [math.inf, 0.5]) if latencies else 10.0
        budget = rng.choice([math.inf, math.inf, rng.uniform(0.5, 8)])
        feasible = [cost_and_latency(arcs, p) + (p,) for p in paths]
        feasible = [f for f in feasible if f[1] <= bound + LATENCY_TOLERANCE and f[0] < budget]
        got = cheapest_within(n, arcs, source, target, bound, budget)
        if not feasible:
            assert got is None, (arcs, source, target, bound, budget)
            continue
        assert got is not None, (arcs, source, target, bound, budget)
        cost, path = got
        best = min(f[0] for f in feasible)
        assert math.isclose(cost, best, abs_tol=1e-9), (arcs, source, target, bound, budget, got)
        # The path is real: it chains from the source to the target, within the bound, at its cost.
        assert [arcs[i][0] for i in path][0] == source and arcs[path[-1]][1] == target
        assert all(arcs[a][1] == arcs[b][0] for a, b in zip(path, path[1:]))
        c, lat = cost_and_latency(arcs, path)
        assert math.isclose(c, cost, abs_tol=1e-9) and lat <= bound + LATENCY_TOLERANCE
        checked += 1
        bounded += bound < math.inf and min(f[0] for f in (cost_and_latency(arcs, p) + (p,) for p in paths)) < best
        pruned += budget < math.inf
    # The draws exercise what they mean to: paths found, bounds that cost something, budgets.
    assert checked > 150 and bounded > 20 and pruned > 30, (checked, bounded, pruned)


def test_the_fastest_latency_is_the_least_over_every_path():
    rng = random.Random(7)
    for _ in range(200):
        n = rng.randint(2, 6)
        arcs = random_graph(rng, n)
        target = rng.randrange(n)
        to = fastest_to(n, arcs, target)
        for source in range(n):
            paths = simple_paths(n, arcs, source, target) if source != target else [()]
            want = min((cost_and_latency(arcs, p)[1] for p in paths), default=math.inf)
            assert math.isclose(to[source], want) or to[source] == want == math.inf
            assert fastest_latency(n, iter(arcs), source, target) == to[source]


def test_source_is_target_and_the_edges_of_the_bound():
    arcs = [(0, 1, 1.0, 10.0), (1, 2, 1.0, 10.0), (0, 2, 5.0, 5.0)]
    assert cheapest_within(3, arcs, 1, 1, 0.0) == (0.0, ())
    assert cheapest_within(3, arcs, 1, 1, 0.0, budget=0.0) is None
    assert cheapest_within(3, arcs, 1, 1, 0.0, budget=0.5) == (0.0, ())
    # A bound met up to the tolerance is met; a hair beyond it is not.
    assert cheapest_within(3, arcs, 0, 2, 20.0 - LATENCY_TOLERANCE / 2) == (2.0, (0, 1))
    assert cheapest_within(3, arcs, 0, 2, 20.0 - 2 * LATENCY_TOLERANCE) == (5.0, (2,))
    assert cheapest_within(3, arcs, 0, 2, 5.0 - LATENCY_TOLERANCE) == (5.0, (2,))  # exactly at the tolerance
    assert cheapest_within(3, arcs, 0, 2, 5.0 - 2 * LATENCY_TOLERANCE) is None
    # The budget is strict: a path costing exactly the budget does not beat it.
    assert cheapest_within(3, arcs, 0, 2, 100.0, budget=2.0) is None
    assert cheapest_within(3, arcs, 0, 2, 100.0, budget=2.5) == (2.0, (0, 1))
    assert cheapest_within(3, arcs, 0, 2, 15.0, budget=5.0) is None
    # Cut off: no path at all.
    assert cheapest_within(3, arcs, 2, 0, math.inf) is None


def test_cycles_that_cost_nothing_or_take_no_time_end():
    # Pricing gives unpriced arcs cost 0: a free two-way link must not keep the search going.
    free = [(0, 1, 0.0, 1.0), (1, 0, 0.0, 1.0), (1, 2, 1.0, 1.0)]
    assert cheapest_within(3, free, 0, 2, 10.0) == (1.0, (0, 2))
    assert fastest_to(3, free, 2) == [2.0, 1.0, 0.0]
    instant = [(0, 1, 1.0, 0.0), (1, 0, 1.0, 0.0), (1, 2, 1.0, 1.0)]
    assert fastest_to(3, instant, 2) == [1.0, 1.0, 0.0]
    assert cheapest_within(3, instant, 0, 2, 1.0) == (2.0, (0, 2))
