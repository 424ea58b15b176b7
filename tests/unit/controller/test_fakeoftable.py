"""The fake OpenFlow 1.3 switch, fed with real os-ken messages on a small hand-made network::

            +-3- b -1-[ s2 ]-2- c -2-+
    h1 -1-[ s1 ]                    [ s3 ]-3- h2
            +-2------- a --------1-+

Path A (label 100) goes s1-s3 directly; path B (label 200) goes s1-s2-s3.
"""
import pytest

from controller.fakenet import FakeNetwork, network_from_messages, process_packet
from controller.fakeoftable import FakeDatapath, FakeOFTable, FakeTableError

OFP, P = FakeDatapath.ofproto, FakeDatapath.ofproto_parser
H1, H2 = "198.18.0.1", "198.18.1.1"
IP, MPLS = 0x0800, 0x8847
WIRING = {(1, 1): ("host", "h1"), (1, 2): ("switch", 3, 1, "a"), (1, 3): ("switch", 2, 1, "b"),
          (2, 1): ("switch", 1, 3, "b"), (2, 2): ("switch", 3, 2, "c"),
          (3, 1): ("switch", 1, 2, "a"), (3, 2): ("switch", 2, 2, "c"), (3, 3): ("host", "h2")}
UDP = {"eth_type": IP, "ipv4_src": H1, "ipv4_dst": H2, "ip_proto": 17, "udp_dst": 9}


def flow(dpid, match, actions=(), table=0, priority=100, goto=None, meter=None, command=OFP.OFPFC_ADD, **kw):
    dp = FakeDatapath(dpid)
    inst = [P.OFPInstructionMeter(meter, OFP.OFPIT_METER)] if meter else []
    inst += [P.OFPInstructionActions(OFP.OFPIT_APPLY_ACTIONS, list(actions))] if actions else []
    inst += [P.OFPInstructionGotoTable(goto)] if goto is not None else []
    return P.OFPFlowMod(dp, table_id=table, priority=priority, command=command, match=P.OFPMatch(**match),
                        instructions=inst, **kw)


def delete(dpid, match=None, table=OFP.OFPTT_ALL, **kw):
    return flow(dpid, match or {}, table=table, command=OFP.OFPFC_DELETE, **kw)


def group(dpid, group_id, type_, *buckets, command=OFP.OFPGC_ADD):
    return P.OFPGroupMod(FakeDatapath(dpid), command, type_, group_id, list(buckets))


def bucket(*actions, watch=OFP.OFPP_ANY, weight=0):
    return P.OFPBucket(weight=weight, watch_port=watch, actions=list(actions))


