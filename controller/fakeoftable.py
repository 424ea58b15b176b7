"""A fake OpenFlow 1.3 switch that holds exactly what os-ken puts on the wire.

Faucet's ``clib/fakeoftable.py`` is the model. :meth:`FakeOFTable.apply` takes
the os-ken message objects the controller would send, serializes each one (a
message that cannot be encoded fails here as it would on the wire), decodes
the bytes with os-ken's parsers and applies what was decoded, with Open
vSwitch's semantics. It refuses (:class:`FakeTableError`) what it cannot
model and what OVS would reject, and :meth:`FakeOFTable.check` finds dangling
references and ambiguous flows. Packets go through it with
:func:`controller.fakenet.process_packet`, and across switches with
:class:`controller.fakenet.FakeNetwork`.

>>> dp = FakeDatapath(1)
>>> ofp, parser = dp.ofproto, dp.ofproto_parser
>>> table = FakeOFTable(1)
>>> table.apply([parser.OFPFlowMod(dp, priority=10, match=parser.OFPMatch(in_port=1), instructions=[
...     parser.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS, [parser.OFPActionOutput(2)])])])
>>> print(table.lookup(0, {"in_port": 1, "eth_type": 0x0800}))
table=0 priority=10 cookie=0x0 in_port=1 actions=output:2
"""
from __future__ import annotations

import copy
import struct
from dataclasses import dataclass

from os_ken.ofproto import ofproto_parser
from os_ken.ofproto import ofproto_v1_3 as ofp
from os_ken.ofproto import ofproto_v1_3_parser as parser

from .fakepacket import (
    ETH_MPLS_TYPES, FIELDS, L2_FIELDS, FakeTableError, Match, covers, field_int, match_str, matches, overlap,
    packet_ints, parse_match, same_value,
)

__all__ = ["Bucket", "FakeDatapath", "FakeOFTable", "FakeTableError", "Flow", "Group", "Meter", "action_str"]

_GROUP_TYPES = {ofp.OFPGT_ALL: "all", ofp.OFPGT_SELECT: "select", ofp.OFPGT_INDIRECT: "indirect", ofp.OFPGT_FF: "ff"}
_NO_EFFECT = {ofp.OFPT_BARRIER_REQUEST, ofp.OFPT_PACKET_OUT, ofp.OFPT_MULTIPART_REQUEST, ofp.OFPT_ECHO_REQUEST,
              ofp.OFPT_FEATURES_REQUEST, ofp.OFPT_GET_CONFIG_REQUEST, ofp.OFPT_SET_CONFIG}
_INSTRUCTION_NAMES = {ofp.OFPIT_WRITE_ACTIONS: "write_actions", ofp.OFPIT_CLEAR_ACTIONS: "clear_actions",
                      ofp.OFPIT_WRITE_METADATA: "write_metadata"}
_ACTIONS = (parser.OFPActionOutput, parser.OFPActionGroup, parser.OFPActionPushMpls, parser.OFPActionPopMpls,
            parser.OFPActionPushVlan, parser.OFPActionPopVlan, parser.OFPActionSetField)
_METER_FLAGS = ofp.OFPMF_KBPS | ofp.OFPMF_PKTPS | ofp.OFPMF_BURST | ofp.OFPMF_STATS


class FakeDatapath:
    """What os-ken's ``Datapath`` offers a message: ``ofproto``, ``ofproto_parser``, ``id`` and xids."""

    ofproto = ofp
    ofproto_parser = parser

    def __init__(self, dpid: int):
        self.id = dpid
        self.xid = 0

    def set_xid(self, msg) -> int:
        self.xid = (self.xid + 1) & ofp.MAX_XID
        msg.set_xid(self.xid)
        return self.xid


def action_str(a) -> str:
    """An action as ``ovs-ofctl`` would print it: ``output:2``, ``set_field:7->mpls_label``."""
    if isinstance(a, parser.OFPActionOutput):
        name = {ofp.OFPP_CONTROLLER: f"CONTROLLER:{a.max_len}", ofp.OFPP_IN_PORT: "IN_PORT"}.get(a.port, a.port)
        return f"output:{name}"
    if isinstance(a, parser.OFPActionGroup):
        return f"group:{a.group_id}"
    if isinstance(a, parser.OFPActionSetField):
        return f"set_field:{a.value}->{a.key}"
    name = {parser.OFPActionPushMpls: "push_mpls", parser.OFPActionPopMpls: "pop_mpls",
            parser.OFPActionPushVlan: "push_vlan"}.get(type(a))
    return f"{name}:{a.ethertype:#06x}" if name else "pop_vlan" if isinstance(a, parser.OFPActionPopVlan) else str(a)


