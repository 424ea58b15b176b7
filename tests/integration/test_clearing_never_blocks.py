"""Clearing never blocks the controller: while the 1,000-demand library market is cleared
again (VCG: about ten seconds on an idle machine, longer than the 2 s epoch), a
switch's echo requests and ARP requests (answered by the controller's core, under the
lock every event and every plan takes) are answered within 100 ms.
The switch is a minimal OpenFlow speaker (tests/integration/fakeswitch.py): no OVS needed."""
from __future__ import annotations

import time

import pytest

from topologies.loader import load_scenario

from .fakeswitch import FakeSwitch

pytestmark = pytest.mark.integration

SCENARIO = "topologies/library/large.yaml"
BOUND_S = 0.1


def test_echo_replies_are_never_delayed_by_a_clearing(tmp_path):
    from dataplane.controllerproc import ControllerProcess

    scenario = load_scenario(SCENARIO)
    dpid = scenario.switches[0].dpid
    sender, target = scenario.hosts[0], scenario.hosts[1]
    controller = ControllerProcess(SCENARIO, tmp_path / "controller.log", extra_args=(
        "--epoch", "2", "--stats", "1", "--mechanism", "vcg")).start()
    switch = None
    try:
        deadline = time.monotonic() + 120  # the first clearing happens in the controller at start
        while controller.status() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        switch = FakeSwitch(dpid, controller.ofp_port, arp=(sender.mac, str(sender.ip), str(target.ip))).start()
        while not (controller.status() or {}).get("acknowledged") and time.monotonic() < deadline:
            time.sleep(0.2)
        start_epoch = controller.status()["epoch"]
        measured_from, arp_from = len(switch.rtts), len(switch.arp_rtts)
        end = time.monotonic() + 120
        while time.monotonic() < end and controller.status()["epoch"] < start_epoch + 1:
            time.sleep(0.5)
        status = controller.status()
        time.sleep(BOUND_S)
        rtts, arps, late = switch.rtts[measured_from:], switch.arp_rtts[arp_from:], switch.unanswered(BOUND_S)
    finally:
        if switch is not None:
            switch.close()
        controller.stop()
    assert status["epoch"] >= start_epoch + 1, status["epoch"]  # a whole clearing ran meanwhile
    assert any("longer than the epoch" in n for n in status["notes"]), status["notes"]
    assert len(rtts) > 200 and len(arps) > 200 and late == 0
    print(f"during clearings: {len(rtts)} echo round trips, max {max(rtts) * 1000:.1f} ms; {len(arps)} ARP "
          f"answers, max {max(arps) * 1000:.1f} ms; epochs {start_epoch} -> {status['epoch']}")
    assert max(rtts) < BOUND_S, sorted(rtts)[-5:]
    assert max(arps) < BOUND_S, sorted(arps)[-5:]
