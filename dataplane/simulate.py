"""A flow-level simulator: what a run would measure, predicted without emulation or root.

The plan is the one the controller would install (:func:`controller.planner.build_plan`),
put into fake OpenFlow switches as the messages it would send
(:mod:`controller.fakeoftable`, :mod:`controller.fakenet`).  The traffic is the one
``openisp run`` would offer (:func:`dataplane.traffic_phase.offered_rates`), split into
the same flows with the same source ports (:func:`dataplane.measure.demand_flows`).
Each flow is walked through the switches: every branch of every select group it may
take (with the share the group's weights give it), the meters it meets and the links
it crosses.  Then the rates are shared max-min fairly: every meter, every link
direction and every host's access link is a capacity, every branch wants its share
of its flow's rate, and the smallest fair share is given out first (progressive
filling).  What a demand receives is the sum of its branches; what a meter drops is
what reaches it (from flows it sees first on their way, as an ingress meter does)
less what passes it.

The model is a fluid one: a policer is a capacity (no bursts), a link shares max-min
(a real queue shares in proportion to what arrives), and what a demand sends over its
meters is not counted on the links before the meter that cuts it.  Rates are the
emulated ones (``emulation.scale``), as a run reports them.

>>> max_min({"a": 5, "b": 5, "c": 1}, {"a": ["x"], "b": ["x", "y"], "c": ["y"]}, {"x": 6, "y": 4})
{'a': 3.0, 'b': 3.0, 'c': 1.0}
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from topologies.model import Scenario

__all__ = ["Branch", "Simulation", "max_min", "simulate"]

#: Below this many kbps a capacity counts as full, a want as met.
EPSILON = 1e-6


def max_min(wants: dict, uses: dict, capacity: dict) -> dict:
    """Max-min fair rates: each key of ``wants`` gets at most its want, and the keys using a
    resource (``uses[key]``, a list of keys of ``capacity``) share its capacity; the
    smallest fair share is given first (progressive filling)."""
    rate = {k: 0.0 for k in wants}
    active = {k for k, w in wants.items() if w > EPSILON}
    users: dict = {}
    for k in active:
        for r in set(uses.get(k, ())):
            users.setdefault(r, set()).add(k)
    left = {r: float(capacity[r]) for r in users}
    rounds = len(active) + len(users) + 1  # each round meets a want or fills a resource
    while active:
        rounds -= 1
        if rounds < 0:
            raise ArithmeticError("max-min sharing did not settle: a want or a capacity is not a finite number")
        step = min([(wants[k] - rate[k]) for k in active]
                   + [left[r] / len(ks) for r, ks in users.items() if ks])
        step = max(step, 0.0)
        for k in active:
            rate[k] += step
        full = set()
        for r, ks in users.items():
            if ks:
                left[r] -= step * len(ks)
                if left[r] <= EPSILON * max(1.0, capacity[r]):
                    full.add(r)
        done = {k for k in active if wants[k] - rate[k] <= EPSILON}
        for r in full:
            done |= users[r]
        active -= done
        for ks in users.values():
            ks -= done
    return rate


@dataclass(frozen=True)
class Branch:
    """One way a flow may go: its share of the flow, the meters and link directions on it,
    and how it ends (``delivered:HOST`` or why not)."""

    demand: str
    flow: int
    share: Fraction
    meters: tuple[tuple[int, int], ...]
    links: tuple[tuple[str, int], ...]
    outcome: str


@dataclass
class Simulation:
    """The prediction, in emulated kbps: per demand offered and received, per link direction
    the load, per meter what reaches it and what it passes; the branches behind them."""

    offered: dict[str, int]
    received: dict[str, float]
    allocated: dict[str, int]
    allocated_real: dict[str, int]
    paths: dict[str, list[list[str]]]
    link_load: dict[tuple[str, str, str], float]
    meters: dict[tuple[int, int], dict]
    branches: list[Branch] = field(default_factory=list)
    undelivered: dict[str, float] = field(default_factory=dict)


def fake_network(scenario: Scenario, rules):
    """The scenario's switches holding ``rules`` (a :class:`~controller.ruleplan.RulePlan`), as the
    controller's messages for a switch that held nothing would leave them."""
    from controller.fakenet import network_from_messages, scenario_wiring
    from controller.fakeoftable import FakeDatapath
    from controller.ofmsgs import to_messages
    from controller.ops import transition_ops
    from controller.ruleplan import RulePlan

    messages = [(s.dpid, [m for _, m in to_messages(FakeDatapath(s.dpid), transition_ops(
        RulePlan(), rules.for_switch(s.dpid), 1))]) for s in scenario.switches]
    return network_from_messages(messages, scenario_wiring(scenario))