@dataclass(eq=False)
class Flow:
    """One flow entry as the switch holds it; ``match`` maps a field to (value, mask)."""

    table_id: int
    priority: int
    match: Match
    cookie: int = 0
    meter_id: int | None = None
    actions: tuple = ()
    goto_table: int | None = None
    packets: int = 0
    bytes: int = 0

    @property
    def behaviour(self) -> tuple:
        return (self.meter_id, tuple(action_str(a) for a in self.actions), self.goto_table)

    def uses_group(self, group_id: int) -> bool:
        return any(isinstance(a, parser.OFPActionGroup) and a.group_id == group_id for a in self.actions)

    def outputs_to(self, port: int) -> bool:
        return any(isinstance(a, parser.OFPActionOutput) and a.port == port for a in self.actions)

    def __str__(self) -> str:
        extra = (f" meter:{self.meter_id}" if self.meter_id is not None else "") + (
            f" goto:{self.goto_table}" if self.goto_table is not None else "")
        return (f"table={self.table_id} priority={self.priority} cookie={self.cookie:#x} {match_str(self.match)} "
                f"actions={','.join(action_str(a) for a in self.actions) or 'drop'}{extra}")


@dataclass(frozen=True)
class Bucket:
    actions: tuple
    weight: int = 0
    watch_port: int | None = None
    watch_group: int | None = None


@dataclass(eq=False)
class Group:
    group_id: int
    type: str  # all, select, indirect or ff
    buckets: tuple[Bucket, ...]
    packets: int = 0
    bytes: int = 0


@dataclass(eq=False)
class Meter:
    meter_id: int
    unit: str  # kbps or pktps
    bands: tuple[tuple[int, int], ...]  # (rate, burst) of each drop band
    packets: int = 0
    bytes: int = 0

    @property
    def rate(self) -> int:
        return min(rate for rate, _ in self.bands)


