"""Flow specs and host plans: JSON round trips, every bound enforced, demand splitting."""
import dataclasses

import pytest

from dataplane.traffic.spec import MAX_RATE_KBPS, FlowSpec, HostPlan, TrafficError, split_demand

BASE = dict(flow_id=1, demand="ana-dev", src_host="h1", dst_host="h4", src_ip="198.18.1.1", dst_ip="198.18.2.1",
            src_mac="00:00:00:00:00:01", dst_mac="00:00:00:00:00:04", src_port=20000, dst_port=5001,
            rate_kbps=16000, stop_s=3.0, interface="h1-eth0")


def flow(**kw) -> FlowSpec:
    return FlowSpec(**{**BASE, **kw})


@pytest.mark.parametrize("kw", [{}, {"protocol": "tcp", "frame_bytes": 1514}, {"pattern": "poisson", "seed": 7},
                                {"pattern": "onoff", "on_s": 0.5, "off_s": 1.5, "start_s": 1.0}])
def test_flow_round_trips_through_json_shape(kw):
    f = flow(**kw)
    assert FlowSpec.from_dict(f.to_dict()) == f


def test_plan_round_trips_through_json():
    plan = HostPlan("h1", 10**9, 5 * 10**9, 3.0, (flow(), flow(flow_id=2, src_port=20001)), "/tmp/x.ready")
    assert HostPlan.from_json(plan.to_json()) == plan


def test_macs_are_stored_lowercase():
    assert flow(src_mac="AA:BB:CC:DD:EE:FF").src_mac == "aa:bb:cc:dd:ee:ff"


@pytest.mark.parametrize("kw, words", [
    ({"rate_kbps": 0}, "rate_kbps 0 out of range"),
    ({"rate_kbps": MAX_RATE_KBPS + 1}, "rate_kbps 1000001 out of range"),
    ({"rate_kbps": 1.5}, "rate_kbps 1.5"),
    ({"stop_s": 600.5}, "beyond the 600 s bound"),
    ({"start_s": 2.0, "stop_s": 2.0}, "not after start_s"),
    ({"start_s": -1.0}, "negative"),
    ({"frame_bytes": 63}, "frame_bytes 63 out of range 64..1514"),
    ({"frame_bytes": 1515}, "frame_bytes 1515"),
    ({"protocol": "tcp", "frame_bytes": 64}, "too small for a TCP record"),
    ({"protocol": "sctp"}, "protocol 'sctp'"),
    ({"pattern": "burst"}, "pattern 'burst'"),
    ({"pattern": "onoff"}, "onoff needs on_s > 0"),
    ({"on_s": 1.0}, "onoff pattern only"),
    ({"src_ip": "10.0.0.1"}, "outside the emulation range"),
    ({"dst_ip": "198.18.300.1"}, "not an IPv4 address"),
    ({"src_mac": "00:00:00:00:01"}, "not a MAC address"),
    ({"src_port": 0}, "src_port 0"),
    ({"dst_port": 65536}, "dst_port 65536"),
    ({"flow_id": 2**32}, "flow_id"),
    ({"interface": "a-very-long-interface"}, "longer than 15"),
    ({"demand": ""}, "demand must be"),
    ({"stop_s": "3"}, "stop_s '3' is not a number"),
])
def test_out_of_bound_specs_are_refused_with_the_reason(kw, words):
    with pytest.raises(TrafficError, match=r"^flow \d+: ") as err:
        flow(**kw)
    assert words in str(err.value)


def test_from_dict_refuses_unknown_and_missing_keys():
    with pytest.raises(TrafficError, match="unknown key.*colour"):
        FlowSpec.from_dict({**flow().to_dict(), "colour": "red"})
    data = flow().to_dict()
    del data["rate_kbps"]
    with pytest.raises(TrafficError, match="rate_kbps"):
        FlowSpec.from_dict(data)


def test_plan_checks_its_flows_and_clock():
    with pytest.raises(TrafficError, match="repeat"):
        HostPlan("h1", 0, 10**10, 3.0, (flow(), flow()))
    with pytest.raises(TrafficError, match="stop after"):
        HostPlan("h1", 0, 10**10, 2.0, (flow(),))
    with pytest.raises(TrafficError, match="deadline"):
        HostPlan("h1", 10, 10, 3.0, (flow(),))
    with pytest.raises(TrafficError, match="seconds"):
        HostPlan("h1", 0, 10**10, 601.0, (flow(),))
    with pytest.raises(TrafficError, match="at least one flow"):
        HostPlan("h1", 0, 10**10, 3.0, ())
    with pytest.raises(TrafficError, match="not JSON"):
        HostPlan.from_json("{")


def test_split_demand_uses_consecutive_source_ports_and_shares_the_rate():
    flows = split_demand(flow(rate_kbps=16003, flow_id=100), 16)
    assert [f.src_port for f in flows] == list(range(20000, 20016))
    assert [f.flow_id for f in flows] == list(range(100, 116))
    assert sum(f.rate_kbps for f in flows) == 16003
    assert {f.rate_kbps for f in flows} == {1000, 1001}
    assert all(dataclasses.replace(f, flow_id=1, src_port=20000, rate_kbps=16000) == flow() for f in flows)


def test_split_demand_bounds():
    assert len(split_demand(flow(rate_kbps=5), 16)) == 5  # never a flow below 1 kbps
    with pytest.raises(TrafficError, match="overflow"):
        split_demand(flow(src_port=65530), 16)
    with pytest.raises(TrafficError, match="at least 1"):
        split_demand(flow(), 0)
