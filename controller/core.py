"""The controller's decisions, as a pure state machine: events in, operations out.

The os-ken app (:mod:`controller.app`) turns each OpenFlow event into one call
here, passing the time in, and sends what comes back: a dict from datapath id
to the :mod:`controller.ops` for that switch.  Nothing here imports os-ken, so
every decision (what a fresh or reconnecting switch gets, when an epoch is
due, how a link failure re-plans, what the counters mean) is unit-tested
without a switch.

A switch goes through three phases: ``reading`` (it just connected; its flow
table is being read, since a switch in secure mode keeps its rules), then
``installing`` (the whole plan, or only the difference, was sent; a barrier
is pending), then ``holding`` (the barrier came back).

>>> from topologies.loader import load_scenario
>>> from controller.planner import make_planner
>>> s = load_scenario("topologies/default.yaml")
>>> core = ControllerCore(s, make_planner(s, "market", "lmp"))
>>> core.connected(s.switch["mn1"].dpid, now=0.0)
{6: [RequestStats(kind='flows', cookie_kind=None)]}
"""
from __future__ import annotations

import itertools
import time
from collections import deque
from dataclasses import dataclass, field
from typing import NamedTuple

from topologies.errors import OpenIspError
from topologies.model import Scenario
from topologies.timeline import market_events

from . import cookies
from .estimation import active_demands, estimate_bids, with_bids
from .metrics import CounterTotals, Metrics
from .ops import Op, RequestStats, SendArp, install_ops, reconcile_ops, transition_ops
from .planner import EpochPlan, FileMarket, Planner, attachment_kbps
from .proxyarp import arp_reply_for
from .reconcile import held_epoch, reconcile
from .ruleplan import RulePlan
from .status import ControllerStatus

Ops = dict[int, list[Op]]

#: Every tenth counter poll reads every flow of every switch; the others read only the
#: demands' flows (by cookie), which is all the per-demand counters need. A 100-switch
#: world holds about 23,000 flows: reading them all each second took the controller's
#: whole CPU and starved the ARP it answers.
FULL_FLOW_POLL = 10


@dataclass(frozen=True)
class Settings:
    """How often the core acts on its own: ``epoch_s`` (0: never re-clear) and ``stats_s``;
    ``background``: clearings run outside the core (the shim runs them in another process
    and hands the plan back), so OpenFlow is never held up by a clearing."""

    epoch_s: float = 0.0
    stats_s: float = 5.0
    background: bool = False


@dataclass(frozen=True, eq=False)
class ClearingRequest:
    """One clearing to run in the background: the epoch, the links down, the market."""

    epoch: int
    down: frozenset
    market: Scenario
    reason: str
    asked_at: float


class FlowStat(NamedTuple):
    table_id: int
    priority: int
    match: tuple
    cookie: int
    packets: int = 0
    bytes: int = 0


class PortStat(NamedTuple):
    port_no: int
    rx_packets: int
    tx_packets: int
    rx_bytes: int
    tx_bytes: int
    rx_dropped: int = 0
    tx_dropped: int = 0


class MeterStat(NamedTuple):
    meter_id: int
    packets_in: int
    bytes_in: int
    dropped_packets: int


@dataclass
class SwitchState:
    phase: str = "reading"                                   # reading -> installing -> holding
    held: dict = field(default_factory=dict)                 # (table, priority, match) -> cookie, while reading
    sent: RulePlan | None = None                             # the plan this switch was last sent
    pending: int | None = None                               # token of the barrier that completes it
    sent_at: float = 0.0                                     # when it was sent
    polled: list[FlowStat] = field(default_factory=list)     # a poll's flow stats, while replies come
    polls: deque = field(default_factory=deque)              # per flow poll in flight: did it ask for every flow?
    #: kept its rules from a controller that may have died mid-transition: it may hold
    #: meters and groups of the other epoch that no flow uses, so the next move clears
    #: the ids it adds first
    strays: bool = False