def _packet(flow) -> dict:
    proto, src, dst = (6, "tcp_src", "tcp_dst") if flow.protocol == "tcp" else (17, "udp_src", "udp_dst")
    return {"eth_src": flow.src_mac, "eth_dst": flow.dst_mac, "eth_type": 0x0800, "ipv4_src": flow.src_ip,
            "ipv4_dst": flow.dst_ip, "ip_proto": proto, src: flow.src_port, dst: flow.dst_port}


def trace_flows(scenario: Scenario, net, flows) -> list[Branch]:
    """Every branch of every flow, through the fake network ``net``."""
    branches = []
    for i, f in enumerate(flows):
        port = scenario.graph.host_port(f.src_host)
        for t in net.walk_all(scenario.switch[port.switch].dpid, port.number, _packet(f)):
            branches.append(Branch(f.demand, i, t.share, tuple(t.meters), tuple(t.links), t.outcome))
    return branches


def simulate(scenario: Scenario, plan: str = "market", mechanism: str | None = None,
             flows_per_demand: int | None = None, epoch_plan=None) -> Simulation:
    """Predict the steady state of ``openisp run``'s traffic on ``scenario``."""
    from controller.planner import build_plan

    from .measure import FLOWS_PER_DEMAND, demand_flows
    from .traffic_phase import offered_rates

    ep = epoch_plan or build_plan(scenario, plan, mechanism, 0, frozenset())
    market = plan == "market"
    allocated = dict(ep.allocated_kbps)
    offered = offered_rates(scenario, list(scenario.demands), allocated, market)
    split = {d for d, p in ep.path_kbps.items() if len(p) > 1}
    slices = ep.source_port_slices or FLOWS_PER_DEMAND
    flows = demand_flows(scenario, offered, 1.0, lambda d: flows_per_demand or scenario.traffic_of(d).flows or (
        slices if d in split else FLOWS_PER_DEMAND))
    net = fake_network(scenario, ep.rules)
    branches = trace_flows(scenario, net, flows)
    emulate = scenario.emulation.emulated_kbps
    capacity: dict = {}
    for link in scenario.links:
        for end in (link.a, link.b):
            capacity[("link", link.id, end)] = emulate(link.capacity_kbps)
    for host in scenario.hosts:
        capacity[("up", host.name)] = capacity[("down", host.name)] = emulate(host.access_kbps)
    for (dpid, meter_id) in {m for b in branches for m in b.meters}:
        capacity[("meter", dpid, meter_id)] = net.tables[dpid].meters[meter_id].rate
    wants, uses = {}, {}
    for n, b in enumerate(branches):
        f = flows[b.flow]
        wants[n] = float(f.rate_kbps * b.share)
        use = [("up", f.src_host), *(("meter", d, m) for d, m in b.meters),
               *(("link", link, scenario.switch_by_dpid[dpid].name) for link, dpid in b.links)]
        if b.outcome == f"delivered:{f.dst_host}":
            use.append(("down", f.dst_host))
        uses[n] = use
    rate = max_min(wants, uses, capacity)
    received = {d.id: 0.0 for d in scenario.demands if d.id in offered}
    undelivered: dict[str, float] = {}
    load: dict = {}
    reaching: dict = {}
    passing: dict = {}
    for n, b in enumerate(branches):
        f = flows[b.flow]
        if b.outcome == f"delivered:{f.dst_host}":
            received[b.demand] += rate[n]
        elif rate[n] > EPSILON:
            undelivered[b.demand] = undelivered.get(b.demand, 0.0) + rate[n]
        for link, dpid in b.links:
            name = scenario.switch_by_dpid[dpid].name
            far = scenario.link[link].b if scenario.link[link].a == name else scenario.link[link].a
            load[(link, name, far)] = load.get((link, name, far), 0.0) + rate[n]
        for k, m in enumerate(b.meters):
            passing[m] = passing.get(m, 0.0) + rate[n]
            if k == 0:  # the first meter on its way sees all it sends
                reaching[m] = reaching.get(m, 0.0) + wants[n]
    meters = {}
    for m in sorted(passing):
        owner = ep.rules.meter_owners.get(m)
        meters[m] = {"rate_kbps": capacity[("meter", *m)], "reaching_kbps": reaching.get(m, passing[m]),
                     "passed_kbps": passing[m], "dropped_kbps": max(0.0, reaching.get(m, passing[m]) - passing[m]),
                     "owner": list(owner) if owner else None}
    return Simulation(offered, received, {d: emulate(k) for d, k in allocated.items()}, allocated, dict(ep.paths),
                      load, meters, branches, undelivered)
