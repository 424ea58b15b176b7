"""After a reconnect: what the switch holds against what it should, as pure data.

A switch in secure fail mode keeps its flows while no controller is there.
A controller that (re)connects reads the flow table, keyed by (table,
priority, match) with the cookie's digest of what each flow does (see
:func:`controller.cookies.seal`), and corrects only the difference.

>>> from controller.ruleplan import FlowEntry, Output, RulePlan, match
>>> f = FlowEntry(1, 100, match(ipv4_dst="198.18.0.1"), (Output(1),), cookie=7)
>>> r = reconcile({(0, 100, f.match): 7}, RulePlan(flows=(f,)))
>>> (len(r.unchanged), len(r.add.flows), r.stale)
(1, 0, [])
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from . import cookies
from .ruleplan import FlowEntry, Group, RulePlan

FlowKey = tuple  # (table_id, priority, match)


@dataclass(frozen=True)
class Reconciliation:
    unchanged: list[FlowEntry]
    add: RulePlan        # flows to (re)install, with the meters and groups they use
    stale: list[FlowKey]  # flows the switch has that the plan does not


def held_epoch(held: dict[FlowKey, int]) -> int | None:
    """The epoch most of the switch's flows carry, or None for an empty switch."""
    counts = Counter(cookies.epoch_of(c) for c in held.values())
    return counts.most_common(1)[0][0] if counts else None


def reconcile(held: dict[FlowKey, int], wanted: RulePlan) -> Reconciliation:
    """``held``: (table, priority, match) -> cookie, as the switch reports them."""
    groups = {g.group_id: g for g in wanted.groups}
    meters = {m.meter_id: m for m in wanted.meters}
    unchanged, changed = [], []
    for f in wanted.flows:
        (unchanged if held.get((f.table_id, f.priority, f.match)) == f.cookie else changed).append(f)
    need_groups: dict[int, object] = {}

    def take(actions):
        for a in actions:
            if isinstance(a, Group) and a.group_id not in need_groups and a.group_id in groups:
                need_groups[a.group_id] = groups[a.group_id]
                for b in groups[a.group_id].buckets:
                    take(b.actions)

    for f in changed:
        take(f.actions)
    need_meters = {f.meter_id: meters[f.meter_id] for f in changed if f.meter_id in meters}
    wanted_keys = {(f.table_id, f.priority, f.match) for f in wanted.flows}
    stale = [k for k in held if k not in wanted_keys]
    return Reconciliation(unchanged, RulePlan(tuple(changed), tuple(need_groups.values()), tuple(need_meters.values()),
                                              wanted.epoch), stale)
