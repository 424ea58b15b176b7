"""A flow-level simulator: what a run would measure, predicted without emulation or root.

The controller's own core (:class:`controller.core.ControllerCore`) runs in simulated
time, and fake OpenFlow switches (:mod:`controller.fakeoftable`, :mod:`controller.fakenet`)
apply the messages it sends, as they would arrive from os-ken.  The traffic is the one
``openisp run`` would offer (:func:`dataplane.traffic_phase.offered_rates`), split into
the same flows with the same source ports (:func:`dataplane.measure.demand_flows`).
Each flow is walked through the switches: every branch of every select group it may
take (with the share the group's weights give it), the meters it meets and the links
it crosses, with the links that are down.  Then the rates are shared max-min fairly:
every meter, every link direction and every host's access link is a capacity, every
branch wants its share of its flow's rate, and the smallest fair share is given out
first (progressive filling).  What a demand receives is the sum of its branches; what
a meter drops is what reaches it (from flows it sees first on their way, as an ingress
meter does) less what passes it.

The scenario's timeline is played in simulated time: a link event is the two port
statuses the switches would send, a market event is due at its second (the core
re-plans at once: a run's re-plan takes about 0.1 s more), and each stretch between
two changes (an event, a demand starting or stopping, an on/off pattern turning) is
shared on its own.  The market is not cleared again every epoch in simulated time
(with the same offers and bids, it would give the same plan).

The model is a fluid one: a policer is a capacity (no bursts), a link shares max-min
(a real queue shares in proportion to what arrives), and what a demand sends over its
meters is not counted on the links before the meter that cuts it.  Rates are the
emulated ones (``emulation.scale``), as a run reports them.

"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from topologies.model import Scenario

__all__ = ["Branch", "SimulatedSwitches", "Simulation", "max_min", "simulate"]

from controller.maxmin import EPSILON, max_min  # noqa: F401 (max_min is this module's too)


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
    """The prediction, in emulated kbps: per demand offered and received (its mean over the
    seconds it sent, and second by second), per link direction the load and per meter what
    reaches it and what it passes (means over the run), the plans in force, and the
    branches of the last stretch."""

    offered: dict[str, int]
    received: dict[str, float]
    allocated: dict[str, int]
    allocated_real: dict[str, int]
    paths: dict[str, list[list[str]]]
    link_load: dict[tuple[str, str, str], float]
    meters: dict[tuple[int, int], dict]
    branches: list[Branch] = field(default_factory=list)
    undelivered: dict[str, float] = field(default_factory=dict)
    seconds: int = 1
    received_per_s: dict[str, list[float]] = field(default_factory=dict)
    windows: dict[str, tuple[float, float]] = field(default_factory=dict)
    plans: list[tuple[float, dict]] = field(default_factory=list)  # (second, real kbps per demand)
    changes: list[float] = field(default_factory=list)  # seconds at which the network changed
    played: list[tuple[float, str, str, bool]] = field(default_factory=list)  # (second, action, target, ok)

    @property
    def steady(self) -> bool:
        return not self.changes and all(w == (0.0, float(self.seconds)) for w in self.windows.values())


class SimulatedSwitches:
    """The controller's core and the fake switches it programs, in simulated time."""

    def __init__(self, scenario: Scenario, planner):
        from controller.core import ControllerCore, Settings
        from controller.fakenet import FakeNetwork, scenario_wiring
        from controller.fakeoftable import FakeOFTable

        self.scenario = scenario
        self.version = 0  # moves whenever a switch's table does
        self.core = ControllerCore(scenario, planner, Settings(epoch_s=0.0, stats_s=0.0))
        self.tables = {s.dpid: FakeOFTable(s.dpid) for s in scenario.switches}
        for s in scenario.switches:
            self.core.connected(s.dpid, now=0.0)  # it asks for the flow table: an empty one
            self.deliver(self.core.flow_stats(s.dpid, [], False, now=0.0), 0.0)
        self.net = FakeNetwork(self.tables, scenario_wiring(scenario))
        self.ends = {}
        for port in scenario.graph.ports():
            if port.kind == "link":
                self.ends.setdefault(port.peer, []).append((scenario.switch[port.switch].dpid, port.number))

    def deliver(self, ops_by_dpid: dict, now: float) -> None:
        """Apply the core's operations to the switches and answer their barriers."""
        from controller.fakeoftable import FakeDatapath
        from controller.ofmsgs import to_messages
        from controller.ops import Barrier, RequestStats

        for dpid, ops in ops_by_dpid.items():
            wire = [op for op in ops if not isinstance(op, RequestStats)]
            self.tables[dpid].apply([m for _, m in to_messages(FakeDatapath(dpid), wire)])
            self.version += 1
            tokens = [op.token for op in ops if isinstance(op, Barrier) and op.token is not None]
            if tokens:
                self.deliver(self.core.barrier_reply(dpid, tokens[-1], now=now), now)

    def link(self, link: str, down: bool, now: float) -> None:
        """A link goes down or comes back: both its ends tell the controller."""
        for dpid, port in self.ends[link]:
            self.deliver(self.core.port_status(dpid, port, down, now=now), now)

    @property
    def plan(self):
        return self.core.current