def meter(dpid, meter_id, kbps, command=OFP.OFPMC_ADD):
    return P.OFPMeterMod(FakeDatapath(dpid), command, OFP.OFPMF_KBPS | OFP.OFPMF_BURST, meter_id,
                         [P.OFPMeterBandDrop(rate=kbps, burst_size=kbps // 10)])


def out(port):
    return P.OFPActionOutput(port)


def push(label, port):
    return [P.OFPActionPushMpls(MPLS), P.OFPActionSetField(mpls_label=label), out(port)]


def core_and_egress():
    """s2 forwards label 200; s3 pops both labels and routes on the IPv4 destination."""
    pops = [flow(3, {"eth_type": MPLS, "mpls_label": label}, [P.OFPActionPopMpls(IP)], goto=1) for label in (100, 200)]
    return [(2, [flow(2, {"eth_type": MPLS, "mpls_label": 200}, [out(2)])]),
            (3, [*pops, flow(3, {"eth_type": IP, "ipv4_dst": H2}, [out(3)], table=1)])]


def ingress(*msgs, classify=None):
    """s1: meter 1, fast-failover group 10 (path A, else B) and the demand's flow into it."""
    return (1, [meter(1, 1, 1000),
                group(1, 10, OFP.OFPGT_FF, bucket(*push(100, 2), watch=2), bucket(*push(200, 3), watch=3)),
                *msgs,
                classify or flow(1, {"in_port": 1, "eth_type": IP, "ipv4_src": H1, "ipv4_dst": H2},
                                 [P.OFPActionGroup(10)], meter=1)])


def network(*msgs, classify=None):
    return network_from_messages([ingress(*msgs, classify=classify), *core_and_egress()], WIRING)


def applied(*msgs, dpid=1):
    table = FakeOFTable(dpid)
    table.apply(msgs)
    return table


# -- forwarding --------------------------------------------------------------------------------------

def test_a_labelled_path_is_pushed_at_ingress_and_popped_at_egress():
    t = network().walk(1, 1, UDP, size=100)
    assert (t.outcome, t.switches, t.labels, t.meters) == ("delivered:h2", [1, 3], [100], [(1, 1)])
    assert t.packet["eth_type"] == IP and "mpls_label" not in t.packet
    assert [(dpid, f.table_id) for dpid, f in t.flows] == [(1, 0), (3, 0), (3, 1)]


def test_the_core_forwards_on_the_label_when_the_ingress_fails_over():
    net = network()
    t = net.walk(1, 1, UDP, down_links={"a"})
    assert (t.outcome, t.switches, t.labels) == ("delivered:h2", [1, 2, 3], [200])
    assert net.walk(1, 1, UDP, down_links={"a", "b"}).outcome == "dropped:1:no-live-bucket:group:10"
    assert net.walk(1, 1, UDP, down_links={"c"}).switches == [1, 3]  # the primary still stands


def test_a_link_going_down_drops_what_is_sent_over_it():
    net = network(classify=flow(1, {"in_port": 1}, push(200, 3)))
    assert net.walk(1, 1, UDP, down_links={"c"}).outcome == "dropped:2:link-down:c"


def test_counters_count_packets_and_bytes_of_flows_and_meters():
    net = network()
    for _ in range(3):
        net.walk(1, 1, UDP, size=100)
    assert (net.tables[1].meters[1].packets, net.tables[1].meters[1].bytes) == (3, 300)
    assert [f.packets for f in net.tables[3].flows] == [3, 0, 3]


def test_masked_source_port_slices_send_each_port_down_its_path():
    slices = [flow(1, {**UDP, "udp_src": (bit, 1)}, push(100 + 100 * bit, 2 + bit)) for bit in (0, 1)]
    tcp = flow(1, {"eth_type": IP, "ip_proto": 6, "tcp_src": (0, 1)}, [out(3)])  # other protocol: disjoint
    net = network_from_messages([(1, [*slices, tcp]), *core_and_egress()], WIRING)
    assert net.walk(1, 1, {**UDP, "udp_src": 5000}).switches == [1, 3]
    assert net.walk(1, 1, {**UDP, "udp_src": 5001}).switches == [1, 2, 3]
    assert net.tables[1].overlaps() == []


def test_select_enumeration_follows_every_bucket_with_its_weight():
    split = group(1, 20, OFP.OFPGT_SELECT, bucket(P.OFPActionGroup(10), weight=3),
                  bucket(*push(200, 3), weight=1))
    net = network(split, classify=flow(1, {"eth_type": IP, "ipv4_dst": H2}, [P.OFPActionGroup(20)]))
    traces = net.walk_all(1, 1, UDP)
    assert [(t.outcome, t.switches, str(t.share)) for t in traces] == [
        ("delivered:h2", [1, 3], "3/4"), ("delivered:h2", [1, 2, 3], "1/4")]
    assert net.walk(1, 1, UDP, select=1).switches == [1, 2, 3]
    assert net.walk(1, 1, UDP, select=lambda dpid, gid, pkt, candidates: 0).switches == [1, 3]
    assert [t.switches for t in net.walk_all(1, 1, UDP, down_links={"a"})] == [[1, 2, 3], [1, 2, 3]]


def test_copies_need_walk_all_and_arp_goes_to_the_controller():
    both = group(1, 30, OFP.OFPGT_ALL, bucket(out(2)), bucket(out(3)))
    net = network(both, classify=flow(1, {"eth_type": IP}, [P.OFPActionGroup(30)]))
    with pytest.raises(FakeTableError, match="copies"):
        net.walk(1, 1, UDP)
    assert len(net.walk_all(1, 1, UDP)) == 2
    arp = network(classify=flow(1, {"eth_type": 0x0806}, [out(OFP.OFPP_CONTROLLER)]))
    assert arp.walk(1, 1, {"eth_type": 0x0806}).outcome == "controller:1"
    assert arp.walk(1, 1, UDP).outcome == "dropped:1:table-miss:0"


def test_output_to_the_in_port_needs_ofpp_in_port():
    table = applied(flow(1, {"in_port": 1}, [out(1)]), flow(1, {"in_port": 2}, [out(OFP.OFPP_IN_PORT)]))
    assert process_packet(table, 1, {}).emits == []
    assert [e.port for e in process_packet(table, 2, {}).emits] == [2]


def test_loops_are_reported():
    round_and_round = [(d, [flow(d, {"eth_type": IP}, [out(port)])]) for d, port in ((1, 2), (3, 2), (2, 1))]
    t = network_from_messages(round_and_round, WIRING).walk(1, 1, UDP)
    assert (t.outcome, t.switches) == ("loop", [1, 3, 2, 1])


# -- switch semantics --------------------------------------------------------------------------------

def test_duplicate_group_and_meter_ids_are_refused():
    with pytest.raises(FakeTableError, match="group 10 already exists"):
        applied(*ingress()[1], group(1, 10, OFP.OFPGT_INDIRECT, bucket(out(2))))
    with pytest.raises(FakeTableError, match="meter 1 already exists"):
        applied(meter(1, 1, 100), meter(1, 1, 200))


def test_flows_and_buckets_must_refer_to_what_exists():
    with pytest.raises(FakeTableError, match="meter 7 does not exist"):
        FakeOFTable(1).apply([flow(1, {"in_port": 1}, [out(2)], meter=7)], check=False)
    with pytest.raises(FakeTableError, match="group 7 does not exist"):
        applied(flow(1, {"in_port": 1}, [P.OFPActionGroup(7)]))
    with pytest.raises(FakeTableError, match="group 7 does not exist"):
        applied(group(1, 8, OFP.OFPGT_INDIRECT, bucket(P.OFPActionGroup(7))))
    with pytest.raises(FakeTableError, match="cannot modify"):
        applied(group(1, 8, OFP.OFPGT_INDIRECT, bucket(out(2)), command=OFP.OFPGC_MODIFY))


def test_deleting_a_group_or_meter_removes_the_flows_that_use_it():
    _, msgs = ingress()
    table = applied(*msgs, flow(1, {"in_port": 2}, [out(1)]))
    table.apply([group(1, 10, 0, command=OFP.OFPGC_DELETE)])
    assert [str(f) for f in table.flows] == ["table=0 priority=100 cookie=0x0 in_port=2 actions=output:1"]
    table.apply(msgs[1:])
    table.apply([meter(1, OFP.OFPM_ALL, 0, command=OFP.OFPMC_DELETE)])
    assert len(table.flows) == 1 and not table.meters


def test_deletes_follow_openflow_matching():
    table = applied(*ingress()[1], flow(1, {"in_port": 2}, [out(1)], cookie=0xA1),
                    flow(1, {"in_port": 3}, [out(1)], cookie=0xB1))
    table.apply([delete(1, cookie=0xA0, cookie_mask=0xF0, out_port=OFP.OFPP_ANY, out_group=OFP.OFPG_ANY)])
    assert sorted(f.cookie for f in table.flows) == [0, 0xB1]
    table.apply([delete(1, {"eth_type": IP}, out_port=OFP.OFPP_ANY, out_group=10)])  # loose: the demand flow
    assert [f.cookie for f in table.flows] == [0xB1]
    with pytest.raises(FakeTableError, match="OFPP_ANY"):  # os-ken's default out_port 0 deletes nothing on OVS
        table.apply([delete(1)])
    table.apply([delete(1, out_port=OFP.OFPP_ANY, out_group=OFP.OFPG_ANY)])
    assert table.flows == []


def test_an_identical_add_replaces_and_modify_changes_only_instructions():
    table = applied(flow(1, {"in_port": 1}, [out(2)], cookie=1), flow(1, {"in_port": 1}, [out(3)], cookie=2),
                    flow(1, {"in_port": 1, "eth_type": IP}, [out(3)], priority=200))
    table.apply([flow(1, {"in_port": 1}, [out(4)], command=OFP.OFPFC_MODIFY_STRICT, cookie=9),
                 flow(1, {"in_port": 5}, [out(4)], command=OFP.OFPFC_MODIFY)])  # matches nothing: adds nothing
    assert [str(f) for f in table.flows] == [
        "table=0 priority=200 cookie=0x0 eth_type=0x800,in_port=1 actions=output:3",
        "table=0 priority=100 cookie=0x2 in_port=1 actions=output:4"]
    table.apply([flow(1, {"in_port": 1}, [out(5)], command=OFP.OFPFC_MODIFY)])  # loose: both
    assert [f.actions[0].port for f in table.flows] == [5, 5]


def test_mpls_labels_stack_and_pop_back_to_the_payload():
    two = [P.OFPActionPushMpls(MPLS), P.OFPActionSetField(mpls_label=100), P.OFPActionPushMpls(MPLS),
           P.OFPActionSetField(mpls_label=200)]
    table = applied(flow(1, {"in_port": 1, "eth_type": IP}, [*two, P.OFPActionPopMpls(MPLS), out(2)]))
    (emit,) = process_packet(table, 1, UDP).emits
    assert (emit.packet["eth_type"], emit.packet["mpls_label"], emit.packet["mpls_bos"], emit.labels) == (
        MPLS, 100, 1, (100, 200))
    wrong = applied(flow(1, {"in_port": 1, "eth_type": IP}, [*two[:2], P.OFPActionPopMpls(0x0806), out(2)]))
    with pytest.raises(FakeTableError, match="payload is 0x0806 but it is 0x0800"):
        process_packet(wrong, 1, UDP)


def test_overlapping_flows_of_one_priority_with_different_actions_are_found():
    route = flow(1, {"eth_type": IP, "ipv4_dst": H2}, [out(2)])
    with pytest.raises(FakeTableError, match="overlap at one priority"):
        applied(route, flow(1, {"eth_type": IP, "ip_proto": 17}, [out(3)]))
    applied(route, flow(1, {"eth_type": IP, "ip_proto": 17}, [out(2)]))  # same actions: not ambiguous
    applied(route, flow(1, {"eth_type": IP, "ipv4_dst": (H1, "255.255.255.0")}, [out(3)]))  # disjoint
    applied(route, flow(1, {"eth_type": IP, "ip_proto": 17}, [out(3)], priority=200))  # priorities decide
    assert len(applied(flow(1, {"eth_type": IP, "ip_proto": 6, "tcp_src": (0, 1)}, [out(2)]),
                       flow(1, {"eth_type": IP, "ip_proto": 17, "udp_src": (0, 1)}, [out(3)])).flows) == 2


# -- refusals ----------------------------------------------------------------------------------------

REFUSED = {
    "write-actions": (P.OFPFlowMod(FakeDatapath(1), match=P.OFPMatch(in_port=1), instructions=[
        P.OFPInstructionActions(OFP.OFPIT_WRITE_ACTIONS, [out(2)])]), "write_actions is not modelled"),
    "flood": (flow(1, {"in_port": 1}, [out(OFP.OFPP_FLOOD)]), "output to port 0xfffffffb is not modelled"),
    "set-ttl": (flow(1, {"eth_type": MPLS}, [P.OFPActionSetMplsTtl(5)]), "OFPActionSetMplsTtl is not modelled"),
    "set-tunnel": (flow(1, {"in_port": 1}, [P.OFPActionSetField(tunnel_id=5)]), "set_field of tunnel_id"),
    "match-field": (flow(1, {"tunnel_id": 5}, [out(2)]), "match field tunnel_id is not modelled"),
    "prerequisite": (flow(1, {"eth_type": IP, "udp_src": 53}, [out(2)]), "udp_src needs ip_proto"),
    "pop-non-mpls": (flow(1, {"eth_type": IP}, [P.OFPActionPopMpls(IP)]), "pop_mpls needs an MPLS eth_type"),
    "label-without-push": (flow(1, {"eth_type": IP}, [P.OFPActionSetField(mpls_label=5)]), "needs eth_type"),
    "goto-backwards": (flow(1, {"in_port": 1}, table=2, goto=1), "must lie ahead"),
    "group-type": (group(1, 5, 7, bucket(out(2))), "group type 7 is not modelled"),
    "ff-unwatched": (group(1, 5, OFP.OFPGT_FF, bucket(out(2))), "needs a watch port"),
    "meter-band": (P.OFPMeterMod(FakeDatapath(1), OFP.OFPMC_ADD, OFP.OFPMF_KBPS, 1,
                                 [P.OFPMeterBandDscpRemark(rate=10, prec_level=1)]), "only drop bands"),
    "message": (P.OFPPortMod(FakeDatapath(1), port_no=1), "OFPPortMod is not modelled"),
    "other-switch": (flow(2, {"in_port": 1}, [out(2)]), "built for dpid 2"),
    # os-ken cannot encode these, or encodes something else than asked:
    "bad-address": (flow(1, {"eth_type": IP}, [P.OFPActionSetField(ipv4_dst="198.18.1")]), "cannot be serialized"),
    "big-port": (flow(1, {"in_port": 1}, [out(-1)]), "cannot be serialized"),
    "truncated": (flow(1, UDP, [P.OFPActionSetField(udp_src=70000)]), "udp_src=70000 goes on the wire as .*=4464"),
    "wide-label": (flow(1, {"eth_type": MPLS, "mpls_label": 1 << 20}, [out(2)]), "does not fit in 20 bits"),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_what_cannot_be_modelled_or_sent_is_refused(name):
    msg, reason = REFUSED[name]
    with pytest.raises(FakeTableError, match=reason.replace("(", r"\(")):
        applied(msg)


def test_barriers_stats_and_packet_outs_change_nothing():
    dp = FakeDatapath(1)
    msgs = [P.OFPBarrierRequest(dp), P.OFPFlowStatsRequest(dp, 0, OFP.OFPTT_ALL, OFP.OFPP_ANY, OFP.OFPG_ANY),
            P.OFPPacketOut(dp, OFP.OFP_NO_BUFFER, OFP.OFPP_CONTROLLER, [out(1)], b"\x00" * 60)]
    table = applied(*msgs)
    assert not table.flows and not table.groups and not table.meters
    assert all(m.xid is None for m in msgs)  # the caller's messages can still be sent


def test_wiring_must_be_symmetric():
    with pytest.raises(FakeTableError, match="no matching way back"):
        FakeNetwork({}, {(1, 2): ("switch", 2, 1, "a")})
