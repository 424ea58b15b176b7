"""A multihomed host under real traffic (topologies/library/multihomed.yaml): the phone's
demands leave and arrive through the attachment the market chose; when that provider
raises its ask above the other's, and when the other attachment then fails, the traffic
moves within the epoch, and the device switch's port counters show it second by second."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration

#: the scenario's timeline: mobile's ask rises at 8 s, dana's attachment fails at 16 s
RAISE_S, FAIL_S = 8, 16


@pytest.fixture(scope="module")
def report():
    result = subprocess.run([sys.executable, "-m", "openisp.cli", "run", "topologies/library/multihomed.yaml",
                             "--json", "--no-prometheus"], capture_output=True, text=True, timeout=300)
    assert result.stdout, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert result.returncode == 0 and report["ok"], (report["problems"], result.stderr[-3000:])
    return report


def carried(report, link, direction, seconds) -> list[int]:
    return [report["traffic"]["attachments"]["phone"][link][f"{direction}_kbps_per_s"][i] for i in seconds]


@pytest.mark.parametrize("direction, kbps", [("up", 2000), ("down", 4000)])  # upload 2 Mbps, video 4 Mbps
def test_the_traffic_takes_the_attachment_the_market_chose_and_moves_with_it(report, direction, kbps):
    before, dearer, failed = range(1, RAISE_S), range(RAISE_S + 1, FAIL_S), range(FAIL_S + 1, 21)
    for link, seconds in (("ph-cell", before), ("ph-home", dearer), ("ph-cell", failed)):
        other = "ph-home" if link == "ph-cell" else "ph-cell"
        assert all(0.9 * kbps <= x <= 1.1 * kbps for x in carried(report, link, direction, seconds)), \
            (link, carried(report, link, direction, seconds))
        assert all(x < 100 for x in carried(report, other, direction, seconds)), \
            (other, carried(report, other, direction, seconds))


def test_each_move_happened_within_the_epoch_and_was_a_re_plan_of_the_controller(report):
    changes = report["traffic"]["changes_s"]
    assert any(RAISE_S <= c < RAISE_S + 1 for c in changes), changes  # the offer change: cleared at once
    assert any(FAIL_S <= c < FAIL_S + 1 for c in changes), changes    # the failure: re-planned at once
    assert [(e["action"], e["target"], e["ok"]) for e in report["traffic"]["timeline"]] == [
        ("link_down", "ph-home", True)]


def test_both_demands_receive_their_allocation_throughout(report):
    changes = report["traffic"]["changes_s"]
    steady = [i for i in range(1, 21) if not any(i - 1 <= c < i + 1 for c in changes)]  # spare a re-plan's second
    assert len(steady) >= 14, changes
    for d in report["demands"]:
        per_s = [d["received_kbps_per_s"][i] for i in steady]
        assert all(0.9 * d["allocated_kbps"] <= x <= 1.1 * d["allocated_kbps"] for x in per_s), (d["demand"], per_s)
