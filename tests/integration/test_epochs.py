"""Every epoch the market is cleared again and the switches move to the new plan
(make before break) without dropping the traffic they carry."""
from __future__ import annotations

import time

import pytest

from topologies.loader import load_scenario

from .conftest import running

pytestmark = pytest.mark.integration
SCENARIO = "topologies/library/failover.yaml"


@pytest.fixture(scope="module")
def running_fast_epochs(tmp_path_factory):
    yield from running(SCENARIO, "market", tmp_path_factory.mktemp("epochs"), ("--epoch", "1"))


def test_epochs_change_plans_without_dropping_traffic(running_fast_epochs):
    from dataplane.probes import measure_demands

    net, controller, status = running_fast_epochs
    s = load_scenario(SCENARIO)
    allocated = status["allocated_kbps"]
    start_epoch = controller.status()["epoch"]
    results = measure_demands(net, s, seconds=6, rate_of=lambda d: allocated[d.id])
    after = controller.status()
    assert after["epoch"] >= start_epoch + 4, after["epoch"]
    for r in results:
        assert r.received_kbps is not None and r.lost_percent < 2, r
    # Counters are polled: every switch has reported its ports and meters by now.
    time.sleep(1)
    stats = controller.status()["stats"]
    ingress = str(s.switch["west"].dpid)
    assert stats[ingress]["meters"] and stats[ingress]["ports"]
    assert stats[ingress]["flow_packets"]["demand"] > 0  # the demands' classification flows counted
