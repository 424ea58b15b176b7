from dataclasses import replace

from controller.market import clear_market
from controller.marketplan import market_plan
from controller.pathing import plan_paths
from controller.reconcile import held_epoch, reconcile
from topologies.loader import load_scenario

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
