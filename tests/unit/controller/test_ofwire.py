"""controller/ofwire.py packs the bytes os-ken would send, for every flow the rule plans
hold: each library world's plans (market, shortest, hierarchical) are packed both ways
and compared byte for byte; what it does not pack it refuses, and os-ken builds that."""
from __future__ import annotations

import glob
import re

import pytest

from controller import ofwire
from controller.fakeoftable import FakeDatapath
from controller.ofmsgs import flow_add, to_message
from controller import ops as o
from controller.planner import make_planner
from controller.ruleplan import ETH_TYPE_IP, FlowEntry, Group, Output, PopMpls, PushMpls, SetField, ToController, match
from topologies.loader import load_scenario

DP = FakeDatapath(1)
WORLDS = sorted(p for p in glob.glob("topologies/library/*.yaml") if not p.endswith("large.yaml"))


def osken(msg, xid: int = 0) -> bytes:
    msg.set_xid(xid)
    msg.serialize()
    return bytes(msg.buf)


@pytest.mark.parametrize("path", WORLDS + ["topologies/default.yaml"])
def test_every_flow_of_every_plan_is_packed_as_os_ken_packs_it(path):
    s = load_scenario(path)
    packed = 0
    for plan in ("market", "shortest", "hierarchical"):
        rules = make_planner(s, plan, s.market.mechanism)(0, frozenset()).rules
        for flow in rules.flows:
            assert ofwire.flow_mod(flow) == osken(flow_add(DP, flow)), flow
            op = o.DeleteFlow(flow.table_id, flow.priority, flow.match)
            assert ofwire.delete_strict(flow.table_id, flow.priority, flow.match) == osken(to_message(DP, op)), flow
            packed += 1
    assert packed > 50


def test_the_fields_and_actions_no_library_plan_uses_are_packed_as_os_ken_packs_them():
    flows = [FlowEntry(1, 7, match(eth_dst="02:00:00:00:00:01", tcp_dst=80, udp_dst=(5200, 0xFFF0), ip_proto=17,
                                   arp_op=1, arp_spa="198.18.0.1", arp_tpa="198.18.0.2", ipv4_src=("198.18.0.0", "255.254.0.0")),
                       (SetField("mpls_label", 17), SetField("eth_dst", "02:00:00:00:00:02"), PushMpls(), PopMpls(),
                        Group(4), ToController(128), Output(3)), table_id=2, meter_id=9, goto_table=3,
                       cookie=0x0501000000010000, idle_timeout=5, hard_timeout=9)]
    for flow in flows:
        assert ofwire.flow_mod(flow) == osken(flow_add(DP, flow))


def test_the_largest_values_of_each_field_are_packed_unsigned_as_os_ken_packs_them():
    top = 0xFFFFFFF0  # above 2**31: a signed 32-bit field would refuse it
    flow = FlowEntry(1, 0xFFFF, match(in_port=top, eth_type=0x8847, mpls_label=0xFFFFF, ip_proto=255,
                                      udp_src=(0xFFFF, 0xFF00)),
                     (PopMpls(0x8847), Group(top), SetField("mpls_label", 0xFFFFF), Output(top)),
                     table_id=254, meter_id=0xFFFF0000, goto_table=255, cookie=2**64 - 1,
                     idle_timeout=0xFFFF, hard_timeout=0xFFFF)
    assert ofwire.flow_mod(flow) == osken(flow_add(DP, flow))
    parser, ofp = DP.ofproto_parser, DP.ofproto
    theirs = osken(parser.ONFBundleAddMsg(DP, 0xFFFFFFFF, ofp.ONF_BF_ATOMIC | ofp.ONF_BF_ORDERED, flow_add(DP, flow), []),
                   0xFFFFFFFF)
    assert ofwire.bundle_add(ofwire.with_xid(ofwire.flow_mod(flow), 0xFFFFFFFF), 0xFFFFFFFF) == theirs


def test_what_it_does_not_pack_it_refuses_naming_it():
    for fields, named in ((match(vlan_vid=5), "vlan_vid=5"), (match(ipv4_dst="198.18.0.0/15"), "ipv4_dst='198.18.0.0/15'"),
                          (match(eth_type="ip"), "eth_type='ip'")):
        with pytest.raises(ofwire.Unsupported, match=f"^{re.escape(named)}$"):
            ofwire.flow_mod(FlowEntry(1, 1, fields, (Output(1),)))
    with pytest.raises(ofwire.Unsupported, match=r"^SetField\(field='mpls_label', value=\(1, 2\)\)$"):
        ofwire.flow_mod(FlowEntry(1, 1, match(eth_type=ETH_TYPE_IP), (SetField("mpls_label", (1, 2)),)))
    with pytest.raises(ofwire.Unsupported, match="^'drop'$"):
        ofwire.flow_mod(FlowEntry(1, 1, match(eth_type=ETH_TYPE_IP), ("drop",)))


def test_a_bundled_flow_mod_is_os_ken_s_bundle_add_message():
    parser, ofp = DP.ofproto_parser, DP.ofproto
    flow = FlowEntry(1, 100, match(eth_type=ETH_TYPE_IP, ipv4_dst="198.18.1.1"), (Output(1),), cookie=7)
    theirs = osken(parser.ONFBundleAddMsg(DP, 42, ofp.ONF_BF_ATOMIC | ofp.ONF_BF_ORDERED, flow_add(DP, flow), []), 77)
    assert ofwire.bundle_add(ofwire.with_xid(ofwire.flow_mod(flow), 77), 42) == theirs
