"""Turn rule-plan data into os-ken OpenFlow 1.3 messages.

This is the only module that knows both the pure plan and os-ken's message
classes; the app calls :func:`install_messages` and sends what it returns.
The order is the one Faucet uses: deletes, one barrier, then adds (meters and
groups before the flows that refer to them), then a final barrier whose reply
tells the app the switch holds the plan.
"""
from __future__ import annotations

from .ruleplan import (
    OFPP_CONTROLLER, FlowEntry, Group, GroupEntry, MeterEntry, Output, PopMpls, PopVlan,
    PushMpls, PushVlan, RulePlan, SetField, ToController, diff,
)

_GROUP_TYPES = {"all": "OFPGT_ALL", "select": "OFPGT_SELECT", "indirect": "OFPGT_INDIRECT", "ff": "OFPGT_FF"}


def _action(dp, action):
    parser, ofp = dp.ofproto_parser, dp.ofproto
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
    raise TypeError(f"unknown action {action!r}")


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
        flags=0, match=parser.OFPMatch(**dict(flow.match)),
        instructions=instructions)


def flow_delete_strict(dp, flow: FlowEntry):
    parser, ofp = dp.ofproto_parser, dp.ofproto
    return parser.OFPFlowMod(
        datapath=dp, table_id=flow.table_id, command=ofp.OFPFC_DELETE_STRICT, priority=flow.priority,
        out_port=ofp.OFPP_ANY, out_group=ofp.OFPG_ANY, match=parser.OFPMatch(**dict(flow.match)))


def group_mod(dp, group: GroupEntry, command: str = "add"):
    parser, ofp = dp.ofproto_parser, dp.ofproto
    buckets = [parser.OFPBucket(weight=b.weight,
                                watch_port=ofp.OFPP_ANY if b.watch_port is None else b.watch_port,
                                watch_group=ofp.OFPG_ANY,
                                actions=[_action(dp, a) for a in b.actions]) for b in group.buckets]
    cmd = {"add": ofp.OFPGC_ADD, "modify": ofp.OFPGC_MODIFY, "delete": ofp.OFPGC_DELETE}[command]
    return parser.OFPGroupMod(dp, cmd, getattr(ofp, _GROUP_TYPES[group.type]), group.group_id,
                              buckets if command != "delete" else [])


def meter_mod(dp, meter: MeterEntry, command: str = "add"):
    parser, ofp = dp.ofproto_parser, dp.ofproto
    flags = ofp.OFPMF_KBPS | (ofp.OFPMF_BURST if meter.burst_kbits else 0)
    bands = [parser.OFPMeterBandDrop(rate=meter.rate_kbps, burst_size=meter.burst_kbits)] if command != "delete" else []
    cmd = {"add": ofp.OFPMC_ADD, "modify": ofp.OFPMC_MODIFY, "delete": ofp.OFPMC_DELETE}[command]
    return parser.OFPMeterMod(dp, command=cmd, flags=flags, meter_id=meter.meter_id, bands=bands)


def delete_everything(dp) -> list:
    """Flows of every table, all groups and all meters."""
    parser, ofp = dp.ofproto_parser, dp.ofproto
    return [
        parser.OFPFlowMod(datapath=dp, table_id=ofp.OFPTT_ALL, command=ofp.OFPFC_DELETE,
                          out_port=ofp.OFPP_ANY, out_group=ofp.OFPG_ANY, match=parser.OFPMatch()),
        parser.OFPGroupMod(dp, ofp.OFPGC_DELETE, 0, ofp.OFPG_ALL, []),
        parser.OFPMeterMod(dp, command=ofp.OFPMC_DELETE, flags=0, meter_id=ofp.OFPM_ALL, bands=[]),
    ]


def add_messages(dp, plan: RulePlan) -> list:
    """Meters, then groups, then flows: what a flow refers to exists before it."""
    return ([meter_mod(dp, m) for m in plan.meters] + [group_mod(dp, g) for g in plan.groups]
            + [flow_add(dp, f) for f in plan.flows])


def install_messages(dp, plan: RulePlan) -> list:
    """A full install on a fresh connection: delete all, barrier, add, barrier."""
    parser = dp.ofproto_parser
    return [*delete_everything(dp), parser.OFPBarrierRequest(dp), *add_messages(dp, plan), parser.OFPBarrierRequest(dp)]


def transition_messages(dp, old: RulePlan, new: RulePlan) -> list:
    """Make before break: the new epoch's meters, groups and flows first (a flow
    with the same table, priority and match is replaced in place), one barrier,
    then what only the old plan had, then a barrier."""
    parser = dp.ofproto_parser
    change = diff(old, new)
    new_keys = {f.key for f in new.flows}
    stale_flows = [f for f in change.remove.flows if f.key not in new_keys]
    return [*add_messages(dp, change.add), parser.OFPBarrierRequest(dp),
            *[flow_delete_strict(dp, f) for f in stale_flows],
            *[group_mod(dp, g, "delete") for g in change.remove.groups],
            *[meter_mod(dp, m, "delete") for m in change.remove.meters],
            parser.OFPBarrierRequest(dp)]


def reconcile_messages(dp, fix) -> list:
    """Correct only the difference found by :func:`controller.reconcile.reconcile`:
    stale flows out; changed flows in, their meters and groups replaced first."""
    parser, ofp = dp.ofproto_parser, dp.ofproto
    out = [parser.OFPFlowMod(datapath=dp, table_id=table, command=ofp.OFPFC_DELETE_STRICT, priority=priority,
                             out_port=ofp.OFPP_ANY, out_group=ofp.OFPG_ANY, match=parser.OFPMatch(**dict(m)))
           for table, priority, m in fix.stale]
    # Replace, do not add: a meter or group of that id may exist with other contents.
    out += [meter_mod(dp, m, "delete") for m in fix.add.meters] + [group_mod(dp, g, "delete") for g in fix.add.groups]
    return [*out, parser.OFPBarrierRequest(dp), *add_messages(dp, fix.add), parser.OFPBarrierRequest(dp)]
