"""Turn the core's operations into os-ken OpenFlow 1.3 messages, one for one.

This is the only module that knows both the pure operations
(:mod:`controller.ops`) and os-ken's message classes.  It decides nothing:
the order was decided by :mod:`controller.ops`, and :func:`to_messages` keeps
it.  ``dp`` is anything with ``ofproto`` and ``ofproto_parser`` (an os-ken
datapath, or the fake one of the tests).
"""
from __future__ import annotations

from . import cookies, ofwire
from . import ops as o
from .errors import PlanError
from .ruleplan import (
    OFPP_CONTROLLER, FlowEntry, Group, GroupEntry, MeterEntry, Output, PopMpls, PopVlan, PushMpls, PushVlan,
    SetField, ToController,
)

_GROUP_TYPES = {"all": "OFPGT_ALL", "select": "OFPGT_SELECT", "indirect": "OFPGT_INDIRECT", "ff": "OFPGT_FF"}
_STATS = {"flows": "OFPFlowStatsRequest", "ports": "OFPPortStatsRequest", "meters": "OFPMeterStatsRequest"}


def _action(dp, action):
    parser = dp.ofproto_parser
    if isinstance(action, Output):
        return parser.OFPActionOutput(action.port)
    if isinstance(action, ToController):
        return parser.OFPActionOutput(OFPP_CONTROLLER, action.max_len)
    if isinstance(action, SetField):
        return parser.OFPActionSetField(**{action.field: action.value})
    if isinstance(action, PushMpls):
        return parser.OFPActionPushMpls(action.ethertype)
    if isinstance(action, PopMpls):
        return parser.OFPActionPopMpls(action.ethertype)
    if isinstance(action, PushVlan):
        return parser.OFPActionPushVlan(action.ethertype)
    if isinstance(action, PopVlan):
        return parser.OFPActionPopVlan()
    if isinstance(action, Group):
        return parser.OFPActionGroup(action.group_id)
    raise PlanError(f"no OpenFlow action for {action!r}")


def flow_add(dp, flow: FlowEntry):
    parser, ofp = dp.ofproto_parser, dp.ofproto
    instructions = []
    if flow.meter_id is not None:
        instructions.append(parser.OFPInstructionMeter(flow.meter_id, ofp.OFPIT_METER))
    if flow.actions:
        instructions.append(parser.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS, [_action(dp, a) for a in flow.actions]))
    if flow.goto_table is not None:
        instructions.append(parser.OFPInstructionGotoTable(flow.goto_table))
    return parser.OFPFlowMod(
        datapath=dp, cookie=flow.cookie, table_id=flow.table_id, command=ofp.OFPFC_ADD,
        idle_timeout=flow.idle_timeout, hard_timeout=flow.hard_timeout, priority=flow.priority,
        flags=0, match=parser.OFPMatch(**dict(flow.match)), instructions=instructions)


def _group(dp, group: GroupEntry, command: int):
    parser, ofp = dp.ofproto_parser, dp.ofproto
    buckets = [parser.OFPBucket(weight=b.weight,
                                watch_port=ofp.OFPP_ANY if b.watch_port is None else b.watch_port,
                                watch_group=ofp.OFPG_ANY,
                                actions=[_action(dp, a) for a in b.actions]) for b in group.buckets]
    return parser.OFPGroupMod(dp, command, getattr(ofp, _GROUP_TYPES[group.type]), group.group_id, buckets)


def _meter(dp, meter: MeterEntry, command: int):
    parser, ofp = dp.ofproto_parser, dp.ofproto
    flags = ofp.OFPMF_KBPS | (ofp.OFPMF_BURST if meter.burst_kbits else 0)
    bands = [parser.OFPMeterBandDrop(rate=meter.rate_kbps, burst_size=meter.burst_kbits)]
    return parser.OFPMeterMod(dp, command=command, flags=flags, meter_id=meter.meter_id, bands=bands)


def arp_packet(reply) -> bytes:
    """The bytes of an ARP reply (os-ken's packet library builds them)."""
    from os_ken.lib.packet import arp, ethernet, packet

    out = packet.Packet()
    out.add_protocol(ethernet.ethernet(dst=reply.dst_mac, src=reply.src_mac, ethertype=0x0806))
    out.add_protocol(arp.arp(opcode=arp.ARP_REPLY, src_mac=reply.src_mac, src_ip=reply.src_ip,
                             dst_mac=reply.dst_mac, dst_ip=reply.dst_ip))
    out.serialize()
    return bytes(out.data)


