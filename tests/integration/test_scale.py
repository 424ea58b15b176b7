"""Issue 18's world comes up in under a minute: 100 switches, 200 hosts and 390 shaped
links built, every switch connected and holding its plan, and a sample of host pairs that
covers every host and every pair of switches with hosts answering (bench/emulation.py's
bring-up, timed phase by phase)."""
from __future__ import annotations

import pytest

from bench.emulation import bring_up, world_file
from dataplane.teardown import leftovers
from topologies.loader import load_scenario

pytestmark = pytest.mark.integration

#: the goal is 60 s (bench/emulation.py measured 32 s on this machine, 2026-11-27); a
#: test sharing a loaded CI machine gets twice that
LIMIT_S = 120


def test_the_100_switch_world_is_up_and_checked_within_the_limit_and_leaves_nothing(tmp_path):
    path = world_file(100, tmp_path)
    seconds, facts = bring_up(path, tmp_path)
    up = sum(seconds[p] for p in ("controller", "build", "rules", "reachability"))
    print(f"bring-up {up:.1f} s: " + ", ".join(f"{p} {s:.1f} s" for p, s in seconds.items()))
    assert (facts["switches"], facts["hosts"], facts["links"]) == (100, 200, 390)
    assert facts["rules"] > 20_000
    reached, pairs = map(int, facts["pairs"].split("/"))
    assert reached == pairs >= 6_000
    assert up < LIMIT_S, seconds
    assert leftovers(load_scenario(str(path))) == []
