"""Cookies: the layout ``ovs-ofctl dump-flows`` is read by, and the digest that tells
a reconnecting controller an unchanged flow from a stale one."""
from __future__ import annotations

from dataclasses import replace

import pytest

from controller import cookies
from controller.ruleplan import Bucket, FlowEntry, Group, GroupEntry, MeterEntry, Output, RulePlan, match

#: The kinds as the README documents them for people reading dump-flows.
DOCUMENTED = {"shortest": 1, "arp": 2, "edge": 3, "spoof": 4, "demand": 5, "floor": 6, "label": 7, "route": 8,
              "core": 9, "return": 10}


def test_the_layout_is_kind_epoch_index_digest():
    assert cookies.make("demand", 1, 3) == 0x05_0001_000003_0000
    assert cookies.make("core") == 0x09_0000_000000_0000
    assert cookies.make("label", 0xABCD, 0x123456) == 0x07_ABCD_123456_0000


def test_epoch_and_index_wrap_instead_of_spilling_into_their_neighbours():
    assert cookies.make("demand", 0x1_0002, 0x100_0003) == 0x05_0002_000003_0000
    assert cookies.make("demand", 0xFFFF, 0xFFFFFF) == 0x05_FFFF_FFFFFF_0000


@pytest.mark.parametrize("kind,code", DOCUMENTED.items())
def test_every_kind_has_its_documented_code_and_reads_back(kind, code):
    assert cookies.KINDS[kind] == code
    cookie = cookies.make(kind, 2, 9) | 0xBEEF  # with a digest in the low bits
    assert cookie >> 56 == code
    assert cookies.kind_of(cookie) == kind
    assert cookies.describe(cookie) == f"{kind} epoch=2 index=9"


def test_the_fields_read_back_whatever_the_others_hold():
    cookie = 0x05_FFFE_ABCDEF_FFFF
    assert (cookies.epoch_of(cookie), cookies.index_of(cookie)) == (0xFFFE, 0xABCDEF)
    assert (cookies.epoch_of(0x05_0001_000000_0000), cookies.index_of(0x05_0000_000001_0000)) == (1, 1)
    assert cookies.kind_of(0) == "unknown" and cookies.kind_of(0x0B << 56) == "unknown"
    assert cookies.describe(0x42_0003_000007_1234) == "unknown epoch=3 index=7"


# --- the digest -------------------------------------------------------------------


def flow(actions=(Group(1),), meter_id=None, goto_table=None, dpid=1, cookie=None) -> FlowEntry:
    return FlowEntry(dpid, 100, match(ipv4_dst="198.18.0.2"), actions, 1, meter_id=meter_id, goto_table=goto_table,
                     cookie=cookies.make("demand", 1, 3) if cookie is None else cookie)


def sealed(*flows, groups=(), meters=()) -> list[int]:
    return [f.cookie for f in cookies.seal(RulePlan(flows=flows, groups=groups, meters=meters, epoch=1)).flows]


def digest(*flows, groups=(), meters=()) -> list[int]:
    return [c & 0xFFFF for c in sealed(*flows, groups=groups, meters=meters)]


FF = GroupEntry(1, 1, "ff", (Bucket((Output(2),), watch_port=2), Bucket((Output(3),), watch_port=3)))


def test_the_digest_is_the_same_in_every_process():
    """A restarted controller must compute the very digests its predecessor wrote into the
    switches (no per-process salt such as Python's ``hash``): a value pinned here."""
    (cookie,) = sealed(flow(meter_id=4), groups=(FF,), meters=(MeterEntry(1, 4, 1000, 100),))
    assert cookie == 0x050001000003C9BC
    assert cookies.describe(cookie) == "demand epoch=1 index=3"


def test_sealing_keeps_the_kind_epoch_and_index_and_replaces_an_old_digest():
    fresh = flow()
    (a,) = sealed(fresh, groups=(FF,))
    (b,) = sealed(replace(fresh, cookie=fresh.cookie | 0xFFFF), groups=(FF,))
    assert a == b and a >> 16 == fresh.cookie >> 16
    plan = RulePlan(flows=(fresh,), groups=(FF,), meters=(MeterEntry(1, 4, 1000),), epoch=7, notes=("x",))
    out = cookies.seal(plan)
    assert (out.groups, out.meters, out.epoch) == (plan.groups, plan.meters, 7)
    assert replace(out.flows[0], cookie=fresh.cookie) == fresh


def test_the_digest_covers_actions_goto_and_the_meter_it_uses():
    meter = MeterEntry(1, 4, 1000, 100)
    base = digest(flow(meter_id=4), groups=(FF,), meters=(meter,))
    assert digest(flow((Group(1), Output(9)), meter_id=4), groups=(FF,), meters=(meter,)) != base
    assert digest(flow(meter_id=4, goto_table=3), groups=(FF,), meters=(meter,)) != base
    assert digest(flow(meter_id=4), groups=(FF,), meters=(replace(meter, rate_kbps=2000),)) != base
    assert digest(flow(meter_id=4), groups=(FF,), meters=(replace(meter, burst_kbits=200),)) != base
    # the meter's contents, not only its id: a meter of another switch with that id does not count
    assert digest(flow(meter_id=4), groups=(FF,), meters=(meter, replace(meter, dpid=2, rate_kbps=5))) == base
    assert digest(flow(meter_id=4), groups=(FF,), meters=()) != base


def test_the_digest_covers_the_contents_of_the_groups_a_flow_uses():
    base = digest(flow(), groups=(FF,))
    backup_moved = replace(FF, buckets=(FF.buckets[0], Bucket((Output(4),), watch_port=4)))
    assert digest(flow(), groups=(backup_moved,)) != base
    assert digest(flow(), groups=(replace(FF, type="select"),)) != base
    assert digest(flow(), groups=()) != base  # a group the plan lacks
    # a group of the same id on another switch is not this flow's
    assert digest(flow(), groups=(FF, replace(backup_moved, dpid=2))) == base


def test_the_digest_covers_nested_groups_and_stops_at_a_cycle():
    inner = GroupEntry(1, 2, "indirect", (Bucket((Output(5),)),))
    outer = GroupEntry(1, 1, "ff", (Bucket((Group(2),), watch_port=2), Bucket((Output(3),), watch_port=3)))
    base = digest(flow(), groups=(outer, inner))
    assert digest(flow(), groups=(outer, replace(inner, buckets=(Bucket((Output(6),)),)))) != base
    # a group that refers back to itself (or twice to one group) is read once
    loop = GroupEntry(1, 1, "all", (Bucket((Group(1),)), Bucket((Group(2),)), Bucket((Group(2),))))
    assert len(digest(flow(), groups=(loop, inner))) == 1
    assert digest(flow(), groups=(loop, inner)) != digest(flow(), groups=(loop, replace(inner, type="all")))


def test_flows_on_other_switches_and_other_flows_are_sealed_independently():
    one, two = flow(), flow(dpid=2, cookie=cookies.make("demand", 1, 4))
    other_group = replace(FF, dpid=2)
    a = sealed(one, two, groups=(FF, other_group))
    assert [c >> 16 for c in a] == [one.cookie >> 16, two.cookie >> 16]
    b = sealed(one, two, groups=(FF, replace(other_group, type="select")))
    assert a[0] == b[0] and a[1] != b[1]
