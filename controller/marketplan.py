"""The rule plan that enforces the market's allocation, as pure data.

Tables (OpenFlow 1.3):

=====  ==========================================================================
table  what it does
=====  ==========================================================================
0      ARP to the controller; edge ports: the attached host's own MAC and IPv4
       source go on to table 1, anything else is dropped and counted
       (anti-spoofing); link ports: MPLS to table 2, plain IPv4 to table 3
1      ingress classification, on the source host's switch: each served demand
       (IPv4 src, dst) is metered at its allocated rate (drop above; times
       ``emulation.scale``, like the links) and sent to
       its group: fast failover (primary, backup) per path, under a select group
       weighted by kbps when the demand has several paths; every other packet of
       the host is metered at the universal-service floor and routed best effort
2      label switching: forward on the MPLS label; the last switch pops it
3      best effort: IPv4 destination routes along shortest paths (and the last
       hop of labelled traffic, after the pop)
=====  ==========================================================================

Meter and group ids carry the epoch's parity (ids of even epochs below
:data:`EPOCH_STRIDE`, odd ones above), so the next epoch's meters and groups can
be installed beside the current ones before the old are removed.

>>> from topologies.loader import load_scenario
>>> from controller.market import clear_market
>>> from controller.pathing import plan_paths
>>> s = load_scenario("topologies/default.yaml")
>>> plan = market_plan(s, plan_paths(s, clear_market(s, "lmp")))
>>> sorted({f.table_id for f in plan.flows})
[0, 1, 2, 3]
"""
from __future__ import annotations

from topologies.model import Scenario

from . import cookies
from .pathing import PathPlan, Route
from .ruleplan import (
    ETH_TYPE_ARP, ETH_TYPE_IP, ETH_TYPE_MPLS, Bucket, FlowEntry, Group, GroupEntry, MeterEntry, Output,
    PopMpls, PushMpls, RulePlan, SetField, ToController, match,
)
from .shortest import host_routes

TABLE_EDGE, TABLE_CLASSIFY, TABLE_LABEL, TABLE_ROUTE = 0, 1, 2, 3
EPOCH_STRIDE = 100_000
FLOOR_METER_BASE = 50_000
#: A meter's burst: 100 ms of its rate (at least one full packet), so short bursts pass.
BURST_MS = 100


def _ids(epoch: int) -> int:
    return (epoch % 2) * EPOCH_STRIDE


