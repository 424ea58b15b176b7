"""Joining generator and receiver reports; per-demand sums by hand."""
import dataclasses

import pytest

from dataplane.traffic.accounting import FlowAccount
from dataplane.traffic.results import collect
from dataplane.traffic.spec import FlowSpec

MS = 1_000_000
F1 = FlowSpec(flow_id=1, demand="d", src_host="a", dst_host="b", src_ip="198.18.0.1", dst_ip="198.18.0.2",
              src_mac="00:00:00:00:00:01", dst_mac="00:00:00:00:00:02", src_port=20000, dst_port=5001,
              rate_kbps=1000, stop_s=2.0, interface="a-eth0")
F2 = dataclasses.replace(F1, flow_id=2, src_port=20001)
F3 = dataclasses.replace(F1, flow_id=3, demand="e", src_port=20002)


def sent_row(f, packets, error=""):
    return {"flow_id": f.flow_id, "packets": packets, "bytes": packets * f.frame_bytes, "send_errors": 0,
            "skipped": 0, "first_s": 0.0, "last_s": 1.99, "error": error}


def received_row(f, seqs, delay_ms):
    a = FlowAccount(0, 3, 10**6)
    for seq, d in zip(seqs, delay_ms):
        a.add(f.frame_bytes, seq, seq * MS, seq * MS + int(d * MS))
    return {"flow_id": f.flow_id, **a.summary()}


def report(rows, error=""):
    return {"flows": rows, "error": error}


def test_demand_sums_its_flows():
    gens = {"a": report([sent_row(F1, 100), sent_row(F2, 100), sent_row(F3, 10)])}
    recv = {"b": report([received_row(F1, range(90), [1.0] * 90),
                         received_row(F2, range(100), [3.0] * 99 + [50.0]),
                         received_row(F3, range(10), [1.0] * 10)])}
    result = collect([F1, F2, F3], gens, recv)
    d = result.demand("d")
    assert (d.flows, d.offered_kbps) == (2, 2000)
    assert d.sent_kbps == pytest.approx(200 * 1200 * 8 / 1000 / 2.0)
    assert d.received_kbps == pytest.approx(190 * 1200 * 8 / 1000 / 2.0)
    assert d.loss_percent == pytest.approx(100 * 10 / 200)
    assert d.delay_mean_ms == pytest.approx((90 * 1.0 + 99 * 3.0 + 50.0) / 190)
    assert d.delay_p99_ms == pytest.approx(3.0, rel=0.01)  # rank 189 of 190: still 3 ms
    assert d.jitter_ms == pytest.approx(result.flow(2).received.jitter_ms * 100 / 190)
    assert d.received_kbps_per_s[0] == pytest.approx(190 * 1200 * 8 / 1000)
    assert result.flow(1).loss_percent == pytest.approx(10.0) and result.flow(1).lost_packets == 10
    assert result.demand("e").loss_percent == 0.0


def test_loss_includes_frames_lost_after_the_last_arrival_and_ignores_duplicates():
    rows = [received_row(F1, [0, 2, 2, 2], [1, 1, 1, 1])]
    m = collect([F1], {"a": report([sent_row(F1, 100)])}, {"b": report(rows)}).flow(1)
    assert (m.received.packets, m.received.lost, m.received.duplicates) == (4, 1, 2)
    assert m.lost_packets == 98 and m.loss_percent == 98.0


def test_failures_become_error_strings_not_exceptions():
    gens = {"a": report([sent_row(F1, 100, error="send: Network is down"), sent_row(F2, 5)])}
    recv = {"b": "not ready after 10 s"}
    result = collect([F1, F2, F3], gens, recv)
    assert result.flow(1).error == "receiver b: not ready after 10 s; generator a: send: Network is down"
    assert result.flow(1).sent.packets == 100 and result.flow(1).received is None
    assert result.flow(3).error == "receiver b: not ready after 10 s; generator a: flow missing from its report"
    d = result.demand("d")
    assert d.received_kbps is None and d.loss_percent is None and d.error.startswith("2 of 2 flows failed")


def test_a_report_with_an_error_spoils_all_its_rows():
    gens = {"a": report([sent_row(F1, 100)], error="KeyError: 'x'")}
    recv = {"b": report([received_row(F1, range(100), [1] * 100)])}
    m = collect([F1], gens, recv).flow(1)
    assert m.error == "generator a: KeyError: 'x'" and m.sent is None and m.received.distinct == 100
