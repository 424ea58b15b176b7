"""OXM fields for the fake switch: matching, overlap and header rewriting, in pure Python.

A packet is a dict of OXM field values as os-ken spells them (``in_port``,
``eth_src``, ``eth_type``, ``ipv4_dst``, ``udp_src``, ``mpls_label``, ...):
MACs and IPv4 addresses as strings, the rest as ints. A match is a dict from
field to ``(value, mask)`` ints, the value already masked. Keys starting with
``_`` are the fake switch's own (the headers an MPLS or VLAN push hides).

>>> m = {"eth_type": (0x0800, 0xFFFF), "ip_proto": (17, 0xFF), "udp_src": (1, 3)}
>>> matches(m, packet_ints({"eth_type": 0x0800, "ip_proto": 17, "udp_src": 5001}))
True
>>> overlap(m, {**m, "udp_src": (2, 3)}), overlap(m, {**m, "ipv4_dst": (1, 0xFFFFFFFF)})
(False, True)
"""
from __future__ import annotations

import ipaddress
from typing import NamedTuple

from .errors import ControllerError

__all__ = ["ETH_MPLS_TYPES", "FIELDS", "FakeTableError", "covers", "field_int", "match_str", "matches", "overlap",
           "packet_ints", "parse_match", "pop_mpls", "pop_vlan", "push_mpls", "push_vlan", "same_value", "set_field"]

ETH_IP, ETH_ARP, ETH_IPV6 = 0x0800, 0x0806, 0x86DD
ETH_MPLS_TYPES = (0x8847, 0x8848)
VLAN_PRESENT = 0x1000
#: What an MPLS push or pop leaves known about a packet: the Ethernet header.
L2_FIELDS = frozenset({"in_port", "eth_dst", "eth_src", "vlan_vid"})

Match = dict[str, tuple[int, int]]


class FakeTableError(ControllerError):
    """The fake switch cannot model a message or packet, or a switch would refuse it."""


class Field(NamedTuple):
    bits: int
    kind: str  # int, mac or ipv4
    maskable: bool  # as Open vSwitch accepts it (OpenFlow 1.3 itself does not mask TCP/UDP ports)
    prereq: tuple | None = None  # (field, allowed values) that must be matched exactly

    @property
    def full(self) -> int:
        return (1 << self.bits) - 1


_IP = ("eth_type", (ETH_IP, ETH_IPV6))
_IPV4 = ("eth_type", (ETH_IP,))
_ARP = ("eth_type", (ETH_ARP,))
_MPLS = ("eth_type", ETH_MPLS_TYPES)
FIELDS = {
    "in_port": Field(32, "int", False),
    "eth_dst": Field(48, "mac", True),
    "eth_src": Field(48, "mac", True),
    "eth_type": Field(16, "int", False),
    "vlan_vid": Field(13, "int", True),
    "ip_dscp": Field(6, "int", False, _IP),
    "ip_proto": Field(8, "int", False, _IP),
    "ipv4_src": Field(32, "ipv4", True, _IPV4),
    "ipv4_dst": Field(32, "ipv4", True, _IPV4),
    "tcp_src": Field(16, "int", True, ("ip_proto", (6,))),
    "tcp_dst": Field(16, "int", True, ("ip_proto", (6,))),
    "udp_src": Field(16, "int", True, ("ip_proto", (17,))),
    "udp_dst": Field(16, "int", True, ("ip_proto", (17,))),
    "icmpv4_type": Field(8, "int", False, ("ip_proto", (1,))),
    "icmpv4_code": Field(8, "int", False, ("ip_proto", (1,))),
    "arp_op": Field(16, "int", False, _ARP),
    "arp_spa": Field(32, "ipv4", True, _ARP),
    "arp_tpa": Field(32, "ipv4", True, _ARP),
    "arp_sha": Field(48, "mac", True, _ARP),
    "arp_tha": Field(48, "mac", True, _ARP),
    "mpls_label": Field(20, "int", False, _MPLS),
    "mpls_tc": Field(3, "int", False, _MPLS),
    "mpls_bos": Field(1, "int", False, _MPLS),
}


def field_int(name: str, value) -> int:
    """``value`` of field ``name`` as an int: MACs and IPv4 addresses from their strings."""
    kind = FIELDS[name].kind
    try:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if kind == "mac" and isinstance(value, str) and len(value.split(":")) == 6:
            return int(value.replace(":", ""), 16)
        if kind == "ipv4" and isinstance(value, str):
            return int(ipaddress.IPv4Address(value))
    except ValueError:
        pass
    raise FakeTableError(f"{name}={value!r} is not a valid {kind}")


def masked(name: str, raw) -> tuple[int, int]:
    """``(value & mask, mask)`` of a match value as os-ken gives it: plain, or a ``(value, mask)`` tuple."""
    if isinstance(raw, tuple):
        value, mask = field_int(name, raw[0]), field_int(name, raw[1])
        return value & mask, mask
    return field_int(name, raw), FIELDS[name].full


def same_value(name: str, sent, wire) -> bool:
    """Whether what was asked for is what the wire carries (no silent truncation)."""
    if name not in FIELDS:
        return sent == wire
    try:
        return masked(name, sent) == masked(name, wire)
    except FakeTableError:
        return False


