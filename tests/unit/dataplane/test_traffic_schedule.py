"""Send times per pattern: counts, spacing, mean rates, silence while off."""
import random

import pytest

from dataplane.traffic.schedule import NS, expected_packets, packet_bound, send_offsets_ns
from dataplane.traffic.spec import FlowSpec

BASE = dict(flow_id=3, demand="d", src_host="h1", dst_host="h2", src_ip="198.18.0.1", dst_ip="198.18.0.2",
            src_mac="00:00:00:00:00:01", dst_mac="00:00:00:00:00:02", src_port=20000, dst_port=5001,
            interface="h1-eth0")


def flow(**kw) -> FlowSpec:
    return FlowSpec(**{**BASE, "rate_kbps": 9600, "stop_s": 2.0, **kw})


def test_constant_sends_n_frames_in_t_at_the_right_spacing():
    f = flow(rate_kbps=9600, frame_bytes=1200, start_s=0.5, stop_s=2.5)  # 1000 frames/s for 2 s
    times = list(send_offsets_ns(f))
    assert len(times) == 2000 == expected_packets(f)
    assert times[0] == 0.5 * NS and times[-1] < 2.5 * NS
    assert {b - a for a, b in zip(times, times[1:])} == {1_000_000}


def test_constant_spacing_does_not_drift_over_a_long_flow():
    f = flow(rate_kbps=7001, frame_bytes=1514, stop_s=600.0)  # an awkward gap, 10 minutes
    times = list(send_offsets_ns(f))
    assert len(times) == expected_packets(f)
    k = len(times) - 1
    assert abs(times[-1] - k * f.gap_ns) <= 1


def test_rate_counts_whole_frames():
    f = flow(rate_kbps=1000, frame_bytes=64, stop_s=1.0)  # 1 Mbit/s of 64-byte frames: 1953.125 frames/s
    assert len(list(send_offsets_ns(f))) == 1954


def test_poisson_keeps_the_mean_rate_with_a_seeded_rng():
    f = flow(pattern="poisson", rate_kbps=96_000, stop_s=10.0)  # 10,000 frames/s mean
    times = list(send_offsets_ns(f, random.Random(42)))
    assert abs(len(times) - 100_000) < 100_000 * 0.02
    assert times == sorted(times) and times[0] >= 0 and times[-1] < 10 * NS
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert len(set(gaps)) > len(gaps) // 2  # not a constant pattern in disguise
    # exponential: about 1/e of gaps exceed the mean
    assert abs(sum(g > f.gap_ns for g in gaps) / len(gaps) - 0.3679) < 0.01


def test_poisson_is_reproducible_from_its_seed():
    f = flow(pattern="poisson", seed=5)
    assert list(send_offsets_ns(f)) == list(send_offsets_ns(f))
    assert list(send_offsets_ns(f)) != list(send_offsets_ns(flow(pattern="poisson", seed=6)))


def test_onoff_is_silent_while_off_and_at_rate_while_on():
    f = flow(pattern="onoff", on_s=0.5, off_s=1.0, start_s=0.25, stop_s=4.0, rate_kbps=9600)
    times = list(send_offsets_ns(f))
    on = [(0.25, 0.75), (1.75, 2.25), (3.25, 3.75)]
    for a, b in on:
        inside = [t for t in times if a * NS <= t < b * NS]
        assert len(inside) == 500  # 1000 frames/s for 0.5 s
    assert len(times) == 1500 == expected_packets(f)


def test_onoff_stopping_inside_an_on_period():
    f = flow(pattern="onoff", on_s=1.0, off_s=1.0, stop_s=2.5, rate_kbps=9600)
    times = list(send_offsets_ns(f))
    assert len(times) == 1500 == expected_packets(f)
    assert not [t for t in times if 1 * NS <= t < 2 * NS]


@pytest.mark.parametrize("pattern, extra", [("constant", {}), ("poisson", {}), ("onoff", {"on_s": 0.3, "off_s": 0.2})])
def test_no_frame_reaches_the_receivers_bound(pattern, extra):
    f = flow(pattern=pattern, rate_kbps=50_000, **extra)
    assert len(list(send_offsets_ns(f))) < packet_bound(f)


def test_phase_delays_the_first_frame_by_a_fraction_of_a_gap():
    f = flow(rate_kbps=9600, stop_s=1.0)  # 1 ms gap
    times = list(send_offsets_ns(f, phase=0.25))
    assert times[:2] == [250_000, 1_250_000] and len(times) == 1000
    onoff = flow(pattern="onoff", on_s=0.5, off_s=0.5, rate_kbps=9600, stop_s=2.0)
    t = list(send_offsets_ns(onoff, phase=0.5))
    assert t[0] == 500_000 and not [x for x in t if 0.5 * NS <= x < 1.0 * NS] and len(t) == 1000
    with pytest.raises(ValueError):
        send_offsets_ns(f, phase=1.0)
