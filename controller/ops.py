"""Operations on one switch, as pure data, and the one place their order is decided.

The controller core returns lists of these per switch; :mod:`controller.ofmsgs`
turns each into one OpenFlow 1.3 message, and the os-ken app sends them in
order.  The order is the one Faucet uses: deletes, a barrier, then adds (meters
and groups before the flows that use them), and a final barrier whose reply
tells the core the switch holds the plan.  Moving between two plans is make
before break instead: the new plan's entries first, a barrier, then what only
the old plan had.

>>> from controller.ruleplan import FlowEntry, Output, RulePlan, match
>>> plan = RulePlan(flows=(FlowEntry(1, 100, match(ipv4_dst="198.18.0.1"), (Output(1),)),))
>>> [type(op).__name__ for op in install_ops(plan, token=7)]
['ClearAll', 'Barrier', 'AddFlow', 'Barrier']
"""
from __future__ import annotations

from dataclasses import dataclass

from . import cookies
from .proxyarp import ArpReply
from .reconcile import Reconciliation
from .ruleplan import FlowEntry, GroupEntry, Match, MeterEntry, RulePlan, diff

__all__ = ["ClearAll", "AddMeter", "ModifyMeter", "DeleteMeter", "AddGroup", "ModifyGroup", "DeleteGroup",
           "AddFlow", "DeleteFlow", "Barrier", "RequestStats", "SendArp", "Op",
           "install_ops", "transition_ops", "reconcile_ops", "STATS_KINDS"]

STATS_KINDS = ("flows", "ports", "meters")


@dataclass(frozen=True)
class ClearAll:
    """Delete every flow of every table, every group and every meter."""


@dataclass(frozen=True)
class AddMeter:
    meter: MeterEntry


@dataclass(frozen=True)
class ModifyMeter:
    meter: MeterEntry


@dataclass(frozen=True)
class DeleteMeter:
    meter_id: int


@dataclass(frozen=True)
class AddGroup:
    group: GroupEntry


@dataclass(frozen=True)
class ModifyGroup:
    group: GroupEntry


@dataclass(frozen=True)
class DeleteGroup:
    group_id: int


@dataclass(frozen=True)
class AddFlow:
    """Add a flow; one of the same table, priority and match is replaced in place."""

    flow: FlowEntry


@dataclass(frozen=True)
class DeleteFlow:
    """Delete the one flow of this table, priority and match (strict)."""

    table_id: int
    priority: int
    match: Match


@dataclass(frozen=True)
class Barrier:
    """A barrier; ``token`` (when given) is reported back with its reply."""

    token: int | None = None


@dataclass(frozen=True)
class RequestStats:
    """Ask the switch for its counters: ``flows``, ``ports`` or ``meters``; for ``flows``, a
    ``cookie_kind`` (one of :data:`controller.cookies.KINDS`) asks only for the flows of that kind."""

    kind: str
    cookie_kind: str | None = None

    def __post_init__(self):
        if self.kind not in STATS_KINDS:
            raise ValueError(f"unknown stats kind {self.kind!r} (one of: {', '.join(STATS_KINDS)})")
        if self.cookie_kind is not None and (self.kind != "flows" or self.cookie_kind not in cookies.KINDS):
            raise ValueError(f"a cookie kind ({self.cookie_kind!r}) filters flows, by one of: {', '.join(cookies.KINDS)}")


@dataclass(frozen=True)
class SendArp:
    """Send an ARP reply out of ``port`` (the controller answers for known hosts)."""

    port: int
    reply: ArpReply


Op = (ClearAll | AddMeter | ModifyMeter | DeleteMeter | AddGroup | ModifyGroup | DeleteGroup | AddFlow | DeleteFlow
      | Barrier | RequestStats | SendArp)


def _adds(plan: RulePlan) -> list[Op]:
    """Meters, then groups, then flows: what a flow refers to exists before it."""
    return [*(AddMeter(m) for m in plan.meters), *(AddGroup(g) for g in plan.groups),
            *(AddFlow(f) for f in plan.flows)]


def install_ops(plan: RulePlan, token: int) -> list[Op]:
    """A fresh switch: delete everything, barrier, add the whole plan, barrier."""
    return [ClearAll(), Barrier(), *_adds(plan), Barrier(token)]


def transition_ops(old: RulePlan, new: RulePlan, token: int, clear_first: bool = False) -> list[Op]:
    """Make before break, from the plan a switch was sent to the next one.

    The new meters and groups go in beside the old (a new epoch's ids are in
    the other half of the id space; one that an old entry already holds is
    modified instead), changed flows are replaced in place, a barrier, then
    the flows, groups and meters only the old plan had are removed.

    ``clear_first``: the switch may hold entries of the ids to add that no flow of
    ``old`` uses (left by a controller killed in the middle of a move): they are
    deleted first, outer groups before the ones they nest (deleting what is absent
    is no error, and no flow in force uses them).
    """
    change = diff(old, new)
    old_meters = {m.meter_id for m in old.meters}
    old_groups = {g.group_id for g in old.groups}
    new_meters = {m.meter_id for m in new.meters}
    new_groups = {g.group_id for g in new.groups}
    new_keys = {f.key for f in new.flows}
    clear = [*(DeleteGroup(g.group_id) for g in reversed(change.add.groups) if g.group_id not in old_groups),
             *(DeleteMeter(m.meter_id) for m in change.add.meters if m.meter_id not in old_meters)
             ] if clear_first else []
    return [*clear, *([Barrier()] if clear else []),
            *(ModifyMeter(m) if m.meter_id in old_meters else AddMeter(m) for m in change.add.meters),
            *(ModifyGroup(g) if g.group_id in old_groups else AddGroup(g) for g in change.add.groups),
            *(AddFlow(f) for f in change.add.flows),
            Barrier(),
            *(DeleteFlow(f.table_id, f.priority, f.match) for f in change.remove.flows if f.key not in new_keys),
            *(DeleteGroup(g.group_id) for g in change.remove.groups if g.group_id not in new_groups),
            *(DeleteMeter(m.meter_id) for m in change.remove.meters if m.meter_id not in new_meters),
            Barrier(token)]


def reconcile_ops(fix: Reconciliation, token: int) -> list[Op]:
    """Correct only the difference a reconnecting switch reported: stale flows
    out; changed flows in, their meters and groups replaced first (an entry of
    that id may exist with other contents, and reading it back is not needed:
    deleting what is absent is no error)."""
    return [*(DeleteFlow(table, priority, m) for table, priority, m in fix.stale),
            *(DeleteMeter(m.meter_id) for m in fix.add.meters), *(DeleteGroup(g.group_id) for g in fix.add.groups),
            Barrier(), *_adds(fix.add), Barrier(token)]
