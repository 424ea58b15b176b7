"""Frames built once by scapy, patched per packet: parse them back with scapy."""
import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether

from dataplane.traffic.packet import (HEADER, MAGIC, RECORD_STAMP_OFFSET, UDP_PAYLOAD_OFFSET, build_udp_frame,
                                      parse_header, stamp, tcp_record)
from dataplane.traffic.spec import FlowSpec

BASE = dict(flow_id=0xDEADBEEF, demand="d", src_host="h1", dst_host="h2", src_ip="198.18.1.1",
            dst_ip="198.19.2.2", src_mac="02:00:00:00:00:01", dst_mac="02:00:00:00:00:02",
            src_port=20001, dst_port=5001, rate_kbps=1000, stop_s=1.0, interface="h1-eth0")


def ip_checksum_ok(frame: bytes) -> bool:
    header = frame[14:34]
    total = sum(int.from_bytes(header[i:i + 2], "big") for i in range(0, 20, 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total == 0xFFFF


@pytest.mark.parametrize("size", [64, 1200, 1514])
def test_patched_frame_parses_back_with_every_field_right(size):
    f = FlowSpec(**BASE, frame_bytes=size)
    frame = build_udp_frame(f)
    stamp(frame, 2**40 + 5, 1_234_567_890_123)
    assert len(frame) == size
    pkt = Ether(bytes(frame))
    assert (pkt.src, pkt.dst) == ("02:00:00:00:00:01", "02:00:00:00:00:02")
    assert (pkt[IP].src, pkt[IP].dst, pkt[IP].len, pkt[IP].ttl) == ("198.18.1.1", "198.19.2.2", size - 14, 64)
    assert pkt[IP].flags == "DF"
    assert (pkt[UDP].sport, pkt[UDP].dport, pkt[UDP].len) == (20001, 5001, size - 34)
    assert pkt[UDP].chksum == 0
    assert ip_checksum_ok(bytes(frame))
    payload = bytes(pkt[UDP].payload)
    assert HEADER.unpack_from(payload) == (MAGIC, 0xDEADBEEF, 2**40 + 5, 1_234_567_890_123)
    assert payload[HEADER.size:] == bytes(size - 42 - HEADER.size)


def test_stamping_touches_only_sequence_and_time():
    frame = build_udp_frame(FlowSpec(**BASE))
    before = bytes(frame)
    stamp(frame, 1, 2)
    changed = [i for i in range(len(frame)) if frame[i] != before[i]]
    assert changed and min(changed) >= UDP_PAYLOAD_OFFSET + 6 and max(changed) < UDP_PAYLOAD_OFFSET + 22
    assert parse_header(frame, UDP_PAYLOAD_OFFSET) == (MAGIC, 0xDEADBEEF, 1, 2)
    assert ip_checksum_ok(bytes(frame))


def test_tcp_record_is_a_frame_s_worth_of_payload():
    f = FlowSpec(**{**BASE, "protocol": "tcp"}, frame_bytes=1000)
    record = tcp_record(f)
    assert len(record) == 1000 - 54
    stamp(record, 9, 10, RECORD_STAMP_OFFSET)
    assert parse_header(record) == (MAGIC, 0xDEADBEEF, 9, 10)


def test_builders_refuse_the_other_protocol():
    with pytest.raises(ValueError):
        tcp_record(FlowSpec(**BASE))
    with pytest.raises(ValueError):
        build_udp_frame(FlowSpec(**{**BASE, "protocol": "tcp"}))
