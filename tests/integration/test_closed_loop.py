"""The closed loop, shown from Prometheus: two demands share a full link; one goes quiet
mid-run; within two epochs the other's allocation and measured rate rise to take the freed
capacity (topologies/library/closedloop.yaml: epochs of 3 s, bulk quiet from 8 s)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration

EPOCH_S, QUIET_AT = 3, 8
COUNTER_LAG_S = 3
STEP_S = 1  # the series are read at whole seconds: a change shows at the next one
BYTES = 1000 / 8  # bytes per second in one kbps


@pytest.fixture(scope="module")
def run():
    from dataplane.controllerproc import free_port
    from dataplane.prometheus import PrometheusServer

    result = subprocess.run([sys.executable, "-m", "openisp.cli", "run", "topologies/library/closedloop.yaml",
                             "--json"], capture_output=True, text=True, timeout=300)
    report = json.loads(result.stdout)
    prometheus = PrometheusServer(report["prometheus"]["data"], free_port(), run="closedloop").start()
    try:
        yield report, result, prometheus
    finally:
        prometheus.stop()


def series(prometheus, expr, start, seconds=26):
    (found,) = prometheus.query_range(expr, start, start + seconds, 1)
    return [(t - start, float(v)) for t, v in found["values"]]


def test_the_run_keeps_every_promise_as_allocations_move(run):
    report, result, _ = run
    assert result.returncode == 0 and report["ok"], result.stderr[-3000:]


def quiet_at(report) -> float:
    """When bulk's generator really stopped (a busy machine starts, so stops, generators late)."""
    (bulk,) = [d for d in report["demands"] if d["demand"] == "bulk"]
    assert QUIET_AT - 0.5 <= bulk["sending_until_s"] <= QUIET_AT + 3, bulk
    return bulk["sending_until_s"]


def test_the_quiet_demand_bids_its_floor_and_the_other_gets_the_link_within_two_epochs(run):
    report, _, prometheus = run
    start, quiet = report["traffic"]["start_unix"], quiet_at(report)
    video = series(prometheus, 'openisp_demand_allocated_bytes_per_second{demand="video"}', start)
    assert all(v == 2000 * BYTES for t, v in video if t < quiet), video
    risen = [t for t, v in video if v == 5800 * BYTES]
    # Two epochs after the counters show it: the switches update them every half second,
    # the controller polls them every second, Prometheus scrapes every second.
    assert risen and quiet < risen[0] <= quiet + 2 * EPOCH_S + COUNTER_LAG_S + STEP_S, video
    bulk_bid = series(prometheus, 'openisp_demand_bid_bytes_per_second{demand="bulk"}', start)
    assert bulk_bid[-1][1] == 200 * BYTES, bulk_bid  # its floor


def test_the_measured_rate_follows_the_allocation(run):
    report, _, prometheus = run
    start = report["traffic"]["start_unix"]
    (video,) = [d for d in report["demands"] if d["demand"] == "video"]
    sending = video["sending_from_s"]  # a busy machine starts the generators a little late
    received = series(prometheus, 'rate(openisp_demand_received_bytes_total{demand="video"}[2s])', start)
    quiet = quiet_at(report)
    before = [v for t, v in received if sending + 3 <= t <= quiet - 1]
    after = [v for t, v in received if quiet + 2 * EPOCH_S + COUNTER_LAG_S + 1 <= t <= video["sending_until_s"] - 1]
    assert before and all(0.85 * 2000 * BYTES <= v <= 1.15 * 2000 * BYTES for v in before), received
    assert after and all(0.85 * 5800 * BYTES <= v <= 1.15 * 5800 * BYTES for v in after), received