def _burst(kbps: int) -> int:
    return max(kbps * BURST_MS // 1000, 16)


def emulated_kbps(scenario: Scenario, kbps: int) -> int:
    """A real rate as the emulation carries it (``emulation.scale``), as the links are shaped."""
    return max(1, round(kbps * scenario.emulation.scale))


def _first_hop(scenario: Scenario, route: Route) -> int:
    return scenario.ports[(route.switches[0], route.links[0])]


def _push(route: Route, port: int) -> tuple:
    return (PushMpls(), SetField("mpls_label", route.label), Output(port))


def edge_flows(scenario: Scenario, epoch: int) -> list[FlowEntry]:
    flows = []
    for sw in scenario.switches:
        flows.append(FlowEntry(sw.dpid, 300, match(eth_type=ETH_TYPE_ARP), (ToController(),), TABLE_EDGE,
                               cookie=cookies.make("arp", epoch)))
    for i, h in enumerate(scenario.hosts):
        dpid, port = scenario.switch[h.switch].dpid, scenario.ports[(h.switch, h.name)]
        flows.append(FlowEntry(dpid, 200, match(in_port=port, eth_src=h.mac, eth_type=ETH_TYPE_IP, ipv4_src=str(h.ip)),
                               (), TABLE_EDGE, goto_table=TABLE_CLASSIFY, cookie=cookies.make("edge", epoch, i)))
        flows.append(FlowEntry(dpid, 150, match(in_port=port), (), TABLE_EDGE, cookie=cookies.make("spoof", epoch, i)))
    for link in scenario.links:
        for end in (link.a, link.b):
            dpid, port = scenario.switch[end].dpid, scenario.ports[(end, link.id)]
            flows.append(FlowEntry(dpid, 100, match(in_port=port, eth_type=ETH_TYPE_MPLS), (), TABLE_EDGE,
                                   goto_table=TABLE_LABEL, cookie=cookies.make("core", epoch)))
            flows.append(FlowEntry(dpid, 90, match(in_port=port, eth_type=ETH_TYPE_IP), (), TABLE_EDGE,
                                   goto_table=TABLE_ROUTE, cookie=cookies.make("core", epoch)))
    return flows


def route_flows(scenario: Scenario, epoch: int, down: frozenset[str] = frozenset()) -> list[FlowEntry]:
    """Best-effort IPv4 destination routes on every switch (table 3), around links that are down."""
    return [FlowEntry(sw.dpid, 100, match(eth_type=ETH_TYPE_IP, ipv4_dst=str(host.ip)), (Output(port),),
                      TABLE_ROUTE, cookie=cookies.make("route", epoch, i))
            for i, host, sw, port in host_routes(scenario, down)]


def label_flows(scenario: Scenario, paths: PathPlan, epoch: int) -> list[FlowEntry]:
    """Forward on the label at every switch a route crosses; pop at its last switch."""
    flows = []
    for route in paths.routes():
        for hop, sw in enumerate(route.switches):
            dpid = scenario.switch[sw].dpid
            m = match(eth_type=ETH_TYPE_MPLS, mpls_label=route.label)
            cookie = cookies.make("label", epoch, route.label)
            if hop == len(route.switches) - 1:
                flows.append(FlowEntry(dpid, 100, m, (PopMpls(ETH_TYPE_IP),), TABLE_LABEL, goto_table=TABLE_ROUTE,
                                       cookie=cookie))
            elif hop > 0:
                port = scenario.ports[(sw, route.links[hop])]
                flows.append(FlowEntry(dpid, 100, m, (Output(port),), TABLE_LABEL, cookie=cookie))
    return flows


def demand_rules(scenario: Scenario, paths: PathPlan, epoch: int):
    """Meters, groups and classification flows of every served demand."""
    flows, groups, meters = [], [], []
    base = _ids(epoch)
    demand_index = {d.id: i for i, d in enumerate(scenario.demands)}
    for demand in scenario.demands:
        kbps = paths.allocated_kbps.get(demand.id, 0)
        if kbps <= 0:
            continue
        i = demand_index[demand.id]
        src, dst = scenario.host[demand.src], scenario.host[demand.dst]
        dpid = scenario.switch[src.switch].dpid
        meter_id = base + i + 1
        rate = emulated_kbps(scenario, kbps)
        meters.append(MeterEntry(dpid, meter_id, rate, _burst(rate)))
        m = match(eth_type=ETH_TYPE_IP, ipv4_src=str(src.ip), ipv4_dst=str(dst.ip))
        cookie = cookies.make("demand", epoch, i)
        if src.switch == dst.switch:  # neighbours on one switch: straight to the host
            actions = (Output(scenario.ports[(dst.switch, dst.name)]),)
        else:
            path_groups = []
            for j, p in enumerate(paths.demands[demand.id]):
                gid = base + 1000 * (j + 1) + i + 1
                buckets = [Bucket(_push(p.primary, _first_hop(scenario, p.primary)), watch_port=_first_hop(scenario, p.primary))]
                if p.backup is not None:
                    buckets.append(Bucket(_push(p.backup, _first_hop(scenario, p.backup)),
                                          watch_port=_first_hop(scenario, p.backup)))
                groups.append(GroupEntry(dpid, gid, "ff", tuple(buckets)))
                path_groups.append((gid, p.kbps))
            if len(path_groups) == 1:
                actions = (Group(path_groups[0][0]),)
            else:
                gid = base + i + 1
                groups.append(GroupEntry(dpid, gid, "select", tuple(Bucket((Group(g),), weight=w) for g, w in path_groups)))
                actions = (Group(gid),)
        flows.append(FlowEntry(dpid, 100, m, actions, TABLE_CLASSIFY, meter_id=meter_id, cookie=cookie))
    return flows, groups, meters


def floor_rules(scenario: Scenario, epoch: int):
    """Every host's other traffic: metered at the universal-service floor, routed best effort."""
    flows, meters = [], []
    floor = scenario.market.universal_floor_kbps
    for i, h in enumerate(scenario.hosts):
        dpid = scenario.switch[h.switch].dpid
        meter_id = None
        if floor > 0:
            meter_id = _ids(epoch) + FLOOR_METER_BASE + i + 1
            rate = emulated_kbps(scenario, floor)
            meters.append(MeterEntry(dpid, meter_id, rate, _burst(rate)))
        flows.append(FlowEntry(dpid, 10, match(eth_type=ETH_TYPE_IP, ipv4_src=str(h.ip)), (), TABLE_CLASSIFY,
                               meter_id=meter_id, goto_table=TABLE_ROUTE, cookie=cookies.make("floor", epoch, i)))
    return flows, meters


def market_plan(scenario: Scenario, paths: PathPlan, epoch: int = 0, down: frozenset[str] = frozenset()) -> RulePlan:
    """Everything every switch should hold to enforce ``paths`` in ``epoch``; ``down`` links carry nothing."""
    d_flows, groups, d_meters = demand_rules(scenario, paths, epoch)
    f_flows, f_meters = floor_rules(scenario, epoch)
    flows = [*edge_flows(scenario, epoch), *d_flows, *f_flows, *label_flows(scenario, paths, epoch),
             *route_flows(scenario, epoch, down)]
    plan = RulePlan(flows=tuple(flows), groups=tuple(groups), meters=tuple(d_meters + f_meters), epoch=epoch)
    return cookies.seal(plan)