def to_message(dp, op):
    """The one OpenFlow message of one operation."""
    parser, ofp = dp.ofproto_parser, dp.ofproto
    if isinstance(op, o.AddFlow):
        return flow_add(dp, op.flow)
    if isinstance(op, o.DeleteFlow):
        return parser.OFPFlowMod(datapath=dp, table_id=op.table_id, command=ofp.OFPFC_DELETE_STRICT,
                                 priority=op.priority, out_port=ofp.OFPP_ANY, out_group=ofp.OFPG_ANY,
                                 match=parser.OFPMatch(**dict(op.match)))
    if isinstance(op, (o.AddMeter, o.ModifyMeter)):
        return _meter(dp, op.meter, ofp.OFPMC_ADD if isinstance(op, o.AddMeter) else ofp.OFPMC_MODIFY)
    if isinstance(op, o.DeleteMeter):
        return parser.OFPMeterMod(dp, command=ofp.OFPMC_DELETE, flags=0, meter_id=op.meter_id, bands=[])
    if isinstance(op, (o.AddGroup, o.ModifyGroup)):
        return _group(dp, op.group, ofp.OFPGC_ADD if isinstance(op, o.AddGroup) else ofp.OFPGC_MODIFY)
    if isinstance(op, o.DeleteGroup):
        return parser.OFPGroupMod(dp, ofp.OFPGC_DELETE, 0, op.group_id, [])
    if isinstance(op, o.Barrier):
        return parser.OFPBarrierRequest(dp)
    if isinstance(op, o.ClearAll):
        raise PlanError("ClearAll is three messages: use to_messages")
    if isinstance(op, o.RequestStats):
        if op.kind == "flows":
            cookie, mask = (cookies.make(op.cookie_kind), cookies.KIND_MASK) if op.cookie_kind else (0, 0)
            return parser.OFPFlowStatsRequest(dp, 0, ofp.OFPTT_ALL, ofp.OFPP_ANY, ofp.OFPG_ANY, cookie, mask,
                                              parser.OFPMatch())
        if op.kind == "ports":
            return parser.OFPPortStatsRequest(dp, 0, ofp.OFPP_ANY)
        return parser.OFPMeterStatsRequest(dp, 0, ofp.OFPM_ALL)
    if isinstance(op, o.SendArp):
        return parser.OFPPacketOut(datapath=dp, buffer_id=ofp.OFP_NO_BUFFER, in_port=ofp.OFPP_CONTROLLER,
                                   actions=[parser.OFPActionOutput(op.port)], data=arp_packet(op.reply))
    raise PlanError(f"no OpenFlow message for {op!r}")


def to_messages(dp, ops) -> list[tuple[object, object]]:
    """``(op, message)`` pairs in the operations' order; ClearAll becomes its three deletes."""
    parser, ofp = dp.ofproto_parser, dp.ofproto
    out = []
    for op in ops:
        if isinstance(op, o.ClearAll):
            out += [(op, parser.OFPFlowMod(datapath=dp, table_id=ofp.OFPTT_ALL, command=ofp.OFPFC_DELETE,
                                           out_port=ofp.OFPP_ANY, out_group=ofp.OFPG_ANY, match=parser.OFPMatch())),
                    (op, parser.OFPGroupMod(dp, ofp.OFPGC_DELETE, 0, ofp.OFPG_ALL, [])),
                    (op, parser.OFPMeterMod(dp, command=ofp.OFPMC_DELETE, flags=0, meter_id=ofp.OFPM_ALL, bands=[]))]
        else:
            out.append((op, to_message(dp, op)))
    return out


def to_wire(dp, ops) -> list[tuple[object, object]]:
    """:func:`to_messages`, except that the flow mods :mod:`controller.ofwire` packs come as
    their bytes (xid 0), os-ken's very bytes at a tenth of the cost."""
    out: list[tuple[object, object]] = []
    for op in ops:
        try:
            if isinstance(op, o.AddFlow):
                out.append((op, ofwire.flow_mod(op.flow)))
                continue
            if isinstance(op, o.DeleteFlow):
                out.append((op, ofwire.delete_strict(op.table_id, op.priority, op.match)))
                continue
        except ofwire.Unsupported:
            pass
        out += to_messages(dp, [op])
    return out
