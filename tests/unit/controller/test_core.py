"""The controller core driven through a switch's life with no os-ken and no OVS:
connect, install, epoch, port down, port up, reconnect, restart, counters."""
from __future__ import annotations

import pytest

from controller import cookies
from controller import ops as o
from controller.core import FULL_FLOW_POLL, ControllerCore, FlowStat, MeterStat, PortStat, Settings
from controller.errors import ControllerError
from controller.fakeoftable import FakeDatapath
from controller.ofmsgs import to_message
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
    # a later reconnect: its install time runs from when its table was read
    install = "openisp_rule_install_seconds_sum"
    before = c.metrics.registry.get_sample_value(install, {"switch": "west"})
    c.connected(WEST, now=5)
    ops = c.flow_stats(WEST, held_by(c, WEST), False, now=5)[WEST]
    c.barrier_reply(WEST, ops[-1].token, now=5.5)
    assert c.metrics.registry.get_sample_value(install, {"switch": "west"}) - before == 0.5


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
    adopted = second.status.snapshot()["history"][-1]
    # in force since before this controller started: at time 0, like the first plan of a run
    assert (adopted["reason"], adopted["at"]) == ("adopted from the switches", 0.0)
    assert second.metrics.registry.get_sample_value("openisp_replans_total", {"reason": "adopted"}) == 1


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
    return_meter = next(m for (_, m), owner in owners.items() if owner == ("return", "e2-w2", 0))
    c.meter_stats(WEST, [MeterStat(demand_meter, 10, 12000, 3), MeterStat(floor_meter, 1, 100, 0),
                         MeterStat(return_meter, 7, 420, 2), MeterStat(999_999, 5, 5, 5)], now=5)
    c.port_stats(WEST, [PortStat(S.graph.link_port("west", "up-w").number, 1, 2, 3, 4),
                        PortStat(S.graph.host_port("w1").number, 5, 6, 7, 8)], now=5)
    demand_flow = next(f for f in plan.flows if f.meter_id == demand_meter)
    c.flow_stats(WEST, [FlowStat(1, demand_flow.priority, demand_flow.match, demand_flow.cookie, 40, 4000)], True, now=5)
    c.flow_stats(WEST, [FlowStat(1, demand_flow.priority, demand_flow.match, demand_flow.cookie, 2, 200)], False, now=5)
    counters = c.status.snapshot()["counters"]
    assert counters["demands"]["w1-e1"]["path 0 meter"] == {"packets_in": 10, "bytes_in": 12000, "dropped_packets": 3}
    assert counters["demands"]["w1-e1"]["classified"] == {"packets": 42, "bytes": 4200}
    assert counters["hosts"]["w1"]["floor meter"]["packets_in"] == 1
    # e2-w2's acknowledgements leave west through their own meter: not its traffic, not a path
    assert counters["demands"]["e2-w2"] == {"acknowledgements": {"packets_in": 7, "bytes_in": 420, "dropped_packets": 2}}
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


# --- the state machine in detail ---------------------------------------------------


def test_a_switch_goes_reading_installing_holding():
    c = core()
    c.connected(WEST, now=0)
    assert c.switches[WEST].phase == "reading" and c.status.snapshot()["switches"][str(WEST)]["connected"]
    assert c.flow_stats(WEST, [], True, now=0) == {}  # more to come: still reading
    assert c.switches[WEST].phase == "reading"
    ops = c.flow_stats(WEST, [], False, now=0)[WEST]
    st, plan = c.switches[WEST], c.current.rules.for_switch(WEST)
    assert (st.phase, st.pending, st.sent) == ("installing", ops[-1].token, plan)
    sw = c.status.snapshot()["switches"][str(WEST)]
    assert (sw["unchanged"], sw["added"], sw["removed"], sw["acknowledged"]) == (0, len(plan.flows), 0, False)
    c.barrier_reply(WEST, ops[-1].token, now=0)
    assert (st.phase, st.pending) == ("holding", None)
    assert c.status.snapshot()["switches"][str(WEST)]["rules"] == len(plan)


