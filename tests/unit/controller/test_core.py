"""The controller core driven through a switch's life with no os-ken and no OVS:
connect, install, epoch, port down, port up, reconnect, restart, counters."""
from __future__ import annotations

import pytest

from controller import ops as o
from controller.core import ControllerCore, FlowStat, MeterStat, PortStat, Settings
from controller.errors import ControllerError
from controller.planner import make_planner
from topologies.loader import load_scenario

S = load_scenario("topologies/library/failover.yaml")
WEST, R1, R2 = (S.switch[n].dpid for n in ("west", "r1", "r2"))


def core(epoch_s: float = 0.0, stats_s: float = 0.0, planner=None) -> ControllerCore:
    return ControllerCore(S, planner or make_planner(S, "market", "lmp"), Settings(epoch_s, stats_s))


def up(c: ControllerCore, dpid: int, held: list[FlowStat] = ()) -> list:
    """Connect a switch, answer its table read, acknowledge the final barrier; the install ops."""
    assert c.connected(dpid, now=0) == {dpid: [o.RequestStats("flows")]}
    ops = c.flow_stats(dpid, list(held), False, now=0)[dpid]
    c.barrier_reply(dpid, ops[-1].token, now=0)
    return ops


def held_by(c: ControllerCore, dpid: int) -> list[FlowStat]:
    """What a switch holding the core's current plan reports when read."""
    return [FlowStat(f.table_id, f.priority, f.match, f.cookie) for f in c.current.rules.for_switch(dpid).flows]


def test_an_unknown_switch_is_refused_and_reported():
    c = core()
    assert c.connected(0xDEAD, now=0) == {}
    assert "unknown datapath 0xdead" in c.status.snapshot()["errors"][0]


def test_a_fresh_switch_gets_delete_all_then_its_whole_plan_then_a_barrier():
    c = core()
    ops = up(c, WEST)
    plan = c.current.rules.for_switch(WEST)
    assert ops[:2] == [o.ClearAll(), o.Barrier()] and isinstance(ops[-1], o.Barrier) and ops[-1].token
    kinds = [type(op).__name__ for op in ops[2:-1]]
    # Meters, then groups, then flows: what a flow refers to exists before it.
    assert kinds == sorted(kinds, key=["AddMeter", "AddGroup", "AddFlow"].index)
    assert {op.flow for op in ops if isinstance(op, o.AddFlow)} == set(plan.flows)
    assert c.status.snapshot()["switches"][str(WEST)]["acknowledged"]


def test_ready_only_after_the_final_barrier_of_every_switch():
    c = core()
    for sw in S.switches[:-1]:
        up(c, sw.dpid)
    last = S.switches[-1].dpid
    c.connected(last, now=0)
    ops = c.flow_stats(last, [], False, now=0)[last]
    c.barrier_reply(last, ops[1].token or 999, now=0)  # the first barrier, or a stranger's, is not the one
    assert not c.status.snapshot()["ready"]
    c.barrier_reply(last, ops[-1].token, now=0)
    assert c.status.snapshot()["ready"]


def test_an_epoch_moves_every_switch_make_before_break():
    c = core(epoch_s=30)
    up(c, WEST)
    old = c.current.rules.for_switch(WEST)
    assert c.tick(now=29) == {}
    ops = c.tick(now=30)[WEST]
    assert c.epoch == 1 and c.status.snapshot()["epoch"] == 1
    new = c.current.rules.for_switch(WEST)
    barrier = ops.index(o.Barrier())
    adds, deletes = ops[:barrier], ops[barrier + 1:-1]
    assert {op.meter.meter_id for op in adds if isinstance(op, o.AddMeter)} == {m.meter_id for m in new.meters}
    assert {op.meter_id for op in deletes if isinstance(op, o.DeleteMeter)} == {m.meter_id for m in old.meters}
    assert not {m.meter_id for m in old.meters} & {m.meter_id for m in new.meters}
    assert all(isinstance(op, (o.DeleteFlow, o.DeleteGroup, o.DeleteMeter)) for op in deletes)
    assert not c.status.snapshot()["switches"][str(WEST)]["acknowledged"]
    c.barrier_reply(WEST, ops[-1].token, now=30)
    assert c.status.snapshot()["switches"][str(WEST)]["acknowledged"]


def test_a_link_down_re_plans_around_it_once_and_back_when_it_returns():
    c = core()
    for sw in S.switches:
        up(c, sw.dpid)
    assert ["west", "r1", "r2", "east"] in c.status.paths["w1-e1"]
    port = S.graph.link_port("r1", "fast").number
    ops = c.port_status(R1, port, True, now=1)
    assert set(ops) == {sw.dpid for sw in S.switches} and c.epoch == 1
    assert c.status.snapshot()["links_down"] == ["fast"]
    assert all(not ("r1" in p and "r2" in p and p.index("r2") == p.index("r1") + 1) for p in c.status.paths["w1-e1"])
    other_end = S.graph.link_port("r2", "fast").number
    assert c.port_status(R2, other_end, True, now=1) == {}  # the other end tells the same news
    assert c.port_status(R1, S.graph.link_port("r1", "via1").number, False, now=1) == {}  # up and already up
    c.port_status(R1, port, False, now=2)
    assert c.epoch == 2 and c.status.snapshot()["links_down"] == []
    assert ["west", "r1", "r2", "east"] in c.status.paths["w1-e1"]


