"""From the market's allocation to labelled paths with link-disjoint backups.

Each distinct switch sequence gets one MPLS label, shared by every demand that
uses it, so core tables grow with paths, not with demands.  A backup is the
lowest-latency path over offered links that shares no link with its primary;
traffic that may stay local (hosts of one last mile, or of two last miles with
a direct link) never gets a backup through a backbone switch.

>>> from topologies.loader import load_scenario
>>> from controller.market import clear_market
>>> s = load_scenario("topologies/library/failover.yaml")
>>> plan = plan_paths(s, clear_market(s, "lmp"))
>>> p = plan.demands["w1-e1"][0]
>>> p.primary.switches, p.backup.switches
(('west', 'r1', 'r2', 'east'), ('west', 'r3', 'east'))
"""
from __future__ import annotations

from dataclasses import dataclass, field

from topologies.model import Scenario

FIRST_LABEL = 16  # 0-15 are reserved in MPLS


@dataclass(frozen=True)
class Route:
    switches: tuple[str, ...]
    links: tuple[str, ...]
    label: int


@dataclass(frozen=True)
class DemandPath:
    """One weighted path of a demand, with its backup (None when there is none)."""

    demand_id: str
    kbps: int
    primary: Route
    backup: Route | None


@dataclass(frozen=True)
class PathPlan:
    demands: dict[str, tuple[DemandPath, ...]]
    allocated_kbps: dict[str, int]
    labels: dict[tuple[str, ...], int] = field(default_factory=dict)  # switch sequence -> label

    def routes(self) -> list[Route]:
        """Every labelled route, primaries and backups, once each."""
        seen: dict[int, Route] = {}
        for paths in self.demands.values():
            for p in paths:
                for r in (p.primary, p.backup):
                    if r is not None:
                        seen.setdefault(r.label, r)
        return [seen[k] for k in sorted(seen)]


def is_local_pair(scenario: Scenario, a: str, b: str) -> bool:
    """Hosts whose traffic must stay off the backbone: same last mile, or last miles joined
    directly (for a multihomed host, through any of its attachments)."""
    def owners(host: str) -> set[str]:
        return {scenario.switch[s].owner for s in scenario.access_switches(host)}

    return any(_local_owners(scenario, owner_a, owner_b) for owner_a in owners(a) for owner_b in owners(b))


def _local_owners(scenario: Scenario, owner_a: str, owner_b: str) -> bool:
    if owner_a == owner_b:
        return True
    roles = {scenario.participant[o].role for o in (owner_a, owner_b)}
    if roles - {"last_mile", "community"}:
        return False
    return any({scenario.switch[l.a].owner, scenario.switch[l.b].owner} == {owner_a, owner_b} for l in scenario.links)


def crosses_backbone(scenario: Scenario, switches: tuple[str, ...]) -> bool:
    return not scenario.backbone_switches.isdisjoint(switches)


def backup_route(scenario: Scenario, offered: frozenset[str], links: tuple[str, ...], switches: tuple[str, ...],
                 local: bool) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """The best link-disjoint alternative over ``offered`` links by the scenario's
    one shortest-path rule (lowest latency first), or None."""
    if not links:
        return None
    avoid = scenario.backbone_switches if local else ()
    return scenario.graph.shortest_path(switches[0], switches[-1], offered - set(links), avoid)


def plan_paths(scenario: Scenario, result) -> PathPlan:
    """Labelled primary and backup routes for every demand the market served."""
    offered = frozenset(o.link for o in scenario.offers)
    labels: dict[tuple[str, ...], int] = {}

    def route(switches, links) -> Route:
        if switches not in labels:
            labels[switches] = FIRST_LABEL + len(labels)
        return Route(tuple(switches), tuple(links), labels[switches])

    demands: dict[str, tuple[DemandPath, ...]] = {}
    allocated: dict[str, int] = {}
    for d in result.demands:
        allocated[d.demand_id] = d.allocated_kbps
        local = is_local_pair(scenario, d.src, d.dst)
        paths = []
        for p in d.paths:
            if p.kbps <= 0 or not p.links:
                continue
            backup = backup_route(scenario, offered, p.links, p.switches, local)
            paths.append(DemandPath(d.demand_id, p.kbps, route(p.switches, p.links),
                                    route(*backup) if backup else None))
        demands[d.demand_id] = tuple(paths)
    return PathPlan(demands, allocated, labels)


def local_first_violations(scenario: Scenario, plan: PathPlan) -> list[str]:
    """Routes of local pairs that cross a backbone switch (should be none)."""
    out = []
    for demand_id, paths in plan.demands.items():
        d = scenario.demand[demand_id]
        if not is_local_pair(scenario, d.src, d.dst):
            continue
        for p in paths:
            for r in (p.primary, p.backup):
                if r is not None and crosses_backbone(scenario, r.switches):
                    out.append(f"{demand_id}: {' > '.join(r.switches)}")
    return out
