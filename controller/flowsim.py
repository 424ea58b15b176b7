"""A fake OpenFlow 1.3 network: replay a :class:`RulePlan` on a scenario in pure Python.

Forwarding is tested without OVS or root: a packet (a dict of match fields) is
injected at a host and walked switch by switch through the plan's tables,
meters, groups and label actions until it reaches a host, is dropped, goes to
the controller or loops.

>>> from topologies.loader import load_scenario
>>> from controller.shortest import shortest_path_plan
>>> s = load_scenario("topologies/default.yaml")
>>> t = walk(s, shortest_path_plan(s), "h1", ipv4_packet(s, "h1", "h4"))
>>> t.outcome, t.switches
('delivered:h4', ['mn1', 'lk1'])
"""
from __future__ import annotations

from dataclasses import dataclass, field

from topologies.model import Scenario

from .ruleplan import (
    ETH_TYPE_IP, ETH_TYPE_MPLS, FlowEntry, Group, Output, PopMpls, PushMpls, PushVlan, PopVlan, RulePlan,
    SetField, ToController,
)

MAX_HOPS = 64


class PlanError(Exception):
    """The plan is ambiguous or refers to something that does not exist."""


def ipv4_packet(scenario: Scenario, src: str, dst: str, **overrides) -> dict:
    """An IPv4 packet from host ``src`` to host ``dst`` as its sender would build it."""
    s, d = scenario.host[src], scenario.host[dst]
    return {"eth_src": s.mac, "eth_dst": d.mac, "eth_type": ETH_TYPE_IP, "ipv4_src": str(s.ip),
            "ipv4_dst": str(d.ip), **overrides}


@dataclass
class Trace:
    """Where a packet went: switches crossed, meters met, flows hit, and how it ended."""

    switches: list[str] = field(default_factory=list)
    meters: list[tuple[str, int]] = field(default_factory=list)
    flows: list[FlowEntry] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    outcome: str = ""


class FakeNetwork:
    """The plan's entries indexed per switch and table, plus the scenario's wiring."""

    def __init__(self, scenario: Scenario, plan: RulePlan):
        self.scenario = scenario
        self.tables: dict[tuple[int, int], list[FlowEntry]] = {}
        for f in plan.flows:
            self.tables.setdefault((f.dpid, f.table_id), []).append(f)
        self.groups = {(g.dpid, g.group_id): g for g in plan.groups}
        self.meters = {(m.dpid, m.meter_id): m for m in plan.meters}
        self.peer: dict[tuple[str, int], tuple[str, str, str]] = {}  # (switch, port) -> (kind, name, link id)
        for (sw, neighbour), port in scenario.ports.items():
            if neighbour in scenario.host:
                self.peer[(sw, port)] = ("host", neighbour, "")
            else:
                self.peer[(sw, port)] = ("switch", scenario.link[neighbour].other_end(sw), neighbour)

    def lookup(self, dpid: int, table: int, packet: dict) -> FlowEntry | None:
        hits = [f for f in self.tables.get((dpid, table), ()) if all(packet.get(k) == v for k, v in f.match)]
        if not hits:
            return None
        best = max(f.priority for f in hits)
        top = [f for f in hits if f.priority == best]
        if len(top) > 1:
            raise PlanError(f"dpid {dpid} table {table}: {len(top)} flows of priority {best} match {packet}")
        return top[0]


def _apply(net: FakeNetwork, dpid: int, actions, packet: dict, down: set[str], select: int, sw: str,
           outputs: list[int], trace: Trace) -> None:
    for a in actions:
        if isinstance(a, Output):
            outputs.append(a.port)
        elif isinstance(a, ToController):
            outputs.append(-1)
        elif isinstance(a, PushMpls):
            packet.setdefault("_stack", []).append(packet.get("mpls_label"))
            packet["eth_type"] = ETH_TYPE_MPLS
            packet["mpls_label"] = 0
        elif isinstance(a, PopMpls):
            stack = packet.get("_stack") or [None]
            packet["mpls_label"] = stack.pop()
            if packet["mpls_label"] is None:
                packet.pop("mpls_label")
            packet["eth_type"] = a.ethertype
        elif isinstance(a, SetField):
            packet[a.field] = a.value
            if a.field == "mpls_label":
                trace.labels.append(a.value)
        elif isinstance(a, (PushVlan, PopVlan)):
            packet["vlan_vid"] = None if isinstance(a, PopVlan) else 0
        elif isinstance(a, Group):
            group = net.groups.get((dpid, a.group_id))
            if group is None:
                raise PlanError(f"{sw}: group {a.group_id} does not exist")
            if group.type == "ff":
                live = [b for b in group.buckets if b.watch_port is None or not _port_down(net, sw, b.watch_port, down)]
                if not live:
                    return  # every watched port is down: dropped
                bucket = live[0]
            elif group.type == "select":
                bucket = group.buckets[select % len(group.buckets)]
            else:
                raise PlanError(f"{sw}: group type {group.type} is not simulated")
            _apply(net, dpid, bucket.actions, packet, down, select, sw, outputs, trace)


def _port_down(net: FakeNetwork, sw: str, port: int, down: set[str]) -> bool:
    kind, _, link = net.peer.get((sw, port), ("", "", ""))
    return kind == "switch" and link in down


def walk(scenario: Scenario, plan: RulePlan | FakeNetwork, src_host: str, packet: dict,
         down_links: set[str] | frozenset = frozenset(), select: int = 0) -> Trace:
    """Inject ``packet`` at ``src_host`` and follow it; ``select`` picks select-group buckets."""
    net = plan if isinstance(plan, FakeNetwork) else FakeNetwork(scenario, plan)
    packet = dict(packet)
    trace = Trace()
    host = scenario.host[src_host]
    sw, in_port = host.switch, scenario.ports[(host.switch, host.name)]
    for _ in range(MAX_HOPS):
        trace.switches.append(sw)
        dpid = scenario.switch[sw].dpid
        packet["in_port"] = in_port
        table, outputs = 0, []
        while table is not None:
            flow = net.lookup(dpid, table, packet)
            if flow is None:
                trace.outcome = f"dropped:{sw}:table-miss:{table}"
                return trace
            trace.flows.append(flow)
            if flow.meter_id is not None:
                if (dpid, flow.meter_id) not in net.meters:
                    raise PlanError(f"{sw}: meter {flow.meter_id} does not exist")
                trace.meters.append((sw, flow.meter_id))
            _apply(net, dpid, flow.actions, packet, set(down_links), select, sw, outputs, trace)
            table = flow.goto_table
        if not outputs:
            trace.outcome = f"dropped:{sw}"
            return trace
        if outputs[0] == -1:
            trace.outcome = f"controller:{sw}"
            return trace
        kind, name, link = net.peer[(sw, outputs[0])]
        if kind == "host":
            trace.outcome = f"delivered:{name}"
            return trace
        if link in down_links:
            trace.outcome = f"dropped:{sw}:link-down:{link}"
            return trace
        in_port = scenario.ports[(name, link)]
        sw = name
    trace.outcome = "loop"
    return trace