def test_every_barrier_the_core_waits_for_has_its_own_token():
    c = core(epoch_s=10)
    first = up(c, WEST)[-1].token
    moved = c.tick(now=10)[WEST]
    assert moved[-1].token and moved[-1].token != first
    c.barrier_reply(WEST, first, now=10)  # the install's barrier again: not this one
    assert not c.status.snapshot()["switches"][str(WEST)]["acknowledged"]
    c.barrier_reply(WEST, moved[-1].token, now=10)
    assert c.status.snapshot()["switches"][str(WEST)]["acknowledged"]
    c.disconnected(WEST, now=11)
    again = up(c, WEST, held_by(c, WEST))
    assert again[-1].token not in (None, first, moved[-1].token)
    assert c.status.snapshot()["switches"][str(WEST)]["acknowledged"]


def test_epochs_and_polls_fall_due_on_their_period_from_the_start():
    c = ControllerCore(S, make_planner(S, "market", "lmp"), Settings(epoch_s=30, stats_s=5), now=100)
    assert c.tick(now=130) == {} and c.epoch == 0  # no switch yet: nothing to move, nothing to poll
    c.connected(R1, now=131)  # reading: neither moved nor polled
    up(c, WEST)
    assert c.tick(now=131) == {} and c.tick(now=134.9) == {}
    full = [o.RequestStats("flows"), o.RequestStats("ports"), o.RequestStats("meters")]
    polls = [o.RequestStats("flows", "demand"), o.RequestStats("ports"), o.RequestStats("meters")]
    assert c.tick(now=135) == {WEST: full}
    assert c.tick(now=136) == {} and c.tick(now=140) == {WEST: polls}
    assert c.tick(now=159.9) == {WEST: polls} and c.epoch == 0  # the next poll is due at 164.9
    moved = c.tick(now=160)[WEST]
    assert c.epoch == 1 and not any(isinstance(op, o.RequestStats) for op in moved)
    assert c.tick(now=161) == {} and c.epoch == 1
    moved = c.tick(now=190)[WEST]
    assert c.epoch == 2 and moved[-3:] == polls
    assert [h["reason"] for h in c.status.snapshot()["history"]] == ["start", "epoch", "epoch"]


def test_a_poll_every_second_is_a_poll():
    c = core(stats_s=1)
    up(c, WEST)
    assert c.tick(now=0.5) == {} and set(c.tick(now=1)) == {WEST}
    assert core().tick(now=10**6) == {}  # neither epochs nor polls


def test_the_status_tells_each_demand_its_paths_rates_and_port_slices():
    c = core()
    snap = c.status.snapshot()
    assert snap["path_kbps"] == c.current.path_kbps and snap["path_kbps"]["w1-e1"]
    assert snap["source_port_slices"] == 64 and snap["allocated_kbps"] == c.current.allocated_kbps


def test_a_failed_clearing_says_which_epoch_it_kept_and_why():
    def flaky(epoch, down, scenario=None):
        if epoch == 2:
            raise ControllerError("market closed")
        return make_planner(S, "market", "lmp")(epoch, down)

    c = core(epoch_s=1, planner=flaky)
    up(c, WEST)
    c.tick(now=1)
    assert c.tick(now=2) == {} and c.epoch == 1
    assert c.status.snapshot()["notes"] == ["epoch 2 (epoch): kept epoch 1's plan: market closed"]


def test_links_going_down_and_up_are_the_reasons_of_their_plans():
    c = core()
    up(c, R1)
    port = S.graph.link_port("r1", "fast").number
    c.port_status(R1, port, True, now=1)
    c.port_status(R1, port, False, now=2)
    assert [(h["reason"], h["at"]) for h in c.status.snapshot()["history"]] == [
        ("start", 0.0), ("link fast down", 1), ("link fast up", 2)]  # and when: the run spares those seconds


