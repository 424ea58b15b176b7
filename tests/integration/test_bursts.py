"""On/off traffic in a library world, played by `openisp run`: the idle seconds of the
bursting demand are empty in the 1 s bins, its busy ones carry its allocation, and the
demand beside it holds its own allocation throughout (topologies/library/bursts.yaml)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration

ALLOCATED = {"burst": 3000, "steady": 4000}  # kbps, as `openisp auction` clears the world
PERIOD_S, ON_S, STOP_S = 4, 2, 12


@pytest.fixture(scope="module")
def report():
    result = subprocess.run([sys.executable, "-m", "openisp.cli", "run", "topologies/library/bursts.yaml", "--json"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def seconds(report, demand) -> list[float]:
    return next(d for d in report["demands"] if d["demand"] == demand)["received_kbps_per_s"]


def test_the_run_judges_every_promise_held(report):
    assert report["ok"] and report["problems"] == []
    assert {d["demand"]: d["allocated_kbps"] for d in report["demands"]} == ALLOCATED


def test_the_idle_seconds_of_a_burst_are_empty_and_its_busy_ones_full(report):
    burst = seconds(report, "burst")
    assert len(burst) >= STOP_S, burst
    for start in range(0, STOP_S, PERIOD_S):
        busy, idle = burst[start:start + ON_S], burst[start + ON_S:start + PERIOD_S]
        # the bins start with the traffic, the bursts a few milliseconds later: the last
        # second of each burst and of each pause is whole
        assert 0.95 * ALLOCATED["burst"] <= busy[-1] <= 1.05 * ALLOCATED["burst"], burst
        assert idle[-1] == 0, burst
        assert max(idle) < 0.1 * ALLOCATED["burst"], burst  # at most a burst's tail spills over


def test_the_constant_demand_beside_it_is_not_moved_by_the_bursts(report):
    steady = seconds(report, "steady")
    assert all(0.95 * ALLOCATED["steady"] <= x <= 1.05 * ALLOCATED["steady"] for x in steady[1:STOP_S - 1]), steady
