"""The rule plan as pure data: matches, per-switch views, sizes and the diff between two plans."""
from __future__ import annotations

from os_ken.lib.packet import ether_types
from os_ken.ofproto import ofproto_v1_3 as ofp

from controller import ruleplan as rp
from controller.ruleplan import FlowEntry, GroupEntry, MeterEntry, Output, RulePlan, diff, match


def test_the_constants_are_the_wire_values():
    assert (rp.ETH_TYPE_IP, rp.ETH_TYPE_ARP, rp.ETH_TYPE_MPLS) == (
        ether_types.ETH_TYPE_IP, ether_types.ETH_TYPE_ARP, ether_types.ETH_TYPE_MPLS)
    assert (rp.OFPP_CONTROLLER, rp.OFPP_IN_PORT) == (ofp.OFPP_CONTROLLER, ofp.OFPP_IN_PORT)
    assert rp.PushMpls().ethertype == ether_types.ETH_TYPE_MPLS and rp.PopMpls().ethertype == ether_types.ETH_TYPE_IP
    assert rp.PushVlan().ethertype == ether_types.ETH_TYPE_8021Q and rp.ToController().max_len == ofp.OFPCML_NO_BUFFER


def test_a_match_is_the_same_whatever_the_order_of_its_fields():
    assert match(in_port=1, eth_type=0x0800) == match(eth_type=0x0800, in_port=1) == (("eth_type", 0x0800),
                                                                                        ("in_port", 1))
    assert match() == ()


def test_a_flow_is_keyed_by_switch_table_priority_and_match_and_drops_by_default():
    f = FlowEntry(3, 100, match(in_port=1))
    assert f.key == (3, 0, 100, match(in_port=1))
    assert (f.actions, f.table_id, f.meter_id, f.goto_table, f.cookie, f.idle_timeout, f.hard_timeout) == (
        (), 0, None, None, 0, 0, 0)
    assert FlowEntry(3, 100, match(in_port=1), table_id=2).key == (3, 2, 100, match(in_port=1))


A1 = FlowEntry(1, 100, match(in_port=1), (Output(2),))
A2 = FlowEntry(2, 100, match(in_port=1), (Output(2),))
G1, G3 = GroupEntry(1, 1, "ff", ()), GroupEntry(3, 1, "ff", ())
M2, M5 = MeterEntry(2, 1, 1000), MeterEntry(5, 1, 500)
PLAN = RulePlan(flows=(A2, A1), groups=(G3, G1), meters=(M5, M2), epoch=4,
                meter_owners={(2, 1): ("demand", "d", 0), (5, 1): ("floor", "h", 0)})


def test_a_plan_knows_its_switches_and_its_size():
    assert PLAN.dpids == [1, 2, 3, 5]
    assert len(PLAN) == 6 and len(RulePlan()) == 0
    assert len(RulePlan(groups=(G1,))) == 1 and len(RulePlan(meters=(M2, M5))) == 2


def test_a_switch_sees_only_its_own_entries_and_meter_owners():
    assert PLAN.for_switch(2) == RulePlan(flows=(A2,), meters=(M2,), epoch=4)
    assert PLAN.for_switch(2).meter_owners == {(2, 1): ("demand", "d", 0)}
    assert PLAN.for_switch(1) == RulePlan(flows=(A1,), groups=(G1,), epoch=4)
    assert PLAN.for_switch(9) == RulePlan(epoch=4) and len(PLAN.for_switch(9)) == 0


def test_the_diff_removes_what_only_the_current_has_and_adds_what_only_the_wanted_has():
    changed = FlowEntry(1, 100, match(in_port=1), (Output(3),))
    wanted = RulePlan(flows=(changed, A2), groups=(G1,), meters=(M2, MeterEntry(2, 2, 10)), epoch=5)
    d = diff(PLAN, wanted)
    assert d.remove == RulePlan(flows=(A1,), groups=(G3,), meters=(M5,), epoch=4)
    assert d.add == RulePlan(flows=(changed,), meters=(MeterEntry(2, 2, 10),), epoch=5)
    assert not d.empty
    assert diff(PLAN, PLAN).empty and diff(RulePlan(epoch=1), RulePlan(epoch=2)).empty
    assert not diff(RulePlan(), RulePlan(groups=(G1,))).empty and not diff(RulePlan(meters=(M2,)), RulePlan()).empty
