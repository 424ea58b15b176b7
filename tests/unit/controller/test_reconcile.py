from dataclasses import replace

from controller import cookies
from controller.market import clear_market
from controller.marketplan import market_plan
from controller.pathing import plan_paths
from controller.reconcile import held_epoch, reconcile
from controller.ruleplan import Bucket, FlowEntry, Group, GroupEntry, MeterEntry, Output, RulePlan, match
from topologies.loader import load_scenario

from .tiny import promptly

S = load_scenario("topologies/default.yaml")
PATHS = plan_paths(S, clear_market(S, "lmp"))


def held_from(plan):
    return {(f.table_id, f.priority, f.match): f.cookie for f in plan.flows}


def test_a_switch_holding_the_plan_needs_nothing():
    plan = market_plan(S, PATHS, epoch=3).for_switch(S.switch["mn1"].dpid)
    fix = reconcile(held_from(plan), plan)
    assert len(fix.unchanged) == len(plan.flows) and not fix.add.flows and not fix.stale
    assert held_epoch(held_from(plan)) == 3


def test_changed_allocation_reinstalls_the_flow_with_its_meter_and_groups():
    dpid = S.switch["mn1"].dpid
    old = market_plan(S, PATHS, epoch=0).for_switch(dpid)
    (path,) = PATHS.demands["ben-gus"]
    cut = replace(PATHS, demands={**PATHS.demands, "ben-gus": (replace(path, kbps=1000),)},
                  allocated_kbps={**PATHS.allocated_kbps, "ben-gus": 1000})
    new = market_plan(S, cut, epoch=0).for_switch(dpid)
    fix = reconcile(held_from(old), new)
    assert [f.meter_id for f in fix.add.flows] == [m.meter_id for m in fix.add.meters]
    assert [m.rate_kbps for m in fix.add.meters] == [1000]
    assert fix.add.groups  # the demand's failover group comes with it
    assert len(fix.unchanged) == len(new.flows) - 1


def test_every_flow_using_a_replaced_meter_or_group_is_reinstalled():
    # A switch deletes the flows that use a meter or group it deletes: flows
    # sharing a replaced meter must come back even though they did not change.
    from controller.ruleplan import FlowEntry, Group, GroupEntry, MeterEntry, Output, RulePlan, match

    meter, group = MeterEntry(1, 5, 100), GroupEntry(1, 9, "ff", ())
    a = FlowEntry(1, 100, match(ipv4_dst="198.18.0.1"), (Group(9),), meter_id=5, cookie=1)
    b = FlowEntry(1, 110, match(ipv4_dst="198.18.0.1", ip_proto=17), (Group(9),), meter_id=5, cookie=2)
    c = FlowEntry(1, 100, match(ipv4_dst="198.18.0.2"), (Output(1),), cookie=3)
    plan = RulePlan(flows=(a, b, c), groups=(group,), meters=(meter,))
    held = {(0, 100, a.match): 99, (0, 110, b.match): 2, (0, 100, c.match): 3}  # only a changed
    fix = reconcile(held, plan)
    assert set(fix.add.flows) == {a, b} and fix.unchanged == [c]
    assert fix.add.meters == (meter,) and fix.add.groups == (group,)


def test_flows_the_plan_no_longer_has_are_stale():
    dpid = S.switch["mn1"].dpid
    plan = market_plan(S, PATHS).for_switch(dpid)
    held = held_from(plan)
    held[(1, 100, (("ipv4_dst", "198.18.200.1"),))] = 1
    assert reconcile(held, plan).stale == [(1, 100, (("ipv4_dst", "198.18.200.1"),))]
    assert reconcile({}, plan).add.flows == plan.flows


# --- small hand-checked plans ----------------------------------------------------

def entry(n: int, actions=(), meter_id=None, table_id=1, priority=100) -> FlowEntry:
    return FlowEntry(1, priority, match(ipv4_dst=f"198.18.0.{n}"), actions, table_id, meter_id=meter_id, cookie=n)


def keyed(*flows, cookie=None) -> dict:
    return {(f.table_id, f.priority, f.match): f.cookie if cookie is None else cookie for f in flows}


def test_the_epoch_held_is_the_one_most_flows_carry():
    held = {(0, 1, ()): cookies.make("edge", 3), (0, 2, ()): cookies.make("core", 3) | 0xFFFF,
            (0, 3, ()): cookies.make("demand", 2, 5)}
    assert held_epoch(held) == 3
    assert held_epoch({(0, 1, ()): cookies.make("arp", 9)}) == 9
    assert held_epoch({}) is None


