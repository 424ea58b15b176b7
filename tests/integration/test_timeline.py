"""A scenario's timeline played by `openisp run`: a demand leaves, a link fails and heals, a
demand arrives; the per-second rates show each change, and every second is judged
against the allocation in force then (topologies/library/timeline.yaml)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    result = subprocess.run([sys.executable, "-m", "openisp.cli", "run", "topologies/library/timeline.yaml", "--json"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def seconds(report, demand) -> list[float]:
    return next(d for d in report["demands"] if d["demand"] == demand)["received_kbps_per_s"]


def test_the_whole_timeline_is_played_and_every_promise_held(report):
    assert report["ok"] and report["problems"] == []
    assert [(e["at_s"] // 1, e["action"], e["target"], e["ok"]) for e in report["traffic"]["timeline"]] == [
        (10, "link_down", "bb", True), (16, "link_up", "bb", True)]
    changes = report["traffic"]["changes_s"]
    assert any(6 <= c < 7 for c in changes) and any(20 <= c < 21 for c in changes)  # the controller's re-plans


def test_a_leaving_demand_frees_capacity_for_the_other(report):
    video = seconds(report, "video")
    assert all(0.9 * 4000 <= x <= 1.1 * 4000 for x in video[1:6]), video
    assert all(0.9 * 6000 <= x <= 1.1 * 6000 for x in video[7:10]), video
    assert all(x == 0 for x in seconds(report, "bulk")[7:]), seconds(report, "bulk")


def test_a_link_failure_is_a_dip_and_a_recovery_in_the_seconds_of_the_demand_that_crossed_it(report):
    video = seconds(report, "video")
    assert all(0.9 * 2000 <= x <= 1.1 * 2000 for x in video[11:16]), video  # re-planned over the 2 Mbps detour
    assert all(0.9 * 6000 <= x <= 1.1 * 6000 for x in video[17:20]), video  # back on bb


def test_an_arriving_demand_starts_at_its_second(report):
    late = seconds(report, "late")
    assert all(x == 0 for x in late[:20]) and all(0.9 * 2000 <= x <= 1.1 * 2000 for x in late[21:25]), late


def test_the_simulator_predicts_each_steady_second_within_ten_percent(report):
    """`openisp simulate` plays the same timeline in simulated time: each second away from a
    change (one second either side) is within 10% of what the emulation measured."""
    result = subprocess.run([sys.executable, "-m", "openisp.cli", "simulate", "topologies/library/timeline.yaml",
                             "--json"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    predicted = json.loads(result.stdout)
    assert predicted["seconds"] == report["traffic"]["seconds"]  # the receivers' bins may hold one more
    changes = [6, 10, 16, 20]
    compared, worst = 0, 0.0
    for d in predicted["demands"]:
        emulated = seconds(report, d["demand"])
        for i, guess in enumerate(d["received_kbps_per_s"]):
            if i < 1 or i + 1 >= min(len(emulated), predicted["seconds"]) or any(abs(i - c) <= 1 for c in changes):
                continue
            assert abs(emulated[i] - guess) <= 0.1 * max(guess, 100), (d["demand"], i, emulated[i], guess)
            compared += 1
            worst = max(worst, abs(emulated[i] - guess) / max(guess, 100))
    print(f"{compared} seconds compared, at most {100 * worst:.1f}% apart")
    assert compared >= 30, compared
