"""Cookies that say what a flow is for, readable in ``ovs-ofctl dump-flows``.

Layout (64 bits, hexadecimal reads left to right)::

    0xKK EEEE IIIIIIII00 -> KK: kind (8 bits), EEEE: epoch (16 bits),
                            IIIIIIII: index of the demand, host or label (32 bits)

so ``cookie=0x5000100000003`` is kind 5 (demand), epoch 1, demand index 3.

>>> hex(make("demand", 1, 3))
'0x500010000000300'
>>> describe(make("demand", 1, 3))
'demand epoch=1 index=3'
"""
from __future__ import annotations

KINDS = {"shortest": 0x01, "arp": 0x02, "edge": 0x03, "spoof": 0x04, "demand": 0x05, "floor": 0x06,
         "label": 0x07, "route": 0x08, "core": 0x09}
NAMES = {v: k for k, v in KINDS.items()}


def make(kind: str, epoch: int = 0, index: int = 0) -> int:
    return (KINDS[kind] << 56) | ((epoch & 0xFFFF) << 40) | ((index & 0xFFFFFFFF) << 8)


def describe(cookie: int) -> str:
    """Human words for a cookie."""
    return f"{NAMES.get(cookie >> 56, 'unknown')} epoch={(cookie >> 40) & 0xFFFF} index={(cookie >> 8) & 0xFFFFFFFF}"


def kind_of(cookie: int) -> str:
    return NAMES.get(cookie >> 56, "unknown")