def parse_match(ofpmatch, error=FakeTableError) -> Match:
    """An os-ken ``OFPMatch`` as a :data:`Match`; refuses unknown fields, masks OVS refuses, values that do
    not fit and missing prerequisites (``udp_src`` without ``ip_proto=17``, ...)."""
    match = {}
    for name, raw in ofpmatch.items():
        spec = FIELDS.get(name)
        if spec is None:
            raise error(f"match field {name} is not modelled")
        if isinstance(raw, tuple) and not spec.maskable:
            raise error(f"{name} cannot be masked")
        value, mask = masked(name, raw)
        if value > spec.full or mask > spec.full:
            raise error(f"{name}={raw!r} does not fit in {spec.bits} bits")
        match[name] = (value, mask)
    for name in match:
        prereq = FIELDS[name].prereq
        if prereq:
            need, allowed = prereq
            value, mask = match.get(need, (None, 0))
            if mask != FIELDS[need].full or value not in allowed:
                raise error(f"{name} needs {need} in {[hex(v) if v > 255 else v for v in allowed]} (a prerequisite)")
    return match


def _fmt(name: str, value: int) -> str:
    kind = FIELDS[name].kind
    if kind == "ipv4":
        return str(ipaddress.IPv4Address(value))
    if kind == "mac":
        return ":".join(f"{value:012x}"[i:i + 2] for i in range(0, 12, 2))
    return hex(value) if name in ("eth_type", "vlan_vid") else str(value)


def match_str(match: Match) -> str:
    parts = [f"{n}={_fmt(n, v)}" + ("" if m == FIELDS[n].full else f"/{_fmt(n, m)}")
             for n, (v, m) in sorted(match.items())]
    return ",".join(parts) or "any"


def packet_ints(packet: dict, error=FakeTableError) -> dict[str, int]:
    """A packet's OXM fields as ints, for matching; an untagged packet has ``vlan_vid`` 0 (OFPVID_NONE)."""
    values = {"vlan_vid": 0}
    for name, value in packet.items():
        if name.startswith("_") or value is None:
            continue
        if name not in FIELDS:
            raise error(f"packet field {name} is not modelled")
        values[name] = field_int(name, value)
    return values


def matches(match: Match, values: dict[str, int]) -> bool:
    return all(name in values and values[name] & mask == value for name, (value, mask) in match.items())


def overlap(a: Match, b: Match) -> bool:
    """Whether some packet matches both: every field both constrain agrees on the bits both care about
    (prerequisites are explicit in a valid match, so ``tcp_src`` and ``udp_src`` flows differ on ``ip_proto``)."""
    for name in a.keys() & b.keys():
        (va, ma), (vb, mb) = a[name], b[name]
        if va & ma & mb != vb & ma & mb:
            return False
    return True


def covers(request: Match, match: Match) -> bool:
    """OpenFlow's loose match of a non-strict modify or delete: ``match`` is at least as specific."""
    for name, (value, mask) in request.items():
        if name not in match or match[name][1] & mask != mask or match[name][0] & mask != value:
            return False
    return True


# -- header rewriting (actions on a packet dict) ------------------------------------------------------

def set_field(pkt: dict, name: str, value, error) -> None:
    prereq = FIELDS[name].prereq
    if name == "vlan_vid":
        if not (pkt.get("vlan_vid") or 0) & VLAN_PRESENT:
            raise error("set_field vlan_vid on a packet without a VLAN tag")
        value = field_int(name, value) | VLAN_PRESENT
    elif prereq and (pkt.get(prereq[0]) is None or field_int(prereq[0], pkt[prereq[0]]) not in prereq[1]):
        raise error(f"set_field {name} on a packet whose {prereq[0]} is {pkt.get(prereq[0])}")
    pkt[name] = value


def push_mpls(pkt: dict, action, error) -> None:
    """A new outer label: a copy of the old outer one if there is one, else 0 with bottom-of-stack set."""
    inner = {k: pkt[k] for k in ("eth_type", "mpls_label", "mpls_tc", "mpls_bos") if k in pkt}
    stacked = pkt.get("eth_type") in ETH_MPLS_TYPES
    pkt["_mpls"] = (*pkt.get("_mpls", ()), inner)
    pkt.update(eth_type=action.ethertype, mpls_label=pkt.get("mpls_label", 0) if stacked else 0,
               mpls_tc=pkt.get("mpls_tc", 0) if stacked else 0, mpls_bos=0 if stacked else 1)


def pop_mpls(pkt: dict, action, error) -> None:
    """Back to what the matching push hid; the action's ethertype must say what that was."""
    if pkt.get("eth_type") not in ETH_MPLS_TYPES:
        raise error(f"pop_mpls on a packet of eth_type {pkt.get('eth_type')}")
    stack = pkt.get("_mpls", ())
    for name in ("mpls_label", "mpls_tc", "mpls_bos"):
        pkt.pop(name, None)
    if stack:
        inner = stack[-1]
        if inner["eth_type"] != action.ethertype:
            raise error(f"pop_mpls says the payload is {action.ethertype:#06x} but it is {inner['eth_type']:#06x}")
        pkt.update(inner)
        pkt["_mpls"] = stack[:-1]
    pkt["eth_type"] = action.ethertype


def push_vlan(pkt: dict, action, error) -> None:
    """A new outer tag, with the VLAN id of the old outer one if there is one (OpenFlow 1.3)."""
    old = pkt.get("vlan_vid") or 0
    pkt["_vlan"] = (*pkt.get("_vlan", ()), old)
    pkt["vlan_vid"] = VLAN_PRESENT | (old & 0xFFF)


def pop_vlan(pkt: dict, action, error) -> None:
    if not (pkt.get("vlan_vid") or 0) & VLAN_PRESENT:
        raise error("pop_vlan on a packet without a VLAN tag")
    stack = pkt.get("_vlan", ())
    pkt["vlan_vid"], pkt["_vlan"] = (stack[-1], stack[:-1]) if stack else (0, ())
    if not pkt["vlan_vid"]:
        del pkt["vlan_vid"]