class FakeOFTable:
    """The flows, groups and meters of one switch, fed with os-ken OpenFlow 1.3 messages."""

    def __init__(self, dpid: int):
        self.dpid = dpid
        self.datapath = FakeDatapath(dpid)
        self.tables: dict[int, list[Flow]] = {}
        self.groups: dict[int, Group] = {}
        self.meters: dict[int, Meter] = {}

    def error(self, what: str) -> FakeTableError:
        return FakeTableError(f"dpid {self.dpid}: {what}")

    @property
    def flows(self) -> list[Flow]:
        return [f for t in sorted(self.tables) for f in self.tables[t]]

    # -- messages ------------------------------------------------------------------------------------

    def apply(self, msgs, check: bool = True) -> None:
        """Apply ``msgs`` in order as the switch would; then :meth:`check` the result unless told not to."""
        for msg in msgs:
            self._apply_one(msg)
        if check:
            self.check()

    def _apply_one(self, msg) -> None:
        name = type(msg).__name__
        if not isinstance(msg, ofproto_parser.MsgBase) or type(msg).__module__ != parser.__name__:
            raise self.error(f"{name} is not an os-ken OpenFlow 1.3 message")
        built_for = getattr(msg.datapath, "id", None)
        if built_for is not None and built_for != self.dpid:
            raise self.error(f"{name} was built for dpid {built_for}")
        wire = copy.copy(msg)  # the caller's message stays unsent (xid None), as os-ken expects
        wire.datapath, wire.xid = self.datapath, None
        self.datapath.set_xid(wire)
        try:
            wire.serialize()
        except Exception as e:  # noqa: BLE001 - whatever os-ken raises, the message cannot go on the wire
            raise self.error(f"{name} cannot be serialized: {type(e).__name__}: {e}") from e
        buf = bytes(wire.buf)
        version, msg_type, msg_len, xid = ofproto_parser.header(buf)
        try:
            if msg_type == ofp.OFPT_FLOW_MOD:
                parsed = ofproto_parser.msg(self.datapath, version, msg_type, msg_len, xid, buf)
                decoded = None if parsed is None else (parsed,)
            elif msg_type == ofp.OFPT_GROUP_MOD:
                decoded = _decode_group_mod(buf)
            elif msg_type == ofp.OFPT_METER_MOD:
                decoded = _decode_meter_mod(buf)
            elif msg_type in _NO_EFFECT:
                return
            else:
                raise self.error(f"{name} is not modelled")
        except (struct.error, AssertionError, KeyError, IndexError):
            decoded = None
        if decoded is None:
            raise self.error(f"{name} does not decode from its own bytes")
        {ofp.OFPT_FLOW_MOD: self._flow_mod, ofp.OFPT_GROUP_MOD: self._group_mod,
         ofp.OFPT_METER_MOD: self._meter_mod}[msg_type](msg, *decoded)

    def _same_on_wire(self, what: str, sent: list, wire: list) -> None:
        """os-ken truncates OXM values silently (``udp_src=70000`` goes out as 4464): compare. (``OFPMatch``
        truncates in its constructor already, out of sight; set-field actions keep what was asked for.)"""
        if len(sent) != len(wire):
            raise self.error(f"{what}: {sent} goes on the wire as {wire}")
        for (key, value), (wkey, wvalue) in zip(sent, wire):
            if key != wkey or not same_value(key, value, wvalue):
                raise self.error(f"{what}: {key}={value!r} goes on the wire as {wkey}={wvalue!r}")

    @staticmethod
    def _set_fields(actions) -> list:
        return [(a.key, a.value) for a in actions if isinstance(a, parser.OFPActionSetField)]

    # -- flows ---------------------------------------------------------------------------------------

    def _flow_mod(self, sent, fm) -> None:
        if len(sent.instructions) != len(fm.instructions):
            raise self.error(f"{len(sent.instructions)} instructions go on the wire as {len(fm.instructions)}")
        for i, wi in zip(sent.instructions, fm.instructions):
            if isinstance(i, parser.OFPInstructionActions) and isinstance(wi, parser.OFPInstructionActions):
                self._same_on_wire("set_field", self._set_fields(i.actions), self._set_fields(wi.actions))
        req = self._flow_from(fm)
        if fm.command == ofp.OFPFC_ADD:
            self._flow_add(req, fm.flags)
            return
        if fm.command not in (ofp.OFPFC_MODIFY, ofp.OFPFC_MODIFY_STRICT, ofp.OFPFC_DELETE, ofp.OFPFC_DELETE_STRICT):
            raise self.error(f"flow-mod command {fm.command} is unknown")
        strict = fm.command in (ofp.OFPFC_MODIFY_STRICT, ofp.OFPFC_DELETE_STRICT)
        delete = fm.command in (ofp.OFPFC_DELETE, ofp.OFPFC_DELETE_STRICT)
        if fm.table_id == ofp.OFPTT_ALL and not delete:
            raise self.error("only a delete may name table OFPTT_ALL")
        if delete and (fm.out_port == 0 or fm.out_group == 0):
            raise self.error("a delete with out_port or out_group 0 (os-ken's default) removes only flows that "
                             "output to port 0 or group 0, i.e. nothing: pass OFPP_ANY and OFPG_ANY")

        def chosen(flow: Flow) -> bool:
            if fm.table_id != ofp.OFPTT_ALL and flow.table_id != fm.table_id:
                return False
            if flow.cookie & fm.cookie_mask != fm.cookie & fm.cookie_mask:
                return False
            if strict and (flow.priority != fm.priority or flow.match != req.match):
                return False
            if not strict and not covers(req.match, flow.match):
                return False
            return not delete or ((fm.out_port == ofp.OFPP_ANY or flow.outputs_to(fm.out_port))
                                  and (fm.out_group == ofp.OFPG_ANY or flow.uses_group(fm.out_group)))

        for flow in [f for f in self.flows if chosen(f)]:
            if delete:
                self.tables[flow.table_id].remove(flow)
            else:  # OpenFlow 1.3 (and OVS): a modify changes the instructions only, and adds nothing
                flow.meter_id, flow.actions, flow.goto_table = req.meter_id, req.actions, req.goto_table
                if fm.flags & ofp.OFPFF_RESET_COUNTS:
                    flow.packets = flow.bytes = 0

    def _flow_add(self, new: Flow, flags: int) -> None:
        if new.table_id > ofp.OFPTT_MAX:
            raise self.error(f"cannot add a flow to table {new.table_id}")
        table = self.tables.setdefault(new.table_id, [])
        for old in list(table):
            if old.priority == new.priority and old.match == new.match:
                table.remove(old)  # an identical match replaces the flow, counters kept unless reset
                if not flags & ofp.OFPFF_RESET_COUNTS:
                    new.packets, new.bytes = old.packets, old.bytes
            elif flags & ofp.OFPFF_CHECK_OVERLAP and old.priority == new.priority and overlap(old.match, new.match):
                raise self.error(f"OFPFF_CHECK_OVERLAP: {new} overlaps {old}")
        table.append(new)
        table.sort(key=lambda f: -f.priority)

    def _flow_from(self, fm) -> Flow:
        where = f"table {fm.table_id} priority {fm.priority}"
        if fm.buffer_id != ofp.OFP_NO_BUFFER:
            raise self.error(f"{where}: buffered packets (buffer_id {fm.buffer_id}) are not modelled")
        match = parse_match(fm.match, lambda what: self.error(f"{where}: {what}"))
        flow = Flow(fm.table_id, fm.priority, match, cookie=fm.cookie)
        seen = set()
        for inst in fm.instructions:
            if isinstance(inst, parser.OFPInstructionActions) and inst.type == ofp.OFPIT_APPLY_ACTIONS:
                flow.actions = tuple(inst.actions)
            elif isinstance(inst, parser.OFPInstructionGotoTable):
                if not fm.table_id < inst.table_id <= ofp.OFPTT_MAX:
                    raise self.error(f"{where}: goto table {inst.table_id} must lie ahead")
                flow.goto_table = inst.table_id
            elif isinstance(inst, parser.OFPInstructionMeter):
                flow.meter_id = inst.meter_id
            else:
                raise self.error(f"{where}: instruction {_INSTRUCTION_NAMES.get(inst.type, type(inst).__name__)} "
                                 "is not modelled")
            if inst.type in seen:
                raise self.error(f"{where}: two instructions of type {inst.type}")
            seen.add(inst.type)
        if fm.command in (ofp.OFPFC_ADD, ofp.OFPFC_MODIFY, ofp.OFPFC_MODIFY_STRICT):
            if flow.meter_id is not None and flow.meter_id not in self.meters:
                raise self.error(f"{where}: meter {flow.meter_id} does not exist")
            self._check_actions(flow.actions, where, match)
        return flow

    def _check_actions(self, actions, where: str, match: Match | None = None) -> None:
        """Refuse what is not modelled; with ``match`` (a flow), also what OVS finds inconsistent with it."""
        known = None if match is None else {f: v for f, (v, m) in match.items() if m == FIELDS[f].full}
        for a in actions:
            if not isinstance(a, _ACTIONS):
                raise self.error(f"{where}: action {type(a).__name__} is not modelled")
            if isinstance(a, parser.OFPActionOutput):
                if not (0 < a.port <= ofp.OFPP_MAX or a.port in (ofp.OFPP_CONTROLLER, ofp.OFPP_IN_PORT)):
                    raise self.error(f"{where}: output to port {a.port:#x} is not modelled")
            elif isinstance(a, parser.OFPActionGroup):
                if a.group_id not in self.groups:
                    raise self.error(f"{where}: group {a.group_id} does not exist")
            elif isinstance(a, parser.OFPActionPushVlan) and a.ethertype not in (0x8100, 0x88A8):
                raise self.error(f"{where}: push_vlan ethertype {a.ethertype:#06x}")
            elif isinstance(a, parser.OFPActionPushMpls) and a.ethertype not in ETH_MPLS_TYPES:
                raise self.error(f"{where}: push_mpls ethertype {a.ethertype:#06x}")
            elif isinstance(a, parser.OFPActionSetField):
                spec = FIELDS.get(a.key)
                if spec is None or a.key == "in_port" or isinstance(a.value, tuple):
                    raise self.error(f"{where}: set_field of {a.key} is not modelled")
                if field_int(a.key, a.value) > spec.full:
                    raise self.error(f"{where}: set_field {a.key}={a.value} does not fit in {spec.bits} bits")
            if known is None:
                continue
            if isinstance(a, parser.OFPActionPopMpls) and known.get("eth_type") not in ETH_MPLS_TYPES:
                raise self.error(f"{where}: pop_mpls needs an MPLS eth_type in the match (OVS refuses it)")
            if isinstance(a, (parser.OFPActionPushMpls, parser.OFPActionPopMpls)):
                known = {f: v for f, v in known.items() if f in L2_FIELDS} | {"eth_type": a.ethertype}
            elif isinstance(a, parser.OFPActionSetField):
                prereq = FIELDS[a.key].prereq
                if prereq and known.get(prereq[0]) not in prereq[1]:
                    raise self.error(f"{where}: set_field {a.key} needs {prereq[0]} in {prereq[1]} (OVS refuses it)")
                known[a.key] = field_int(a.key, a.value)

    # -- groups and meters ---------------------------------------------------------------------------

    def _group_mod(self, sent, command: int, type_: int, group_id: int, buckets: list) -> None:
        if len(sent.buckets) != len(buckets):
            raise self.error(f"group {group_id}: {len(sent.buckets)} buckets go on the wire as {len(buckets)}")
        for b, wb in zip(sent.buckets, buckets):
            self._same_on_wire(f"group {group_id}", self._set_fields(b.actions), self._set_fields(wb.actions))
        if command == ofp.OFPGC_DELETE:
            for gid in list(self.groups) if group_id == ofp.OFPG_ALL else [group_id]:
                if self.groups.pop(gid, None) is not None:  # OpenFlow 1.3: its flows go with it
                    self._drop_flows(lambda f: f.uses_group(gid))
            return
        if command not in (ofp.OFPGC_ADD, ofp.OFPGC_MODIFY):
            raise self.error(f"group-mod command {command} is unknown")
        where = f"group {group_id}"
        if command == ofp.OFPGC_ADD and group_id in self.groups:
            raise self.error(f"{where} already exists")
        if command == ofp.OFPGC_MODIFY and group_id not in self.groups:
            raise self.error(f"{where} does not exist: cannot modify it")
        if group_id > ofp.OFPG_MAX:
            raise self.error(f"{where}: id is reserved")
        if type_ not in _GROUP_TYPES:
            raise self.error(f"{where}: group type {type_} is not modelled")
        if type_ == ofp.OFPGT_INDIRECT and len(buckets) != 1:
            raise self.error(f"{where}: an indirect group needs exactly one bucket")
        held = []
        for i, b in enumerate(buckets):
            watch_port = None if b.watch_port == ofp.OFPP_ANY else b.watch_port
            watch_group = None if b.watch_group == ofp.OFPG_ANY else b.watch_group
            if type_ == ofp.OFPGT_FF and watch_port is None and watch_group is None:
                raise self.error(f"{where} bucket {i}: a fast-failover bucket needs a watch port or group")
            if watch_group is not None and watch_group not in self.groups:
                raise self.error(f"{where} bucket {i}: watched group {watch_group} does not exist")
            self._check_actions(b.actions, f"{where} bucket {i}")
            held.append(Bucket(tuple(b.actions), b.weight, watch_port, watch_group))
        old = self.groups.get(group_id)
        self.groups[group_id] = Group(group_id, _GROUP_TYPES[type_], tuple(held))
        if self._group_loop(group_id):
            self.groups[group_id] = old
            raise self.error(f"{where}: its buckets lead back to it")

    def _group_loop(self, start: int) -> bool:
        stack, seen = [start], set()
        while stack:
            group = self.groups.get(stack.pop())
            for ref in [] if group is None else self._group_refs(group):
                if ref == start:
                    return True
                if ref not in seen:
                    seen.add(ref)
                    stack.append(ref)
        return False

    @staticmethod
    def _group_refs(group: Group) -> list[int]:
        return [r for b in group.buckets for r in [a.group_id for a in b.actions
                                                    if isinstance(a, parser.OFPActionGroup)] + [b.watch_group]
                if r is not None]

    def _meter_mod(self, sent, command: int, flags: int, meter_id: int, bands: list) -> None:
        if command == ofp.OFPMC_DELETE:
            for mid in list(self.meters) if meter_id == ofp.OFPM_ALL else [meter_id]:
                if self.meters.pop(mid, None) is not None:  # OVS deletes the flows that use it
                    self._drop_flows(lambda f: f.meter_id == mid)
            return
        where = f"meter {meter_id}"
        if command == ofp.OFPMC_ADD and meter_id in self.meters:
            raise self.error(f"{where} already exists")
        if command == ofp.OFPMC_MODIFY and meter_id not in self.meters:
            raise self.error(f"{where} does not exist: cannot modify it")
        if command not in (ofp.OFPMC_ADD, ofp.OFPMC_MODIFY):
            raise self.error(f"meter-mod command {command} is unknown")
        if not 0 < meter_id <= ofp.OFPM_MAX:
            raise self.error(f"{where}: id is reserved")
        if flags & ~_METER_FLAGS or bool(flags & ofp.OFPMF_KBPS) == bool(flags & ofp.OFPMF_PKTPS):
            raise self.error(f"{where}: flags {flags:#x} need exactly one of OFPMF_KBPS and OFPMF_PKTPS")
        if not bands or not all(isinstance(b, parser.OFPMeterBandDrop) and b.rate > 0 for b in bands):
            raise self.error(f"{where}: only drop bands with a rate are modelled")
        burst = bool(flags & ofp.OFPMF_BURST)
        self.meters[meter_id] = Meter(meter_id, "kbps" if flags & ofp.OFPMF_KBPS else "pktps",
                                      tuple((b.rate, b.burst_size if burst else 0) for b in bands))

    def _drop_flows(self, doomed) -> None:
        for table in self.tables.values():
            table[:] = [f for f in table if not doomed(f)]

    # -- checks --------------------------------------------------------------------------------------

    def overlaps(self) -> list[tuple[Flow, Flow]]:
        """Pairs of flows of one table and priority that some packet matches both, acting differently.

        Flows of one priority are first grouped by the exact values of the fields every one of them
        matches in full (a route table's ``ipv4_dst``, say): flows of two groups differ there, so they
        cannot overlap, and only flows within a group are compared pairwise.
        """
        found = []
        for table in self.tables.values():
            by_priority: dict[int, list[Flow]] = {}
            for f in table:
                by_priority.setdefault(f.priority, []).append(f)
            for flows in by_priority.values():
                exact = set.intersection(*({k for k, (v, m) in f.match.items() if m == FIELDS[k].full}
                                           for f in flows)) if flows else set()
                keys = sorted(exact)
                groups: dict[tuple, list[Flow]] = {}
                for f in flows:
                    groups.setdefault(tuple(f.match[k][0] for k in keys), []).append(f)
                for group in groups.values():
                    behaviours = [f.behaviour for f in group]
                    for i, a in enumerate(group):
                        for j in range(i + 1, len(group)):
                            if behaviours[i] != behaviours[j] and overlap(a.match, group[j].match):
                                found.append((a, group[j]))
        return found

    def check(self) -> None:
        """Re-validate the whole switch: every meter and group referred to exists, and no two flows of one
        table and priority overlap with different instructions (OVS would pick one of them arbitrarily)."""
        problems = [f"{flow}: meter {flow.meter_id} does not exist"
                    for flow in self.flows if flow.meter_id is not None and flow.meter_id not in self.meters]
        problems += [f"{flow}: group {a.group_id} does not exist" for flow in self.flows for a in flow.actions
                     if isinstance(a, parser.OFPActionGroup) and a.group_id not in self.groups]
        problems += [f"group {g.group_id} refers to group {ref}, which does not exist"
                     for g in self.groups.values() for ref in self._group_refs(g) if ref not in self.groups]
        problems += [f"overlap at one priority: {a} | {b}" for a, b in self.overlaps()]
        if problems:
            more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
            raise self.error("; ".join(problems[:5]) + more)

    # -- packets -------------------------------------------------------------------------------------

    def lookup(self, table_id: int, packet: dict) -> Flow | None:
        """The highest-priority flow of ``table_id`` that matches ``packet`` (OXM field -> value)."""
        values = packet_ints(packet, self.error)
        hits = []
        for flow in self.tables.get(table_id, ()):
            if hits and flow.priority < hits[0].priority:
                break
            if matches(flow.match, values):
                hits.append(flow)
        if len({f.behaviour for f in hits}) > 1:
            raise self.error(f"{len(hits)} flows of one priority match {packet}: " + " | ".join(map(str, hits)))
        return hits[0] if hits else None


def _decode_group_mod(buf: bytes) -> tuple:
    command, type_, group_id = struct.unpack_from(ofp.OFP_GROUP_MOD_PACK_STR, buf, ofp.OFP_HEADER_SIZE)
    buckets, offset = [], ofp.OFP_GROUP_MOD_SIZE
    while offset < len(buf):
        bucket = parser.OFPBucket.parser(buf, offset)
        if bucket.len < ofp.OFP_BUCKET_SIZE:
            return None
        buckets.append(bucket)
        offset += bucket.len
    return command, type_, group_id, buckets


def _decode_meter_mod(buf: bytes) -> tuple:
    command, flags, meter_id = struct.unpack_from(ofp.OFP_METER_MOD_PACK_STR, buf, ofp.OFP_HEADER_SIZE)
    bands, offset = [], ofp.OFP_METER_MOD_SIZE
    while offset < len(buf):
        band = parser.OFPMeterBandHeader.parser(buf, offset)
        bands.append(band)
        offset += band.len
    return command, flags, meter_id, bands