def test_a_switch_still_being_read_does_not_stop_the_others_moving():
    c = core(epoch_s=5)
    c.connected(R1, now=0)  # first in line, and still reading
    up(c, WEST)
    assert set(c.tick(now=5)) == {WEST}


def test_a_restarted_controller_adopts_once_from_the_first_switch_that_kept_rules():
    first = core(epoch_s=10)
    up(first, WEST)
    up(first, R1)
    first.tick(now=10)
    held_w, held_r = held_by(first, WEST), held_by(first, R1)
    second = core(epoch_s=10)
    up(second, R2)  # fresh: nothing to adopt, but the choice is made
    ops = up(second, WEST, held_w)
    assert second.epoch == 0 and o.ClearAll() not in ops
    third = core(epoch_s=10)
    up(third, WEST, held_w)
    up(third, R1, held_r)
    assert third.epoch == 1


def test_a_restarted_controller_that_cannot_re_plan_the_switches_epoch_says_so():
    def first_epoch_only(epoch, down, scenario=None):
        if epoch:
            raise ControllerError("no bids")
        return make_planner(S, "market", "lmp")(epoch, down)

    first = core(epoch_s=10)
    up(first, WEST)
    first.tick(now=10)
    second = core(planner=first_epoch_only)
    ops = up(second, WEST, held_by(first, WEST))
    assert second.epoch == 0 and ops[-1].token
    assert second.status.snapshot()["notes"] == ["could not adopt the switches' epoch 1: no bids"]


def test_stats_of_a_switch_the_core_does_not_know_or_is_still_reading_are_ignored():
    c = core()
    c.connected(R1, now=0)
    assert c.meter_stats(R1, [MeterStat(1, 1, 1, 1)], now=0) == {}
    assert c.meter_stats(0xBEEF, [MeterStat(1, 1, 1, 1)], now=0) == {}
    assert c.port_stats(0xBEEF, [PortStat(1, 1, 1, 1, 1)], now=0) == {}
    assert c.flow_stats(0xBEEF, [FlowStat(0, 1, (), 0)], False, now=0) == {}
    assert c.disconnected(0xBEEF, now=0) == {}
    assert c.status.snapshot()["counters"] == {"demands": {}, "links": {}, "hosts": {}, "flow_kinds": {}}


def test_counters_skip_what_is_not_the_plans_and_keep_what_is():
    c = core()
    up(c, WEST)
    plan = c.current.rules.for_switch(WEST)
    demand_meter = next(m for (_, m), owner in plan.meter_owners.items() if owner[:2] == ("demand", "w1-e1"))
    c.meter_stats(WEST, [MeterStat(999_999, 5, 5, 5), MeterStat(demand_meter, 1, 2, 3)], now=5)
    c.port_stats(WEST, [PortStat(99, 9, 9, 9, 9), PortStat(S.graph.link_port("west", "up-w").number, 1, 2, 3, 4, 5, 6)],
                 now=5)
    counters = c.status.snapshot()["counters"]
    assert counters["demands"]["w1-e1"]["path 0 meter"] == {"packets_in": 1, "bytes_in": 2, "dropped_packets": 3}
    assert counters["links"]["up-w"]["west"] == {"rx_packets": 1, "tx_packets": 2, "rx_bytes": 3, "tx_bytes": 4,
                                                 "rx_dropped": 5, "tx_dropped": 6}


