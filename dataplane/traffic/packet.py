"""The bytes on the wire: a 22-byte header in every packet, frames built by scapy.

Every UDP datagram and every TCP record starts with the same header, in
network byte order::

    offset  size  field
    0       2     magic 0x4f49 ("OI")
    2       4     flow id
    6       8     sequence number, 0, 1, 2, ... per flow
    14      8     send time, CLOCK_MONOTONIC nanoseconds

A UDP flow's frame is built once with scapy (Ether/IP/UDP/payload, UDP
checksum 0: no checksum, legal in IPv4, so patching the payload leaves every
checksum valid) and then only the sequence number and the send time are
patched in place before each send.  scapy is imported only to build frames:
receivers and TCP-only generators never load it.

Example
-------
>>> from dataplane.traffic.spec import FlowSpec
>>> f = FlowSpec(flow_id=7, demand="d", src_host="h1", dst_host="h2", src_ip="198.18.0.1",
...              dst_ip="198.18.0.2", src_mac="00:00:00:00:00:01", dst_mac="00:00:00:00:00:02",
...              src_port=20000, dst_port=5001, rate_kbps=1000, stop_s=1.0, interface="h1-eth0")
>>> frame = build_udp_frame(f)
>>> len(frame)
1200
>>> stamp(frame, 41, 123456789)
>>> parse_header(frame, UDP_PAYLOAD_OFFSET)
(20297, 7, 41, 123456789)
"""
from __future__ import annotations

import struct

from .spec import UDP_OVERHEAD, FlowSpec

__all__ = ["MAGIC", "HEADER", "SEQ_TIME", "UDP_PAYLOAD_OFFSET", "UDP_STAMP_OFFSET", "RECORD_STAMP_OFFSET",
           "build_udp_frame", "tcp_record", "stamp", "parse_header"]

MAGIC = 0x4F49
HEADER = struct.Struct("!HIQQ")
#: The two fields patched per packet: sequence number and send time.
SEQ_TIME = struct.Struct("!QQ")
UDP_PAYLOAD_OFFSET = UDP_OVERHEAD
#: Where the sequence number starts in a UDP frame and in a TCP record.
UDP_STAMP_OFFSET = UDP_PAYLOAD_OFFSET + 6
RECORD_STAMP_OFFSET = 6

assert HEADER.size == 22 and UDP_OVERHEAD + HEADER.size == 64


def _payload(flow: FlowSpec, size: int) -> bytes:
    return HEADER.pack(MAGIC, flow.flow_id, 0, 0) + bytes(size - HEADER.size)


def build_udp_frame(flow: FlowSpec) -> bytearray:
    """The flow's whole Ethernet frame (``flow.frame_bytes`` long), sequence 0, time 0.

    IPv4 with DF set and TTL 64; the IPv4 checksum is computed by scapy, the
    UDP checksum is 0 (none).
    """
    if flow.protocol != "udp":
        raise ValueError(f"flow {flow.flow_id} is {flow.protocol}, not udp")
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether
    from scapy.packet import Raw

    pkt = (Ether(src=flow.src_mac, dst=flow.dst_mac)
           / IP(src=flow.src_ip, dst=flow.dst_ip, ttl=64, flags="DF", id=flow.flow_id & 0xFFFF)
           / UDP(sport=flow.src_port, dport=flow.dst_port, chksum=0)
           / Raw(_payload(flow, flow.frame_bytes - UDP_OVERHEAD)))
    frame = bytearray(bytes(pkt))
    assert len(frame) == flow.frame_bytes, (len(frame), flow.frame_bytes)
    return frame


def tcp_record(flow: FlowSpec) -> bytearray:
    """One TCP record of the flow: the header, then zeros up to ``flow.payload_bytes``."""
    if flow.protocol != "tcp":
        raise ValueError(f"flow {flow.flow_id} is {flow.protocol}, not tcp")
    return bytearray(_payload(flow, flow.payload_bytes))


def stamp(buf: bytearray, seq: int, sent_ns: int, offset: int = UDP_STAMP_OFFSET) -> None:
    """Patch the sequence number and the send time in place (the per-packet work)."""
    SEQ_TIME.pack_into(buf, offset, seq, sent_ns)


def parse_header(buf, offset: int = 0) -> tuple[int, int, int, int]:
    """``(magic, flow_id, seq, sent_ns)`` read from ``buf`` at ``offset``."""
    return HEADER.unpack_from(buf, offset)