class ControllerCore:
    """Events in, operations out; settings through the constructor, time through ``now``."""

    def __init__(self, scenario: Scenario, planner: Planner, settings: Settings = Settings(),
                 status: ControllerStatus | None = None, now: float = 0.0, market=None,
                 metrics: Metrics | None = None):
        self.scenario, self.planner, self.settings = scenario, planner, settings
        self.status = status or ControllerStatus({s.dpid: s.name for s in scenario.switches})
        self.metrics = metrics or Metrics()
        self._totals = CounterTotals()
        self._in_market: set[str] = set()  # demands the metrics have shown
        self._children: dict[tuple[int, str], object] = {}  # (metric, label) -> its series
        self._shown: dict[tuple[int, str], float] = {}  # (gauge, label) -> the value set last
        for link in scenario.links:
            self.metrics.link_capacity.labels(link=link.id).set(link.capacity_kbps * 1000 / 8)
            self.metrics.link_up.labels(link=link.id).set(1)
        #: Where each clearing's offers and demands come from, and where it is settled.
        self.source = market or FileMarket(scenario)
        self.epoch = self.source.first_epoch()
        self.down: set[str] = set()
        self.adopted = False  # whether this controller has chosen its epoch from the switches
        self.switches: dict[int, SwitchState] = {}
        self._tokens = itertools.count(1)
        self._next_epoch = now + settings.epoch_s
        self._clear_now = False  # a console asked for the next epoch now
        self._next_stats = now + settings.stats_s
        self._polls = 0                              # counter polls so far (every FULL_FLOW_POLL-th reads every flow)
        self._kinds: dict[int, dict[str, int]] = {}  # dpid -> packets by cookie kind, at the last poll
        self.link_at = {(scenario.switch[p.switch].dpid, p.number): p.peer
                        for p in scenario.graph.ports() if p.kind == "link"}
        self.market = scenario  # the offers and demands of the plan in force
        self.bids: dict[str, int] = {}  # measured demand: each demand's bid, from the last epoch's traffic
        self.ever_sent: set[str] = set()  # demands seen sending: only those can bid below their max
        self.usage = {"since": now, "bytes": {}, "dropped": {}}  # what each demand sent since the last clearing
        self.wanted: list[str] = []  # background clearing: why the next clearing is wanted
        #: plans replaced, until the shim takes them (freeing a large plan at once would hold
        #: every thread for tens of milliseconds)
        self.retired: list[EpochPlan] = []
        self.clearing: ClearingRequest | None = None  # background clearing: the one running
        self.pending_events = list(market_events(scenario))
        self.timeline_start: float | None = None
        self.current = self._plan(self.epoch, "start", now)

    # --- planning -------------------------------------------------------------
    def _market_for(self) -> Scenario:
        """The offers and demands the next clearing takes: the market source's, with the
        closed loop's bids when demand is measured."""
        market = self.source.scenario()
        if self.bids and market.market.demand_estimation == "measured":
            market = with_bids(market, self.bids)
        return market

    def _plan(self, epoch: int, reason: str, now: float) -> EpochPlan:
        down = frozenset(self.down)
        market = self._market_for()
        asked = time.perf_counter()
        plan = self.planner(epoch, down) if market is self.scenario else self.planner(epoch, down, scenario=market)
        self.metrics.clearing_wait.observe(time.perf_counter() - asked)  # here, while the caller waits
        self._adopt_plan(epoch, reason, market, plan, now)
        return plan

    def _adopt_plan(self, epoch: int, reason: str, market: Scenario, plan: EpochPlan, now: float) -> None:
        """A clearing's plan becomes the one in force: status, metrics, settlement."""
        self.market = market
        self.status.replanned(epoch, plan.paths, plan.allocated_kbps, sorted(self.down), plan.path_kbps,
                              plan.source_port_slices, reason=reason, at=now,
                              attachments=attachment_kbps(market, plan))
        self._record_plan(epoch, reason, market, plan)
        try:
            self.source.cleared(epoch, market, plan.result)
        except OpenIspError as exc:  # the plan stands; the settlement's failure is reported
            self.status.note(f"epoch {epoch}: not settled: {exc}")

    def _record_plan(self, epoch: int, reason: str, market: Scenario, plan: EpochPlan) -> None:
        m, gauge = self.metrics, self._gauge
        m.epoch.set(epoch)
        m.replans.labels(reason=reason.split()[0].rstrip(":")).inc()
        for d in market.demands:
            gauge(m.demand_allocated, d.id, plan.allocated_kbps.get(d.id, 0) * 1000 / 8)
            gauge(m.demand_paths, d.id, len(plan.path_kbps.get(d.id, ())))
        for gone in self._in_market - {d.id for d in market.demands}:  # withdrawn: allocated nothing now
            gauge(m.demand_allocated, gone, 0)
            gauge(m.demand_paths, gone, 0)
        self._in_market = {d.id for d in market.demands}
        result = plan.result
        if result is None:
            return
        m.welfare.set(float(result.welfare))
        m.budget_balance.set(float(result.budget_balance))
        if "total_s" in result.timings:
            m.clearing_seconds.observe(result.timings["total_s"])
        for link in result.links:
            gauge(m.link_allocated, link.link_id, link.allocated_kbps * 1000 / 8)
            gauge(m.link_price, link.link_id, float(link.price_per_mbps))
        for p in result.participants:
            self._series(m.participant_paid, p.name).inc(float(p.pays))
            self._series(m.participant_received, p.name).inc(float(p.receives))

    def _series(self, metric, key: str):
        """One labelled series of a metric with a single label (looked up once: a clearing of a
        thousand demands sets thousands of series, under the lock every event waits for)."""
        series = self._children.get((id(metric), key))
        if series is None:
            series = self._children[(id(metric), key)] = metric.labels(key)
        return series

    def _gauge(self, metric, key: str, value: float) -> None:
        """Set a gauge's series when its value changed (most of a clearing repeats the last one)."""
        slot = (id(metric), key)
        if self._shown.get(slot) != value:
            self._shown[slot] = value
            self._series(metric, key).set(value)

    def _replan(self, reason: str, now: float = 0.0) -> Ops:
        """Clear the market again for the links in service; move every switch make-before-break.

        With ``background`` clearing, only ask for it: :meth:`clearing_request` hands the
        request out, and :meth:`plan_ready` moves the switches when the plan comes back;
        the plan in force keeps forwarding meanwhile, and reasons that come while a
        clearing runs are served together by the next one.
        """
        if self.settings.background:
            self.wanted.append(reason)
            return {}
        try:
            plan = self._plan(self.epoch + 1, reason, now)
        except OpenIspError as exc:  # the switches keep the last plan that could be made
            self.status.note(f"epoch {self.epoch + 1} ({reason}): kept epoch {self.epoch}'s plan: {exc}")
            return {}
        return self._move_to(self.epoch + 1, plan, now)

    def _move_to(self, epoch: int, plan: EpochPlan, now: float) -> Ops:
        self.epoch = epoch
        if self.settings.background:
            self.retired.append(self.current)  # the shim frees it, bit by bit, outside the core
        self.current = plan
        out: Ops = {}
        for dpid, st in self.switches.items():
            if st.phase == "reading":  # it gets the current plan when its table has been read
                continue
            new = plan.rules.for_switch(dpid)
            out[dpid] = self._send(dpid, st, transition_ops(st.sent, new, self._token(), clear_first=st.strays),
                                   new, now)
            st.strays = False
        return out

    def take_retired(self) -> list[EpochPlan]:
        """The plans replaced since the last call (the shim frees them away from OpenFlow)."""
        retired, self.retired = self.retired, []
        return retired

    def clearing_request(self, now: float) -> ClearingRequest | None:
        """Background clearing: the next clearing to run, when one is wanted and none runs."""
        if not self.wanted or self.clearing is not None:
            return None
        reason = ", ".join(dict.fromkeys(self.wanted))
        self.wanted = []
        self.clearing = ClearingRequest(self.epoch + 1, frozenset(self.down), self._market_for(), reason, now)
        return self.clearing

    def plan_ready(self, request: ClearingRequest, plan: EpochPlan | None, error: str, now: float) -> Ops:
        """Background clearing: the plan of ``request`` (or why there is none) came back."""
        if request is not self.clearing:
            return {}
        self.clearing = None
        took = now - request.asked_at
        self.metrics.clearing_wait.observe(took)
        if self.settings.epoch_s and took > self.settings.epoch_s:
            self.status.note(f"epoch {request.epoch} took {took:.1f} s to clear, longer than the epoch "
                             f"({self.settings.epoch_s:g} s): the epochs due meanwhile were cleared together")
        if plan is None or request.down != frozenset(self.down):
            if plan is None:
                self.status.note(f"epoch {request.epoch} ({request.reason}): kept epoch {self.epoch}'s plan: {error}")
            else:  # a link changed while it cleared: its plan is already out of date
                self.wanted.append("links changed while clearing")
            return {}
        self._adopt_plan(request.epoch, request.reason, request.market, plan, now)
        return self._move_to(request.epoch, plan, now)

    def _token(self) -> int:
        return next(self._tokens)

    def _send(self, dpid: int, st: SwitchState, ops: list[Op], plan: RulePlan, now: float = 0.0) -> list[Op]:
        st.phase, st.sent, st.pending, st.sent_at = "installing", plan, ops[-1].token, now
        self.status.installing(dpid)
        self.metrics.switch_holding.labels(switch=self.scenario.switch_by_dpid[dpid].name).set(0)
        return ops

    # --- switch events --------------------------------------------------------
    def connected(self, dpid: int, now: float) -> Ops:
        """A switch finished its handshake: first read what it already holds."""
        if dpid not in self.scenario.switch_by_dpid:
            self.status.error(f"unknown datapath {dpid:#x} connected; ignored")
            return {}
        self.switches[dpid] = SwitchState()
        self.status.connected(dpid)
        self.metrics.switches_connected.set(len(self.switches))
        return {dpid: [RequestStats("flows")]}

    def disconnected(self, dpid: int, now: float) -> Ops:
        if self.switches.pop(dpid, None) is not None:
            self.status.disconnected(dpid)
            self.metrics.switches_connected.set(len(self.switches))
            self.metrics.switch_holding.labels(switch=self.scenario.switch_by_dpid[dpid].name).set(0)
        return {}

    def flow_stats(self, dpid: int, stats: list[FlowStat], more: bool, now: float) -> Ops:
        """Flow stats: the table of a switch being read, or a periodic poll."""
        st = self.switches.get(dpid)
        if st is None:
            return {}
        if st.phase != "reading":
            st.polled.extend(stats)
            if not more:
                self._count_flows(dpid, st.polled, every_flow=st.polls.popleft() if st.polls else True)
                st.polled = []
            return {}
        st.held.update({(s.table_id, s.priority, s.match): s.cookie for s in stats})
        return {} if more else self._install(dpid, st, now)

    def _install(self, dpid: int, st: SwitchState, now: float = 0.0) -> Ops:
        """A fresh switch gets the whole plan; one that kept its rules gets only the difference."""
        epoch = held_epoch(st.held)
        if epoch is not None and not self.adopted and epoch != self.epoch:
            # A restarted controller takes the epoch the switches run, so an unchanged
            # market gives an identical plan and nothing is reinstalled.
            try:
                self.current, self.epoch = self._plan(epoch, "adopted from the switches", 0.0), epoch
            except OpenIspError as exc:
                self.status.note(f"could not adopt the switches' epoch {epoch}: {exc}")
        self.adopted = True
        plan = self.current.rules.for_switch(dpid)
        if not st.held:
            self.status.reconciled(dpid, unchanged=0, added=len(plan.flows), removed=0)
            return {dpid: self._send(dpid, st, install_ops(plan, self._token()), plan, now)}
        fix = reconcile(st.held, plan)
        st.strays = True
        self.status.reconciled(dpid, unchanged=len(fix.unchanged), added=len(fix.add.flows), removed=len(fix.stale))
        st.held = {}
        return {dpid: self._send(dpid, st, reconcile_ops(fix, self._token()), plan, now)}

    def barrier_reply(self, dpid: int, token: int, now: float) -> Ops:
        st = self.switches.get(dpid)
        if st is not None and st.pending == token:
            st.phase, st.pending = "holding", None
            self.status.acknowledged(dpid, len(st.sent))
            name = self.scenario.switch_by_dpid[dpid].name
            self.metrics.install_seconds.labels(switch=name).observe(max(0.0, now - st.sent_at))
            self.metrics.switch_holding.labels(switch=name).set(1)
        return {}

    def port_status(self, dpid: int, port_no: int, is_down: bool, now: float) -> Ops:
        """A port went down or came back: re-plan without (or with) its link."""
        link = self.link_at.get((dpid, port_no))
        if link is None or is_down == (link in self.down):
            return {}  # not a link port, or the other end already told us
        (self.down.add if is_down else self.down.discard)(link)
        self.metrics.link_up.labels(link=link).set(0 if is_down else 1)
        if is_down:
            self.metrics.failovers.labels(link=link).inc()
        return self._replan(f"link {link} {'down' if is_down else 'up'}", now)

    def error(self, dpid: int | None, kind: int, code: int, now: float) -> Ops:
        """A switch's error message; ``dpid`` is None while its handshake has not named it."""
        who = f"switch {dpid:#x}" if dpid is not None else "a switch (during its handshake)"
        self.status.error(f"{who} refused a message: type={kind} code={code}")
        return {}

    def arp_request(self, dpid: int, in_port: int, opcode: int, src_mac: str, src_ip: str, dst_ip: str,
                    now: float) -> Ops:
        reply = arp_reply_for(self.scenario, opcode, src_mac, src_ip, dst_ip)
        return {} if reply is None else {dpid: [SendArp(in_port, reply)]}

    # --- time -------------------------------------------------------------------
    def _close_epoch(self, now: float) -> None:
        """An epoch ends: what each demand sent in it goes to the market source (the ledger
        keeps it beside the allocation) and, in the closed loop, makes the next bids."""
        market = self.source.scenario()
        u, seconds = self.usage, now - self.usage["since"]
        self.usage = {"since": now, "bytes": {}, "dropped": {}}
        if seconds > 0 and u["bytes"]:
            scale = market.emulation.scale
            known = {d.id for d in self.market.demands}  # the demands of the epoch that ends
            sent = {d: round(n * 8 / 1000 / seconds / scale) for d, n in u["bytes"].items() if d in known}
            try:
                self.source.measured(self.epoch, sent)
            except OpenIspError as exc:
                self.status.note(f"epoch {self.epoch}: usage not recorded: {exc}")
        if market.market.demand_estimation != "measured":
            return
        self.ever_sent |= active_demands(market, self.current.allocated_kbps, u["bytes"], seconds)
        self.bids = estimate_bids(market, self.current.allocated_kbps, u["bytes"], u["dropped"], seconds,
                                  self.ever_sent)
        self.status.bids = dict(self.bids)
        for demand, kbps in self.bids.items():
            self.metrics.demand_bid.labels(demand=demand).set(kbps * 1000 / 8)

    def start_timeline(self, start: float, now: float) -> Ops:
        """The run's traffic starts at ``start`` (the same clock as ``now``): market events of
        the timeline fall due from then on."""
        self.timeline_start = start
        return {}

    def _due_events(self, now: float) -> list[str]:
        """Apply the market events that are due; what each did, for the re-plan's reason."""
        done = []
        while self.pending_events and self.timeline_start is not None \
                and now >= self.timeline_start + self.pending_events[0].at_s:
            event = self.pending_events.pop(0)
            try:
                self.source.apply_event(event)
                done.append(f"{event.action} {event.target}")
            except OpenIspError as exc:
                self.status.note(f"timeline at {event.at_s:g} s: skipped: {exc}")
        return done

    def clear_now(self, now: float) -> None:
        """Close the epoch at the next tick, however long it has run, even when epochs are
        off (``openisp run --cli``'s ``epoch``); the next one starts from then."""
        self._clear_now = True

    def tick(self, now: float) -> Ops:
        """Whatever is due: timeline events and the next epoch's clearing, a poll of every
        switch's counters."""
        out: Ops = {}
        events = self._due_events(now)
        due = self._clear_now or (self.settings.epoch_s > 0 and now >= self._next_epoch)
        if events:
            out = self._replan("timeline: " + ", ".join(events), now)
        elif due and self.switches:
            self._close_epoch(now)
            out = self._replan("epoch", now)
            self._clear_now = False
        if due and self.settings.epoch_s > 0:
            self._next_epoch = now + self.settings.epoch_s
        if self.settings.stats_s > 0 and now >= self._next_stats:
            self._next_stats = now + self.settings.stats_s
            every_flow = self._polls % FULL_FLOW_POLL == 0
            flows = RequestStats("flows") if every_flow else RequestStats("flows", cookie_kind="demand")
            polled = [(dpid, st) for dpid, st in self.switches.items() if st.phase != "reading"]
            for dpid, st in polled:
                out.setdefault(dpid, []).extend((flows, RequestStats("ports"), RequestStats("meters")))
                st.polls.append(every_flow)
            self._polls += bool(polled)
        return out

    # --- counters, by name ------------------------------------------------------
    def port_stats(self, dpid: int, stats: list[PortStat], now: float) -> Ops:
        switch = self.scenario.switch_by_dpid.get(dpid)
        if switch is None:
            return {}
        for s in stats:
            port = self.scenario.graph.port_at(switch.name, s.port_no)
            if port is None:
                continue
            counters = {k: getattr(s, k) for k in PortStat._fields if k != "port_no"}
            if port.kind == "host":
                self.status.counters("hosts", port.peer, "port", counters)
            else:
                self.status.counters("links", port.peer, switch.name, counters)
                far = self.scenario.link[port.peer].other_end(switch.name)
                sent = self._totals.add(("port", dpid, s.port_no), s.tx_bytes)
                self.metrics.link_bytes.labels(link=port.peer, direction=f"{switch.name}>{far}").inc(sent)
        return {}

    def meter_stats(self, dpid: int, stats: list[MeterStat], now: float) -> Ops:
        st = self.switches.get(dpid)
        owners = st.sent.meter_owners if st is not None and st.sent is not None else {}
        for s in stats:
            owner = owners.get((dpid, s.meter_id))
            if owner is None:
                continue  # a meter of the last epoch, on its way out
            kind, name, path = owner
            counters = {"packets_in": s.packets_in, "bytes_in": s.bytes_in, "dropped_packets": s.dropped_packets}
            if kind == "demand":
                key = ("meter", dpid, s.meter_id, st.sent.epoch)
                self.metrics.demand_metered_packets.labels(demand=name).inc(self._totals.add(key + ("in",), s.packets_in))
                dropped = self._totals.add(key + ("dropped",), s.dropped_packets)
                self.metrics.demand_dropped_packets.labels(demand=name).inc(dropped)
                self.usage["dropped"][name] = self.usage["dropped"].get(name, 0) + dropped
            if kind == "floor":
                self.status.counters("hosts", name, "floor meter", counters)
            elif kind == "return":
                self.status.counters("demands", name, "acknowledgements", counters)
            else:
                self.status.counters("demands", name, f"path {path} meter", counters)
        return {}

    def _count_flows(self, dpid: int, stats: list[FlowStat], every_flow: bool = True) -> None:
        """A poll's flow counters, by demand and by kind; a poll of the demands' flows only
        leaves the other kinds as the last poll of every flow counted them."""
        name = self.scenario.switch_by_dpid[dpid].name
        kinds: dict[str, int] = {} if every_flow else {
            k: v for k, v in self._kinds.get(dpid, {}).items() if k != "demand"}
        demands: dict[str, list[int]] = {}
        names = [d.id for d in self.market.demands]
        for s in stats:
            kind = cookies.kind_of(s.cookie)
            kinds[kind] = kinds.get(kind, 0) + s.packets
            index = cookies.index_of(s.cookie)
            if kind == "demand" and index < len(names):
                totals = demands.setdefault(names[index], [0, 0])
                totals[0] += s.packets
                totals[1] += s.bytes
                key = ("flow", dpid, s.table_id, s.priority, s.match)
                self.metrics.demand_forwarded_packets.labels(demand=names[index]).inc(self._totals.add(key, s.packets))
                sent = self._totals.add(key + ("bytes",), s.bytes)
                self.metrics.demand_forwarded_bytes.labels(demand=names[index]).inc(sent)
                self.usage["bytes"][names[index]] = self.usage["bytes"].get(names[index], 0) + sent
        self._kinds[dpid] = kinds
        self.status.counters("flow_kinds", name, "packets", kinds)
        for name, (packets, nbytes) in demands.items():
            self.status.counters("demands", name, "classified", {"packets": packets, "bytes": nbytes})