def test_classified_packets_are_counted_per_poll_by_kind_and_demand():
    from controller import cookies

    c = core()
    up(c, WEST)
    names = list(S.demand)
    stats = [FlowStat(1, 100, (), cookies.make("demand", 0, 1) | 0xABCD, 10, 1000),
             FlowStat(1, 10, (), cookies.make("floor", 0, 0), 3, 300),  # a host's index, not a demand's
             FlowStat(1, 100, (), cookies.make("demand", 0, len(names)), 4, 400),  # no such demand
             FlowStat(2, 100, (), cookies.make("label", 0, 16), 5, 500),
             FlowStat(1, 120, (), cookies.make("return", 0, 1), 6, 600)]  # its acknowledgements, not its traffic
    c.flow_stats(WEST, stats, False, now=5)
    c.flow_stats(WEST, stats[:1], False, now=10)  # the next poll counts afresh
    counters = c.status.snapshot()["counters"]
    assert counters["demands"] == {names[1]: {"classified": {"packets": 10, "bytes": 1000}}}
    assert counters["flow_kinds"]["west"]["packets"] == {"demand": 10}
    c.flow_stats(WEST, stats, False, now=15)
    assert c.status.snapshot()["counters"]["flow_kinds"]["west"]["packets"] == {"demand": 14, "floor": 3, "label": 5,
                                                                                "return": 6}


def test_every_tenth_poll_reads_every_flow_and_the_others_only_the_demands():
    c = core(stats_s=1)
    up(c, WEST)
    c.connected(R1, now=0)  # still reading: not polled
    asked = [c.tick(now=t)[WEST][0] for t in range(1, 23)]
    assert [op.cookie_kind for op in asked] == ([None] + ["demand"] * (FULL_FLOW_POLL - 1)) * 2 + [None, "demand"]
    msg = to_message(FakeDatapath(WEST), asked[1])
    assert (msg.cookie, msg.cookie_mask) == (cookies.make("demand"), cookies.KIND_MASK) == (0x05 << 56, 0xFF << 56)
    msg = to_message(FakeDatapath(WEST), asked[0])
    assert (msg.cookie, msg.cookie_mask) == (0, 0)
    with pytest.raises(ValueError, match="filters flows, by one of: shortest, arp, edge, spoof, demand, floor"):
        o.RequestStats("ports", "demand")
    with pytest.raises(ValueError, match="filters flows"):
        o.RequestStats("flows", "demands")


def test_a_poll_of_the_demands_flows_keeps_the_other_kinds_as_last_counted():
    c = core(stats_s=1)
    up(c, WEST)
    names = list(S.demand)
    demand = FlowStat(1, 100, (), cookies.make("demand", 0, 1), 10, 1000)
    others = [FlowStat(1, 10, (), cookies.make("floor", 0, 0), 3, 300),
              FlowStat(2, 100, (), cookies.make("label", 0, 16), 5, 500)]
    c.tick(now=1), c.tick(now=2)  # asked: every flow, then the demands' only
    c.flow_stats(WEST, [demand] + others, False, now=1)
    c.flow_stats(WEST, [demand._replace(packets=25, bytes=2500)], False, now=2)
    counters = c.status.snapshot()["counters"]
    assert counters["flow_kinds"]["west"]["packets"] == {"demand": 25, "floor": 3, "label": 5}
    assert counters["demands"][names[1]]["classified"] == {"packets": 25, "bytes": 2500}
    [c.tick(now=t) for t in range(3, 12)]  # asked: 8 polls of the demands' flows, then every flow
    for _ in range(FULL_FLOW_POLL - 2):
        c.flow_stats(WEST, [demand], False, now=5)
    assert c.status.snapshot()["counters"]["flow_kinds"]["west"]["packets"] == {"demand": 10, "floor": 3, "label": 5}
    c.flow_stats(WEST, [demand], False, now=11)  # every flow: the floor and label flows are gone
    assert c.status.snapshot()["counters"]["flow_kinds"]["west"]["packets"] == {"demand": 10}
    # a switch that joins late may be asked for the demands' flows before any full poll
    up(c, R1)
    assert [op.cookie_kind for op in c.tick(now=12)[R1] if isinstance(op, o.RequestStats) and op.kind == "flows"] == [
        "demand"]
    c.flow_stats(R1, [demand], False, now=12)
    assert c.status.snapshot()["counters"]["flow_kinds"]["r1"]["packets"] == {"demand": 10}


