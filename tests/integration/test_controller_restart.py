"""Killing the controller mid-run: switches in secure fail mode keep forwarding, and a
new controller converges without reinstalling unchanged rules."""
from __future__ import annotations

import threading
import time

import pytest

from topologies.loader import load_scenario

from .conftest import running

pytestmark = pytest.mark.integration
SCENARIO = "topologies/library/failover.yaml"


@pytest.fixture(scope="module")
def running_restartable(tmp_path_factory):
    yield from running(SCENARIO, "market", tmp_path_factory.mktemp("restart"), ("--epoch", "0"))


def test_restart_keeps_traffic_and_reinstalls_nothing(running_restartable, tmp_path):
    from dataplane.controllerproc import ControllerProcess
    from dataplane.measure import LEAD_S, measure_with_generators

    net, controller, status = running_restartable
    s = load_scenario(SCENARIO)
    allocated = status["allocated_kbps"]
    results = []
    flow = threading.Thread(target=lambda: results.append(measure_with_generators(net, s, dict(allocated), 6)))
    flow.start()
    time.sleep(LEAD_S + 1.5)
    controller.stop()
    time.sleep(1)  # no controller at all for a while
    successor = ControllerProcess(SCENARIO, tmp_path / "successor.log", ofp_port=controller.ofp_port,
                                  status_port=controller.status_port, extra_args=("--epoch", "0")).start()
    try:
        after = successor.wait_ready(30)
        flow.join(timeout=60)
        (measured,) = results
        assert set(measured) == set(allocated)
        for r in measured.values():
            assert r.received_kbps is not None and r.loss_percent < 2, r
        for dpid, sw in after["switches"].items():
            assert sw["added"] == 0 and sw["removed"] == 0 and sw["unchanged"] > 0, (dpid, sw)
        assert after["allocated_kbps"] == allocated
    finally:
        successor.stop()
        controller.proc = successor.proc  # the fixture stops whatever runs now
