"""The one place the order of a switch's operations is decided, on plans small enough to
read: a fresh install, make before break between epochs, and a reconnect's repair."""
from __future__ import annotations

import pytest

from controller import ops as o
from controller.reconcile import Reconciliation
from controller.ruleplan import Bucket, FlowEntry, Group, GroupEntry, MeterEntry, Output, RulePlan, match

METER, GROUP = MeterEntry(1, 1, 1000, 100), GroupEntry(1, 1, "ff", (Bucket((Output(2),), watch_port=2),))
DEMAND = FlowEntry(1, 100, match(ipv4_src="198.18.0.1"), (Group(1),), 1, meter_id=1, cookie=5)
ROUTE = FlowEntry(1, 100, match(ipv4_dst="198.18.0.1"), (Output(1),), 3, cookie=8)


def test_a_fresh_switch_is_cleared_then_gets_meters_groups_flows_and_a_final_barrier():
    plan = RulePlan(flows=(ROUTE, DEMAND), groups=(GROUP,), meters=(METER,))
    assert o.install_ops(plan, token=7) == [o.ClearAll(), o.Barrier(), o.AddMeter(METER), o.AddGroup(GROUP),
                                            o.AddFlow(ROUTE), o.AddFlow(DEMAND), o.Barrier(7)]
    assert o.install_ops(RulePlan(), token=3) == [o.ClearAll(), o.Barrier(), o.Barrier(3)]


def test_an_epoch_adds_the_new_beside_the_old_then_removes_what_only_the_old_had():
    # epoch 1's meter and group (ids in the upper half) replace epoch 0's; the demand's flow
    # is replaced in place (same table, priority and match); one route goes, one comes.
    meter1, group1 = MeterEntry(1, 1 << 20 | 1, 800, 80), GroupEntry(1, 1 << 20 | 1, "ff", GROUP.buckets)
    demand1 = FlowEntry(1, 100, DEMAND.match, (Group(group1.group_id),), 1, meter_id=meter1.meter_id, cookie=6)
    gone = FlowEntry(1, 100, match(ipv4_dst="198.18.0.9"), (Output(4),), 3, cookie=9)
    new_route = FlowEntry(1, 90, match(ipv4_dst="198.18.0.9"), (Output(4),), 3, cookie=9)
    old = RulePlan(flows=(DEMAND, ROUTE, gone), groups=(GROUP,), meters=(METER,), epoch=0)
    new = RulePlan(flows=(demand1, ROUTE, new_route), groups=(group1,), meters=(meter1,), epoch=1)
    assert o.transition_ops(old, new, token=11) == [
        o.AddMeter(meter1), o.AddGroup(group1), o.AddFlow(demand1), o.AddFlow(new_route),
        o.Barrier(),
        o.DeleteFlow(3, 100, gone.match), o.DeleteGroup(GROUP.group_id), o.DeleteMeter(METER.meter_id),
        o.Barrier(11)]


def test_an_id_both_plans_use_is_modified_in_place_and_not_deleted():
    faster, other = MeterEntry(1, 1, 2000, 200), GroupEntry(1, 1, "ff", (Bucket((Output(3),), watch_port=3),))
    old = RulePlan(flows=(DEMAND,), groups=(GROUP,), meters=(METER,))
    new = RulePlan(flows=(DEMAND,), groups=(other,), meters=(faster,))
    assert o.transition_ops(old, new, token=2) == [o.ModifyMeter(faster), o.ModifyGroup(other), o.Barrier(),
                                                   o.Barrier(2)]
    assert o.transition_ops(old, old, token=4) == [o.Barrier(), o.Barrier(4)]


def test_a_reconnect_deletes_stale_flows_and_replaces_what_changed_meters_and_groups_first():
    fix = Reconciliation(unchanged=[ROUTE], add=RulePlan(flows=(DEMAND,), groups=(GROUP,), meters=(METER,)),
                         stale=[(0, 150, match(in_port=9)), (3, 100, match(ipv4_dst="198.18.0.7"))])
    assert o.reconcile_ops(fix, token=5) == [
        o.DeleteFlow(0, 150, match(in_port=9)), o.DeleteFlow(3, 100, match(ipv4_dst="198.18.0.7")),
        o.DeleteMeter(1), o.DeleteGroup(1), o.Barrier(),
        o.AddMeter(METER), o.AddGroup(GROUP), o.AddFlow(DEMAND), o.Barrier(5)]
    assert o.reconcile_ops(Reconciliation([ROUTE], RulePlan(), []), token=6) == [o.Barrier(), o.Barrier(6)]


def test_stats_requests_say_what_kinds_there_are():
    assert o.STATS_KINDS == ("flows", "ports", "meters")
    with pytest.raises(ValueError) as err:
        o.RequestStats("groups")
    assert str(err.value) == "unknown stats kind 'groups' (one of: flows, ports, meters)"