def test_a_refused_message_is_reported_with_the_switch_and_the_error():
    c = core()
    assert c.error(0x1F, 1, 2, now=0) == {}
    assert c.status.snapshot()["errors"] == ["switch 0x1f refused a message: type=1 code=2"]


def test_a_message_refused_before_the_handshake_names_the_switch_is_still_reported():
    c = core()
    assert c.error(None, 1, 2, now=0) == {}
    assert c.status.snapshot()["errors"] == ["a switch (during its handshake) refused a message: type=1 code=2"]


def test_a_move_cut_short_by_a_crash_leaves_nothing_that_blocks_the_next_one():
    """Killed after it sent the next epoch's meters and groups but before the flows: the
    switch keeps those strays; the successor reconciles, and its own move to that epoch
    clears their ids before adding (else the switch refuses: meter exists)."""
    from controller.fakeoftable import FakeOFTable

    from .fakeworld import apply

    first = core(epoch_s=10)
    table = FakeOFTable(WEST)
    apply(table, up(first, WEST))
    held = held_by(first, WEST)
    move = first.tick(now=10)[WEST]
    made = move[:next(i for i, op in enumerate(move) if isinstance(op, o.AddFlow))]
    assert any(isinstance(op, o.AddMeter) for op in made) and any(isinstance(op, o.AddGroup) for op in made)
    apply(table, made)  # ... and the controller dies
    second = core(epoch_s=10)
    apply(table, up(second, WEST, held))
    apply(table, second.tick(now=10)[WEST])
    plan = second.current.rules.for_switch(WEST)
    assert set(table.meters) == {m.meter_id for m in plan.meters}
    assert set(table.groups) == {g.group_id for g in plan.groups}
    assert len(table.flows) == len(plan.flows)
    after = second.tick(now=20)[WEST]  # and the move after is a plain one: nothing deleted first
    assert isinstance(after[0], (o.AddMeter, o.ModifyMeter, o.AddGroup, o.ModifyGroup, o.AddFlow)), after[:3]


def test_an_epoch_of_one_second_clears_once_a_second():
    c = core(epoch_s=1)
    up(c, WEST)
    c.tick(now=1)
    assert c.epoch == 1
    assert c.tick(now=1.5) == {} and c.epoch == 1
    c.tick(now=2)
    assert c.epoch == 2


def test_clear_now_closes_the_epoch_at_the_next_tick_and_restarts_the_period():
    c = core(epoch_s=30)
    up(c, WEST)
    c.clear_now(now=5)
    assert c.epoch == 0  # nothing happens before the tick
    c.tick(now=6)
    assert c.epoch == 1 and c.status.snapshot()["history"][-1]["reason"] == "epoch"
    assert c.tick(now=7) == {} and c.epoch == 1  # once, not every tick after
    c.tick(now=35)
    assert c.epoch == 1  # the period restarted at 6: the next epoch is due at 36
    c.tick(now=36)
    assert c.epoch == 2


def test_clear_now_works_with_epochs_off_and_waits_for_a_switch():
    c = core()  # epoch_s 0: never by the clock
    c.clear_now(now=1)
    assert c.tick(now=2) == {} and c.epoch == 0  # no switch yet: nothing to move
    up(c, WEST)
    c.tick(now=3)
    assert c.epoch == 1
    c.tick(now=10**6)
    assert c.epoch == 1


def test_each_plan_in_the_history_says_which_attachments_a_multihomed_host_uses():
    from controller.planner import attachment_kbps

    m = load_scenario("topologies/library/multihomed.yaml")
    c = ControllerCore(m, make_planner(m, "market", "lmp"), Settings(0.0, 0.0))
    (first,) = c.status.snapshot()["history"]
    # the phone's two demands both leave by its cell link: what the run checks the traffic against
    assert first["attachments_kbps"] == attachment_kbps(m, c.current) == {"video": {"ph-cell": 4000},
                                                                          "upload": {"ph-cell": 2000}}
