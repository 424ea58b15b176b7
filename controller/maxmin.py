"""Max-min fair sharing by progressive filling: the simulator shares links and meters with
it, and the rule plan shares what the market left unsold among hosts' best effort.

>>> max_min({"a": 5, "b": 5, "c": 1}, {"a": ["x"], "b": ["x", "y"], "c": ["y"]}, {"x": 6, "y": 4})
{'a': 3.0, 'b': 3.0, 'c': 1.0}
"""
from __future__ import annotations

__all__ = ["EPSILON", "max_min"]

#: Below this many kbps a capacity counts as full, a want as met.
EPSILON = 1e-6


def max_min(wants: dict, uses: dict, capacity: dict) -> dict:
    """Max-min fair rates: each key of ``wants`` gets at most its want, and the keys using a
    resource (``uses[key]``, a list of keys of ``capacity``) share its capacity; the
    smallest fair share is given first (progressive filling)."""
    rate = {k: 0.0 for k in wants}
    active = {k for k, w in wants.items() if w > EPSILON}
    users: dict = {}
    for k in active:
        for r in set(uses.get(k, ())):
            users.setdefault(r, set()).add(k)
    left = {r: float(capacity[r]) for r in users}
    rounds = len(active) + len(users) + 1  # each round meets a want or fills a resource
    while active:
        rounds -= 1
        if rounds < 0:
            raise ArithmeticError("max-min sharing did not settle: a want or a capacity is not a finite number")
        step = min([(wants[k] - rate[k]) for k in active]
                   + [left[r] / len(ks) for r, ks in users.items() if ks])
        step = max(step, 0.0)
        for k in active:
            rate[k] += step
        full = set()
        for r, ks in users.items():
            if ks:
                left[r] -= step * len(ks)
                if left[r] <= EPSILON * max(1.0, capacity[r]):
                    full.add(r)
        done = {k for k in active if wants[k] - rate[k] <= EPSILON}
        for r in full:
            done |= users[r]
        active -= done
        for ks in users.values():
            ks -= done
    return rate