def test_a_changed_flow_brings_its_nested_groups_and_every_flow_using_them():
    inner = GroupEntry(1, 2, "indirect", (Bucket((Output(5),)),))
    outer = GroupEntry(1, 1, "ff", (Bucket((Group(2),), watch_port=2), Bucket((Output(3),), watch_port=3)))
    spare = GroupEntry(1, 3, "indirect", (Bucket((Output(6),)),))
    a, b, c = entry(1, (Group(1),)), entry(2, (Group(2),)), entry(3, (Group(3),))
    plan = RulePlan(flows=(a, b, c), groups=(outer, inner, spare), epoch=4)
    fix = promptly(reconcile, {**keyed(b, c), **keyed(a, cookie=99)}, plan)
    assert fix.add == RulePlan(flows=(a, b), groups=(outer, inner), epoch=4)
    assert fix.unchanged == [c] and fix.stale == []
    # only the inner group's user changed: replacing the inner group takes the outer one's user too
    fix = promptly(reconcile, {**keyed(a, c), **keyed(b, cookie=99)}, plan)
    assert fix.add == RulePlan(flows=(a, b), groups=(outer, inner), epoch=4) and fix.unchanged == [c]
    # only the outer group's user changed: the inner group comes with it
    fix = promptly(reconcile, {**keyed(b, c), **keyed(a, cookie=99)}, RulePlan(flows=(a, c), groups=(outer, inner, spare)))
    assert fix.add == RulePlan(flows=(a,), groups=(outer, inner)) and fix.unchanged == [c]


def test_sharing_spreads_through_meters_and_groups_until_nothing_more_changes():
    # a changed; b shares its meter; c shares b's group; d shares nothing
    meter, other = MeterEntry(1, 7, 1000), MeterEntry(1, 8, 500)
    group = GroupEntry(1, 4, "ff", (Bucket((Output(2),), watch_port=2),))
    a, b = entry(1, (Output(1),), meter_id=7), entry(2, (Group(4),), meter_id=7)
    c, d = entry(3, (Group(4),), meter_id=8), entry(4, (Output(1),))
    plan = RulePlan(flows=(d, c, b, a), groups=(group,), meters=(other, meter))
    fix = promptly(reconcile, {**keyed(b, c, d), **keyed(a, cookie=0)}, plan)
    assert fix.add == RulePlan(flows=(c, b, a), groups=(group,), meters=(other, meter))
    assert fix.unchanged == [d]


def test_a_group_that_refers_to_itself_or_is_missing_is_harmless():
    loop = GroupEntry(1, 1, "all", (Bucket((Group(1),)), Bucket((Group(9),))))
    a, b = entry(1, (Group(1),)), entry(2, (Group(9),))
    fix = promptly(reconcile, keyed(b), RulePlan(flows=(a, b), groups=(loop,)))
    assert fix.add == RulePlan(flows=(a,), groups=(loop,)) and fix.unchanged == [b]


def test_a_meter_the_plan_does_not_hold_is_not_replaced_and_drags_nothing_in():
    a, b = entry(1, meter_id=5), entry(2, meter_id=5)
    fix = promptly(reconcile, keyed(b), RulePlan(flows=(a, b)))
    assert fix.add == RulePlan(flows=(a,)) and fix.unchanged == [b]


def test_flows_are_told_apart_by_table_priority_and_match():
    a = entry(1, (Output(1),))
    for held in (keyed(a), {(a.table_id, a.priority, a.match): a.cookie}):
        assert promptly(reconcile, held, RulePlan(flows=(a,))).unchanged == [a]
    elsewhere = {(0, 100, a.match): a.cookie, (1, 99, a.match): a.cookie, (1, 100, match()): a.cookie}
    fix = promptly(reconcile, elsewhere, RulePlan(flows=(a,)))
    assert fix.add.flows == (a,) and fix.unchanged == [] and fix.stale == list(elsewhere)


def test_every_changed_flow_brings_its_own_meter_and_group():
    m1, m2 = MeterEntry(1, 1, 100), MeterEntry(1, 2, 200)
    g1, g2 = GroupEntry(1, 1, "ff", (Bucket((Output(1),)),)), GroupEntry(1, 2, "ff", (Bucket((Output(2),)),))
    a, b, c = entry(1, (Group(1),), meter_id=1), entry(2, (Group(2),), meter_id=2), entry(3, (Output(3),))
    fix = promptly(reconcile, keyed(c), RulePlan(flows=(a, b, c), groups=(g1, g2), meters=(m1, m2)))
    assert fix.add == RulePlan(flows=(a, b), groups=(g1, g2), meters=(m1, m2)) and fix.unchanged == [c]