def _packet(flow) -> dict:
    """The first packet of ``flow`` as its generator builds it."""
    proto, src, dst = (6, "tcp_src", "tcp_dst") if flow.protocol == "tcp" else (17, "udp_src", "udp_dst")
    return {"eth_src": flow.src_mac, "eth_dst": flow.dst_mac, "eth_type": 0x0800, "ipv4_src": flow.src_ip,
            "ipv4_dst": flow.dst_ip, "ip_proto": proto, src: flow.src_port, dst: flow.dst_port}


def _active(flow, t: float) -> bool:
    """Whether ``flow`` sends at ``t`` (its window, and the on part of an on/off pattern)."""
    if not flow.start_s <= t < flow.stop_s:
        return False
    if flow.pattern != "onoff":
        return True
    return (t - flow.start_s) % (flow.on_s + flow.off_s) < flow.on_s


def _turns(flow, seconds: float) -> list[float]:
    """The moments ``flow`` starts or stops sending."""
    out = [flow.start_s, flow.stop_s]
    if flow.pattern == "onoff" and flow.on_s + flow.off_s > 0:
        t = flow.start_s
        while t < min(flow.stop_s, seconds):
            out += [t, t + flow.on_s]
            t += flow.on_s + flow.off_s
    return out


def simulate(scenario: Scenario, plan: str = "market", mechanism: str | None = None,
             flows_per_demand: int | None = None, epoch_plan=None, seconds: int = 3) -> Simulation:
    """Predict what ``openisp run --seconds SECONDS`` would measure on ``scenario``.
    ``epoch_plan``: install this plan (every epoch) instead of the one the market makes."""
    from controller.planner import make_planner
    from topologies.timeline import LINK_ACTIONS, market_events

    from .measure import FLOWS_PER_DEMAND, demand_flows
    from .traffic_phase import all_demands, offered_rates, run_seconds, traffic_windows

    planner = make_planner(scenario, plan, mechanism) if epoch_plan is None else (lambda *a, **k: epoch_plan)
    world = SimulatedSwitches(scenario, planner)
    first = world.plan
    market = plan == "market"
    seconds = run_seconds(scenario, seconds)
    demands = all_demands(scenario)
    specs = {d.id: scenario.traffic_of(d.id) for d in demands}
    windows = traffic_windows(scenario, seconds)
    offered = offered_rates(scenario, demands, dict(first.allocated_kbps), market)
    split = {d for d, p in first.path_kbps.items() if len(p) > 1}
    slices = first.source_port_slices or FLOWS_PER_DEMAND
    flows = demand_flows(scenario, offered, seconds, lambda d: flows_per_demand or specs[d].flows or (
        slices if d in split else FLOWS_PER_DEMAND), windows=windows, demands=demands)
    events = sorted(scenario.timeline, key=lambda e: e.at_s)
    if market_events(scenario):
        world.core.start_timeline(0.0, now=0.0)
    moments = sorted({0.0, float(seconds), *(e.at_s for e in events if e.at_s < seconds),
                      *(t for f in flows for t in _turns(f, seconds) if 0 <= t < seconds)})
    emulate = scenario.emulation.emulated_kbps
    capacity: dict = {}
    for link in scenario.links:
        for end in (link.a, link.b):
            capacity[("link", link.id, end)] = emulate(link.capacity_kbps)
    for host in scenario.hosts:
        capacity[("up", host.name)] = capacity[("down", host.name)] = emulate(host.access_kbps)

    per_s = {d: [0.0] * seconds for d in windows}
    load: dict = {}
    reaching: dict = {}
    passing: dict = {}
    undelivered: dict[str, float] = {}
    plans = [(0.0, dict(first.allocated_kbps))]
    changes: list[float] = []
    played = []
    walked: dict = {}  # (tables' version, links down, flow) -> its branches
    branches: list[Branch] = []
    for t0, t1 in zip(moments, moments[1:]):
        before = world.version
        for e in (e for e in events if e.at_s == t0):
            if e.action in LINK_ACTIONS:
                world.link(e.target, e.action == "link_down", now=t0)
                played.append((t0, e.action, e.target, True))
        if any(e.at_s == t0 and e.action not in LINK_ACTIONS for e in events):
            world.deliver(world.core.tick(now=t0), t0)
        if world.version != before or any(e.at_s == t0 for e in events):
            changes.append(t0)
            if world.plan.allocated_kbps != plans[-1][1]:
                plans.append((t0, dict(world.plan.allocated_kbps)))
        down = frozenset(world.core.down)  # as the switches told the controller
        live = [i for i, f in enumerate(flows) if _active(f, t0)]
        branches = []
        for i in live:
            key = (world.version, down, i)
            if key not in walked:
                f = flows[i]
                port = scenario.graph.host_port(f.src_host)
                walked[key] = [Branch(f.demand, i, t.share, tuple(t.meters), tuple(t.links), t.outcome)
                               for t in world.net.walk_all(scenario.switch[port.switch].dpid, port.number,
                                                           _packet(f), down_links=down)]
            branches += walked[key]
        wants, uses = {}, {}
        for n, b in enumerate(branches):
            f = flows[b.flow]
            wants[n] = float(f.rate_kbps * b.share)
            for m in b.meters:  # as the switch holds it now: an id is modified from one plan to the next
                capacity[("meter", *m)] = world.tables[m[0]].meters[m[1]].rate
            use = [("up", f.src_host), *(("meter", d, m) for d, m in b.meters),
                   *(("link", link, scenario.switch_by_dpid[dpid].name) for link, dpid in b.links)]
            if b.outcome == f"delivered:{f.dst_host}":
                use.append(("down", f.dst_host))
            uses[n] = use
        rate = max_min(wants, uses, capacity)
        span = t1 - t0
        for n, b in enumerate(branches):
            f = flows[b.flow]
            if b.outcome == f"delivered:{f.dst_host}":
                for i in range(int(t0), min(seconds, int(-(-t1 // 1)))):
                    per_s[b.demand][i] += rate[n] * max(0.0, min(t1, i + 1) - max(t0, i))
            elif rate[n] > EPSILON:
                undelivered[b.demand] = undelivered.get(b.demand, 0.0) + rate[n] * span / seconds
            for link, dpid in b.links:
                name = scenario.switch_by_dpid[dpid].name
                key = (link, name, scenario.link[link].other_end(name))
                load[key] = load.get(key, 0.0) + rate[n] * span / seconds
            for k, m in enumerate(b.meters):
                passing[m] = passing.get(m, 0.0) + rate[n] * span / seconds
                if k == 0:  # the first meter on its way sees all it sends
                    reaching[m] = reaching.get(m, 0.0) + wants[n] * span / seconds
    received = {}
    for d, (start, stop) in windows.items():
        sending = sum(max(0.0, min(stop, i + 1) - max(start, i)) for i in range(seconds))
        received[d] = sum(per_s[d]) / sending if sending else 0.0
    meters = {}
    for m in sorted(passing):
        owner = world.plan.rules.meter_owners.get(m) or first.rules.meter_owners.get(m)
        meters[m] = {"rate_kbps": capacity[("meter", *m)], "reaching_kbps": reaching.get(m, passing[m]),
                     "passed_kbps": passing[m], "dropped_kbps": max(0.0, reaching.get(m, passing[m]) - passing[m]),
                     "owner": list(owner) if owner else None}
    return Simulation(offered, received, {d: emulate(k) for d, k in first.allocated_kbps.items()},
                      dict(first.allocated_kbps), dict(first.paths), load, meters, branches, undelivered, seconds,
                      per_s, windows, plans, changes, played)
