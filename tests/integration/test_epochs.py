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
    from dataplane.measure import LEAD_S, measure_with_generators

    net, controller, status = running_fast_epochs
    s = load_scenario(SCENARIO)
    allocated = status["allocated_kbps"]
    start_epoch = controller.status()["epoch"]
    results = measure_with_generators(net, s, dict(allocated), 6)
    after = controller.status()
    assert after["epoch"] >= start_epoch + 4 + int(LEAD_S), after["epoch"]
    assert set(results) == set(allocated)
    for r in results.values():
        assert r.received_kbps is not None and r.loss_percent < 2, r
    # Counters are polled and reported by name: every demand's path meters (those of the
    # current epoch: each epoch has new meters), its classification flows (kept across
    # epochs, since flows are replaced in place), every link's ports.
    time.sleep(1)
    counters = controller.status()["counters"]
    for d in s.demands:
        paths = len(controller.status()["path_kbps"][d.id])
        assert {f"path {j} meter" for j in range(paths)} <= set(counters["demands"][d.id]), counters["demands"][d.id]
        assert counters["demands"][d.id]["classified"]["packets"] > 0
    assert set(counters["links"]) == {link.id for link in s.links}
    assert counters["flow_kinds"]["west"]["packets"]["demand"] > 0
