"""Cookies that say what a flow is for, readable in ``ovs-ofctl dump-flows``.

Layout (64 bits, hexadecimal reads left to right)::

    0xKK EEEE IIIIII DDDD -> KK: kind (8 bits), EEEE: epoch (16 bits),
                             IIIIII: index of the demand, host or label (24 bits),
                             DDDD: digest of what the flow does (16 bits, see seal)

so ``cookie=0x50001000003xxxx`` is kind 5 (demand), epoch 1, demand index 3.
The digest covers the flow's actions and the meter and groups it uses, so a
controller that reconnects can tell an unchanged flow from a stale one by
reading flow stats alone.

>>> hex(make("demand", 1, 3))
'0x500010000030000'
>>> describe(make("demand", 1, 3))
'demand epoch=1 index=3'
"""
from __future__ import annotations

KINDS = {"shortest": 0x01, "arp": 0x02, "edge": 0x03, "spoof": 0x04, "demand": 0x05, "floor": 0x06,
         "label": 0x07, "route": 0x08, "core": 0x09, "return": 0x0A}
NAMES = {v: k for k, v in KINDS.items()}
#: the bits of a cookie that hold its kind (for a flow-stats request of one kind)
KIND_MASK = 0xFF << 56


def make(kind: str, epoch: int = 0, index: int = 0) -> int:
    return (KINDS[kind] << 56) | ((epoch & 0xFFFF) << 40) | ((index & 0xFFFFFF) << 16)


def describe(cookie: int) -> str:
    """Human words for a cookie."""
    return f"{kind_of(cookie)} epoch={epoch_of(cookie)} index={index_of(cookie)}"


def epoch_of(cookie: int) -> int:
    return (cookie >> 40) & 0xFFFF


def index_of(cookie: int) -> int:
    """The demand, host or label index a cookie carries."""
    return (cookie >> 16) & 0xFFFFFF


def seal(plan):
    """The plan with every flow's cookie carrying a digest of what it does."""
    import hashlib
    from dataclasses import replace

    from .ruleplan import Group

    groups = {(g.dpid, g.group_id): g for g in plan.groups}
    meters = {(m.dpid, m.meter_id): m for m in plan.meters}

    def used(dpid, actions, seen):
        for a in actions:
            if isinstance(a, Group) and (dpid, a.group_id) not in seen:
                seen.add((dpid, a.group_id))
                g = groups.get((dpid, a.group_id))
                yield repr(g)
                for b in (g.buckets if g else ()):
                    yield from used(dpid, b.actions, seen)

    flows = []
    for f in plan.flows:
        parts = [repr(f.actions), repr(f.goto_table), repr(meters.get((f.dpid, f.meter_id)))]
        parts += list(used(f.dpid, f.actions, set()))
        digest = int.from_bytes(hashlib.blake2b("|".join(parts).encode(), digest_size=2).digest(), "big")
        flows.append(replace(f, cookie=(f.cookie & ~0xFFFF) | digest))
    return replace(plan, flows=tuple(flows))


def kind_of(cookie: int) -> str:
    return NAMES.get(cookie >> 56, "unknown")
