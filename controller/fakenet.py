"""Packets through fake OpenFlow 1.3 switches: one switch's pipeline, and walks across many.

:func:`process_packet` runs a packet (a dict of OXM fields) through one
:class:`~controller.fakeoftable.FakeOFTable`; :class:`FakeNetwork` follows it
from switch to switch over plain-data wiring, so forwarding is tested on the
messages the controller really sends, without OVS or root. Wiring maps
``(dpid, port)`` to ``("host", name)`` or ``("switch", peer_dpid, peer_port, link_id)``::

    h1 --1-[ dpid 1 ]-2------- a -------1-[ dpid 2 ]-2-- h2

>>> from controller.fakeoftable import FakeDatapath
>>> def forward(dpid, out_port):
...     dp = FakeDatapath(dpid)
...     p, ofp = dp.ofproto_parser, dp.ofproto
...     return (dpid, [p.OFPFlowMod(dp, priority=1, match=p.OFPMatch(eth_type=0x0800), instructions=[
...         p.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS, [p.OFPActionOutput(out_port)])])])
>>> wiring = {(1, 1): ("host", "h1"), (1, 2): ("switch", 2, 1, "a"),
...           (2, 1): ("switch", 1, 2, "a"), (2, 2): ("host", "h2")}
>>> net = network_from_messages([forward(1, 2), forward(2, 2)], wiring)
>>> t = net.walk(1, 1, {"eth_type": 0x0800})
>>> t.outcome, t.switches
('delivered:h2', [1, 2])
>>> net.walk(1, 1, {"eth_type": 0x0800}, down_links={"a"}).outcome
'dropped:1:link-down:a'
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Iterable

from os_ken.ofproto import ofproto_v1_3 as ofp
from os_ken.ofproto import ofproto_v1_3_parser as parser

from .fakeoftable import Bucket, FakeOFTable, FakeTableError, Flow, Group
from .fakepacket import pop_mpls, pop_vlan, push_mpls, push_vlan, set_field

__all__ = ["EVERY_BUCKET", "MAX_HOPS", "Emit", "FakeNetwork", "Pass", "Trace", "network_from_messages",
           "process_packet", "scenario_wiring"]

#: A select policy that follows every candidate bucket of every select group (to enumerate paths).
EVERY_BUCKET = "every"
MAX_HOPS = 64
_HEADER_ACTIONS = {parser.OFPActionPushMpls: push_mpls, parser.OFPActionPopMpls: pop_mpls,
                   parser.OFPActionPushVlan: push_vlan, parser.OFPActionPopVlan: pop_vlan}


@dataclass(frozen=True)
class Emit:
    """A copy of the packet sent out of ``port`` (or ``OFPP_CONTROLLER``), with the branch that sent it:
    ``groups`` as (group_id, bucket index), ``weights`` as (group_id, bucket index, weight, total weight)
    for each select group crossed, and the MPLS ``labels`` set on the way."""

    port: int
    packet: dict
    groups: tuple = ()
    weights: tuple = ()
    labels: tuple = ()


@dataclass
class Pass:
    """What one switch did with one packet: flows and meters hit, copies sent, and why not (``notes``)."""

    dpid: int
    flows: list[Flow] = field(default_factory=list)
    meters: list[int] = field(default_factory=list)
    emits: list[Emit] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def drop_reason(self) -> str:
        return self.notes[-1] if self.notes else "no-output"


@dataclass
class _Run:
    table: FakeOFTable
    live: object
    select: object
    size: int
    count: bool
    result: Pass

    def tally(self, entry) -> None:
        if self.count:
            entry.packets += 1
            entry.bytes += self.size


def process_packet(table: FakeOFTable, in_port: int, packet: dict, *, live=None, select=0, size: int = 0,
                   count: bool = True) -> Pass:
    """Run ``packet`` arriving on ``in_port`` through ``table`` from table 0, as OpenFlow 1.3 apply-actions do.

    ``live(port) -> bool`` says which ports are up (all by default), for fast-failover buckets.
    ``select`` picks one bucket of a select group among its live buckets with a weight: an int (taken
    modulo their number), a function ``(dpid, group_id, packet, candidates) -> bucket index`` where
    candidates are (bucket index, weight) pairs, or :data:`EVERY_BUCKET` to follow all of them.
    Meters are recorded, not enforced; with ``count``, flows, meters and groups count packets and ``size`` bytes.
    """
    run = _Run(table, live or (lambda port: True), select, size, count, Pass(table.dpid))
    pkt = {**packet, "in_port": in_port}
    branch = Emit(0, {})  # what the pipeline has done so far outside groups
    table_id = 0
    while table_id is not None:
        flow = table.lookup(table_id, pkt)
        if flow is None:
            run.result.notes.append(f"table-miss:{table_id}")
            break
        run.result.flows.append(flow)
        run.tally(flow)
        if flow.meter_id is not None:
            run.result.meters.append(flow.meter_id)
            run.tally(table.meters[flow.meter_id])
        branch = _actions(run, flow.actions, pkt, branch)
        table_id = flow.goto_table
    return run.result


def _actions(run: _Run, actions, pkt: dict, branch: Emit) -> Emit:
    for a in actions:
        if isinstance(a, parser.OFPActionOutput):
            port = pkt["in_port"] if a.port == ofp.OFPP_IN_PORT else a.port
            if a.port == pkt["in_port"]:  # OpenFlow never sends a packet back where it came from but by IN_PORT
                run.result.notes.append(f"output-to-in-port:{port}")
            else:
                run.result.emits.append(replace(branch, port=port, packet=dict(pkt)))
        elif isinstance(a, parser.OFPActionGroup):
            if a.group_id not in run.table.groups:  # a bucket's group deleted since: check() says so too
                raise run.table.error(f"group {a.group_id} does not exist")
            _group(run, run.table.groups[a.group_id], pkt, branch)
        elif isinstance(a, parser.OFPActionSetField):
            set_field(pkt, a.key, a.value, run.table.error)
            if a.key == "mpls_label":
                branch = replace(branch, labels=branch.labels + (a.value,))
        else:
            _HEADER_ACTIONS[type(a)](pkt, a, run.table.error)
    return branch


def _live(run: _Run, bucket: Bucket) -> bool:
    return ((bucket.watch_port is None or run.live(bucket.watch_port))
            and (bucket.watch_group is None
                 or any(_live(run, b) for b in run.table.groups[bucket.watch_group].buckets)))


def _group(run: _Run, group: Group, pkt: dict, branch: Emit) -> None:
    run.tally(group)
    live = [i for i, b in enumerate(group.buckets) if _live(run, b)]
    picks = list(range(len(group.buckets))) if group.type in ("all", "indirect") else live[:1]
    if group.type == "select":
        live = [i for i in live if group.buckets[i].weight > 0] or live[-1:]  # OVS never picks weight 0 else
        candidates = tuple((i, group.buckets[i].weight) for i in live)
        if run.select == EVERY_BUCKET or not live:
            picks = live
        elif callable(run.select):
            picks = [run.select(run.table.dpid, group.group_id, dict(pkt), candidates)]
            if picks[0] not in live:
                raise run.table.error(f"select policy chose bucket {picks[0]} of group {group.group_id}, "
                                      f"not one of {live}")
        else:
            picks = [live[run.select % len(live)]]
    if not picks:
        run.result.notes.append(f"no-live-bucket:group:{group.group_id}")
    total = sum(group.buckets[i].weight for i in live)
    for i in picks:
        weight = ((group.group_id, i, group.buckets[i].weight, total),) if group.type == "select" else ()
        sub = replace(branch, groups=branch.groups + ((group.group_id, i),), weights=branch.weights + weight)
        _actions(run, group.buckets[i].actions, dict(pkt), sub)  # each bucket acts on its own copy


@dataclass
class Trace:
    """Where a packet went: switches crossed (dpids), meters met (dpid, meter_id), flows hit (dpid, flow),
    groups crossed (dpid, group_id, bucket), select choices (dpid, group_id, bucket, weight, total weight),
    MPLS labels set, the packet as it left the last switch, and how it ended: ``delivered:HOST``,
    ``dropped:DPID:REASON``, ``controller:DPID`` or ``loop``; ``links`` crossed, as (link id, the
    dpid it left)."""

    switches: list[int] = field(default_factory=list)
    meters: list[tuple[int, int]] = field(default_factory=list)
    flows: list[tuple[int, Flow]] = field(default_factory=list)
    groups: list[tuple[int, int, int]] = field(default_factory=list)
    weights: list[tuple[int, int, int, int, int]] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    packet: dict = field(default_factory=dict)
    outcome: str = ""
    links: list[tuple[str, int]] = field(default_factory=list)

    @property
    def share(self) -> Fraction:
        """The fraction of the demand's weight this branch carries (1 when it met no select group)."""
        share = Fraction(1)
        for *_, weight, total in self.weights:
            share *= Fraction(weight, total) if total else 0
        return share

    @property
    def cookies(self) -> list[int]:
        return [flow.cookie for _, flow in self.flows]

    def fork(self) -> "Trace":
        return Trace(*(list(getattr(self, n)) for n in ("switches", "meters", "flows", "groups", "weights",
                                                         "labels")), dict(self.packet), self.outcome, list(self.links))


