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


def _uses(flow: FlowEntry, groups: dict) -> tuple[set[int], set[int]]:
    """The groups (nested ones too) and the meter a flow uses."""
    found: set[int] = set()

    def take(actions):
        for a in actions:
            if isinstance(a, Group) and a.group_id not in found and a.group_id in groups:
                found.add(a.group_id)
                for b in groups[a.group_id].buckets:
                    take(b.actions)

    take(flow.actions)
    return found, ({flow.meter_id} if flow.meter_id is not None else set())


def reconcile(held: dict[FlowKey, int], wanted: RulePlan) -> Reconciliation:
    """``held``: (table, priority, match) -> cookie, as the switch reports them.

    Meters and groups of changed flows are replaced; a switch deletes the flows
    that use a meter or group it deletes, so every flow using a replaced one is
    reinstalled too, even if it was unchanged.
    """
    groups = {g.group_id: g for g in wanted.groups}
    meters = {m.meter_id: m for m in wanted.meters}
    uses = {f: _uses(f, groups) for f in wanted.flows}
    changed = {f for f in wanted.flows if held.get((f.table_id, f.priority, f.match)) != f.cookie}
    need_groups: set[int] = set()
    need_meters: set[int] = set()
    while True:
        for f in changed:
            need_groups |= uses[f][0]
            need_meters |= uses[f][1] & set(meters)
        more = {f for f in wanted.flows if f not in changed and (uses[f][0] & need_groups or uses[f][1] & need_meters)}
        if not more:
            break
        changed |= more
    add_flows = tuple(f for f in wanted.flows if f in changed)
    unchanged = [f for f in wanted.flows if f not in changed]
    wanted_keys = {(f.table_id, f.priority, f.match) for f in wanted.flows}
    stale = [k for k in held if k not in wanted_keys]
    return Reconciliation(unchanged, RulePlan(add_flows, tuple(g for g in wanted.groups if g.group_id in need_groups),
                                              tuple(m for m in wanted.meters if m.meter_id in need_meters),
                                              wanted.epoch), stale)
