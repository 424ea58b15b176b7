"""The world that once broke the promise: a demand split over three paths through full
links, beside a demand held at its floor (topologies/library/split.yaml).  Each path is
metered at its own rate at the ingress, so however the traffic falls on the paths, no
link gets more from a demand than the market allocated there."""
from __future__ import annotations

import pytest

from .conftest import running

pytestmark = pytest.mark.integration
SCENARIO = "topologies/library/split.yaml"


@pytest.fixture(scope="module")
def running_split(tmp_path_factory):
    yield from running(SCENARIO, "market", tmp_path_factory.mktemp("split"), ("--stats", "1"))


@pytest.fixture(scope="module")
def split(running_split):
    from topologies.loader import load_scenario

    net, controller, status = running_split
    assert [len(p) for p in status["path_kbps"].values()] == [3, 1, 2]  # the market did split video and upload
    return net, load_scenario(SCENARIO), status, controller


def test_every_demand_gets_its_allocation_and_every_floor_holds(split):
    from dataplane.measure import measure_with_generators

    net, s, status, _ = split
    allocated = status["allocated_kbps"]
    slices = status["source_port_slices"]
    got = measure_with_generators(net, s, {d: 2 * k for d, k in allocated.items()}, 3, flows_for=lambda d: slices)
    assert set(got) == set(allocated)
    for demand, r in got.items():
        assert not r.error and r.received_kbps is not None, (demand, r)
        assert 0.95 <= r.received_kbps / allocated[demand] <= 1.05, (demand, r.received_kbps, allocated[demand])
        assert r.received_kbps >= 0.95 * s.demand[demand].floor_kbps, (demand, r)


def test_one_flow_of_the_split_demand_costs_only_that_demand(split):
    """One flow takes one path and its meter; the demands sharing the links keep their shares."""
    from dataplane.measure import measure_with_generators

    net, s, status, _ = split
    allocated = status["allocated_kbps"]
    got = measure_with_generators(net, s, {d: 2 * k for d, k in allocated.items()}, 3,
                                  flows_for=lambda d: 1 if d == "video" else status["source_port_slices"])
    for demand in ("call", "upload"):
        assert 0.95 <= got[demand].received_kbps / allocated[demand] <= 1.05, (demand, got[demand])
    # The single flow gets at most the share of the path it was hashed to, never more.
    assert got["video"].received_kbps <= 1.05 * max(status["path_kbps"]["video"]), got["video"]
    assert got["video"].received_kbps < 0.9 * allocated["video"]


def meter_drops(controller, demand: str) -> int:
    counters = controller.status()["counters"]["demands"].get(demand, {})
    return sum(v["dropped_packets"] for k, v in counters.items() if k.endswith(" meter"))


def test_the_receivers_loss_agrees_with_the_meters_drops(split):
    """What the receivers count as lost is what the ingress meters dropped: nothing else on
    the way loses packets (within 2% of what was sent, or 5 packets: a demand sends about
    190 here, and a CI run once saw 4 lost elsewhere, where 2% allowed 3.76)."""
    import time

    from dataplane.measure import measure_with_generators

    net, s, status, controller = split
    allocated = status["allocated_kbps"]
    time.sleep(1.5)  # a poll after any earlier traffic
    before = {d: meter_drops(controller, d) for d in allocated}
    got = measure_with_generators(net, s, {d: 2 * k for d, k in allocated.items()}, 3,
                                  flows_for=lambda d: status["source_port_slices"])
    time.sleep(1.5)  # and one after this traffic
    for demand, r in got.items():
        drops = meter_drops(controller, demand) - before[demand]
        assert r.packets_sent and r.packets_lost is not None, r
        assert abs(drops - r.packets_lost) <= max(0.02 * r.packets_sent, 5), (demand, drops, r.packets_lost, r.packets_sent)
        assert r.packets_lost > 0.4 * r.packets_sent  # twice the allocation offered: about half dropped