class FakeNetwork:
    """Fake switches (dpid -> :class:`FakeOFTable`) and how their ports are wired; a wired switch
    without a table gets an empty one (it drops everything, as an OpenFlow 1.3 switch does)."""

    def __init__(self, tables: dict[int, FakeOFTable], wiring: dict[tuple[int, int], tuple]):
        self.tables, self.wiring = dict(tables), dict(wiring)
        for (dpid, port), peer in self.wiring.items():
            if peer[:1] == ("switch",) and len(peer) == 4:
                if self.wiring.get(peer[1:3]) != ("switch", dpid, port, peer[3]):
                    raise FakeTableError(f"wiring: ({dpid}, {port}) -> {peer} has no matching way back")
            elif peer[:1] != ("host",) or len(peer) != 2:
                raise FakeTableError(f"wiring: ({dpid}, {port}) -> {peer} is neither a host nor a switch")
            self.tables.setdefault(dpid, FakeOFTable(dpid))

    def attachments(self, host: str) -> list[tuple[int, int]]:
        """The (dpid, port) pairs ``host`` hangs on."""
        return sorted(key for key, peer in self.wiring.items() if peer == ("host", host))

    def live(self, dpid: int, port: int, down_links=frozenset()) -> bool:
        peer = self.wiring.get((dpid, port))
        return peer is not None and (peer[0] == "host" or peer[3] not in down_links)

    def walk(self, dpid: int, in_port: int, packet: dict, down_links=frozenset(), select=0, size: int = 0) -> Trace:
        """Follow ``packet`` arriving at ``dpid`` on ``in_port``; ``select`` as in :func:`process_packet`.
        A switch that sends several copies (an ``all`` group, or two outputs) is refused: use :meth:`walk_all`."""
        if select == EVERY_BUCKET:
            raise FakeTableError("walk follows one branch: use walk_all for every bucket")
        (trace,) = self._follow(dpid, in_port, dict(packet), Trace(), frozenset(down_links), select, size, True,
                                frozenset())
        return trace

    def walk_all(self, dpid: int, in_port: int, packet: dict, down_links=frozenset()) -> list[Trace]:
        """One :class:`Trace` per branch: every bucket of every select group (its weights in the trace,
        :attr:`Trace.share` the fraction it carries) and every copy sent. Counters are left alone."""
        return self._follow(dpid, in_port, dict(packet), Trace(), frozenset(down_links), EVERY_BUCKET, 0, False,
                            frozenset())

    def _follow(self, dpid, in_port, packet, trace, down, select, size, count, seen) -> list[Trace]:
        state = (dpid, in_port, repr(sorted((k, v) for k, v in packet.items() if k != "in_port")))
        if state in seen or len(trace.switches) >= MAX_HOPS:
            trace.outcome = "loop"
            return [trace]
        trace.switches.append(dpid)
        result = process_packet(self.tables[dpid], in_port, packet, live=lambda port: self.live(dpid, port, down),
                                select=select, size=size, count=count)
        trace.flows += [(dpid, f) for f in result.flows]
        trace.meters += [(dpid, m) for m in result.meters]
        if not result.emits:
            trace.packet, trace.outcome = {**packet, "in_port": in_port}, f"dropped:{dpid}:{result.drop_reason}"
            return [trace]
        if len(result.emits) > 1 and select != EVERY_BUCKET:
            raise FakeTableError(f"dpid {dpid} sends {len(result.emits)} copies of {packet}: use walk_all")
        done = []
        for emit in result.emits:
            branch = trace.fork() if len(result.emits) > 1 else trace
            branch.groups += [(dpid, g, b) for g, b in emit.groups]
            branch.weights += [(dpid, *w) for w in emit.weights]
            branch.labels += emit.labels
            branch.packet = emit.packet
            peer = self.wiring.get((dpid, emit.port))
            if emit.port == ofp.OFPP_CONTROLLER:
                branch.outcome = f"controller:{dpid}"
            elif peer is None:
                branch.outcome = f"dropped:{dpid}:unwired-port:{emit.port}"
            elif peer[0] == "host":
                branch.outcome = f"delivered:{peer[1]}"
            elif peer[3] in down:
                branch.outcome = f"dropped:{dpid}:link-down:{peer[3]}"
            else:
                branch.links.append((peer[3], dpid))
                done += self._follow(peer[1], peer[2], emit.packet, branch, down, select, size, count, seen | {state})
                continue
            done.append(branch)
        return done


def network_from_messages(messages: Iterable[tuple[int, list]], wiring: dict[tuple[int, int], tuple]) -> FakeNetwork:
    """A :class:`FakeNetwork` whose switches received ``messages``, (dpid, list of os-ken messages) pairs
    applied in order; every switch is :meth:`~FakeOFTable.check`-ed once all are in."""
    tables: dict[int, FakeOFTable] = {}
    for dpid, msgs in messages:
        tables.setdefault(dpid, FakeOFTable(dpid)).apply(msgs, check=False)
    for table in tables.values():
        table.check()
    return FakeNetwork(tables, wiring)


def scenario_wiring(scenario) -> dict[tuple[int, int], tuple]:
    """The wiring of a scenario's switches, from its one graph (:mod:`topologies.graph`)."""
    dpid = {s.name: s.dpid for s in scenario.switches}
    wiring: dict[tuple[int, int], tuple] = {}
    for port in scenario.graph.ports():
        if port.kind == "host":
            wiring[(dpid[port.switch], port.number)] = ("host", port.peer)
        else:
            far, far_port = scenario.graph.far_end(port)
            wiring[(dpid[port.switch], port.number)] = ("switch", dpid[far], far_port, port.peer)
    return wiring
