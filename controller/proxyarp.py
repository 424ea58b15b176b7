"""Proxy ARP, decided in pure code: the controller answers for hosts it knows.

>>> from topologies.loader import load_scenario
>>> s = load_scenario("topologies/default.yaml")
>>> r = arp_reply_for(s, 1, "02:00:00:00:00:01", "198.18.1.1", "198.18.2.1")
>>> (r.src_ip, r.src_mac)
('198.18.2.1', '02:00:00:00:00:04')
>>> arp_reply_for(s, 1, "02:00:00:00:00:01", "198.18.1.1", "203.0.113.9") is None
True
"""
from __future__ import annotations

from typing import NamedTuple

from topologies.model import Scenario

ARP_REQUEST = 1


class ArpReply(NamedTuple):
    src_mac: str
    src_ip: str
    dst_mac: str
    dst_ip: str


def arp_reply_for(scenario: Scenario, opcode: int, sender_mac: str, sender_ip: str, target_ip: str) -> ArpReply | None:
    """The reply to an ARP request for ``target_ip``, or None if we must stay silent.

    Only requests from known hosts (address and MAC both match) for known
    hosts are answered: a spoofed sender learns nothing.
    """
    if opcode != ARP_REQUEST:
        return None
    sender = scenario.host_by_ip.get(sender_ip)
    target = scenario.host_by_ip.get(target_ip)
    if sender is None or target is None or sender.mac != sender_mac.lower():
        return None
    return ArpReply(src_mac=target.mac, src_ip=str(target.ip), dst_mac=sender.mac, dst_ip=str(sender.ip))