def test_a_host_port_going_down_is_not_a_link():
    c = core()
    up(c, WEST)
    assert c.port_status(WEST, S.graph.host_port("w1").number, True, now=1) == {}
    assert c.epoch == 0


def test_a_reconnecting_switch_that_kept_its_rules_gets_nothing_reinstalled():
    c = core()
    up(c, WEST)
    c.disconnected(WEST, now=1)
    assert not c.status.snapshot()["switches"][str(WEST)]["connected"]
    ops = up(c, WEST, held_by(c, WEST))
    assert ops == [o.Barrier(), o.Barrier(ops[-1].token)]
    sw = c.status.snapshot()["switches"][str(WEST)]
    assert (sw["unchanged"], sw["added"], sw["removed"]) == (len(held_by(c, WEST)), 0, 0)


def test_a_restarted_controller_adopts_the_epoch_the_switches_run():
    first = core(epoch_s=10)
    up(first, WEST)
    first.tick(now=10)
    first.tick(now=20)
    first.tick(now=30)
    assert first.epoch == 3
    held = held_by(first, WEST)
    second = core(epoch_s=10)
    ops = up(second, WEST, held)
    assert second.epoch == 3 and ops == [o.Barrier(), o.Barrier(ops[-1].token)]


def test_a_stale_flow_is_removed_on_reconnect():
    c = core()
    up(c, WEST)
    stranger = FlowStat(1, 100, (("ipv4_dst", "198.18.200.1"),), 1)
    ops = up(c, WEST, [*held_by(c, WEST), stranger])
    assert o.DeleteFlow(1, 100, stranger.match) in ops


def test_a_switch_read_during_a_re_plan_gets_the_new_plan():
    c = core(epoch_s=5)
    up(c, WEST)
    c.connected(R1, now=0)
    assert R1 not in c.tick(now=5)  # still reading: nothing to move yet
    ops = c.flow_stats(R1, [], False, now=5)[R1]
    assert {op.flow for op in ops if isinstance(op, o.AddFlow)} == set(c.current.rules.for_switch(R1).flows)
    assert c.current.rules.epoch == 1


def test_a_failed_clearing_keeps_the_last_plan_and_says_why():
    good = make_planner(S, "market", "lmp")
    calls = []

    def flaky(epoch, down):
        calls.append(epoch)
        if epoch > 0:
            raise ControllerError("market closed")
        return good(epoch, down)

    c = core(epoch_s=1, planner=flaky)
    up(c, WEST)
    assert c.tick(now=1) == {} and c.epoch == 0 and calls == [0, 1]
    assert "market closed" in c.status.snapshot()["notes"][0]


def test_counters_are_reported_by_demand_link_and_host_name():
    c = core(stats_s=5)
    up(c, WEST)
    c.connected(R1, now=0)  # still reading: not polled
    assert c.tick(now=5) == {WEST: [o.RequestStats("flows"), o.RequestStats("ports"), o.RequestStats("meters")]}
    plan = c.current.rules.for_switch(WEST)
    owners = plan.meter_owners
    demand_meter = next(m for (_, m), owner in owners.items() if owner[:2] == ("demand", "w1-e1"))
    floor_meter = next(m for (_, m), owner in owners.items() if owner == ("floor", "w1", 0))
    c.meter_stats(WEST, [MeterStat(demand_meter, 10, 12000, 3), MeterStat(floor_meter, 1, 100, 0),
                         MeterStat(999_999, 5, 5, 5)], now=5)
    c.port_stats(WEST, [PortStat(S.graph.link_port("west", "up-w").number, 1, 2, 3, 4),
                        PortStat(S.graph.host_port("w1").number, 5, 6, 7, 8)], now=5)
    demand_flow = next(f for f in plan.flows if f.meter_id == demand_meter)
    c.flow_stats(WEST, [FlowStat(1, demand_flow.priority, demand_flow.match, demand_flow.cookie, 40, 4000)], True, now=5)
    c.flow_stats(WEST, [FlowStat(1, demand_flow.priority, demand_flow.match, demand_flow.cookie, 2, 200)], False, now=5)
    counters = c.status.snapshot()["counters"]
    assert counters["demands"]["w1-e1"]["path 0 meter"] == {"packets_in": 10, "bytes_in": 12000, "dropped_packets": 3}
    assert counters["demands"]["w1-e1"]["classified"] == {"packets": 42, "bytes": 4200}
    assert counters["hosts"]["w1"]["floor meter"]["packets_in"] == 1
    assert counters["hosts"]["w1"]["port"]["tx_bytes"] == 8
    assert counters["links"]["up-w"]["west"]["rx_packets"] == 1
    assert counters["flow_kinds"]["west"]["packets"]["demand"] == 42


def test_arp_for_a_known_host_is_answered_out_of_the_asking_port():
    c = core()
    w1, e1 = S.host["w1"], S.host["e1"]
    (op,) = c.arp_request(WEST, 1, 1, w1.mac, str(w1.ip), str(e1.ip), now=0)[WEST]
    assert op.port == 1 and op.reply.src_mac == e1.mac and op.reply.dst_ip == str(w1.ip)
    assert c.arp_request(WEST, 1, 1, w1.mac, str(w1.ip), "198.19.9.9", now=0) == {}


@pytest.mark.parametrize("kind", ["flows", "ports", "meters"])
def test_stats_requests_name_a_known_kind(kind):
    assert o.RequestStats(kind).kind == kind
    with pytest.raises(ValueError):
        o.RequestStats("groups")
