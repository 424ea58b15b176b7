"""What one clearing decides: the rule plan, and per demand its paths and allocation.

The controller core calls a planner ``(epoch, links down) -> EpochPlan`` at
start, every epoch and whenever a link goes down or comes back, and
``(epoch, links down, scenario=...)`` once the market's offers and demands
differ from the scenario file's (a timeline event, a participant's bid);
:func:`make_planner` builds the one for a scenario.

>>> from topologies.loader import load_scenario
>>> plan = make_planner(load_scenario("topologies/default.yaml"), "market", "lmp")(0, frozenset())
>>> plan.allocated_kbps["ana-dev"], plan.paths["ana-dev"]
(3000, [['mn1', 'lk1']])
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

from topologies.model import PLANS, Scenario

from .errors import ControllerError
from .ruleplan import RulePlan
from .shortest import planned_path, shortest_path_plan


@dataclass(frozen=True)
class EpochPlan:
    """One epoch's decision: what the switches hold, and what it means per demand."""

    rules: RulePlan
    paths: dict[str, list[list[str]]] = field(default_factory=dict)  # demand -> switch sequences
    allocated_kbps: dict[str, int] = field(default_factory=dict)     # demand -> kbps (empty: no market)
    path_kbps: dict[str, list[int]] = field(default_factory=dict)     # demand -> kbps of each path
    #: A demand with several paths spreads its flows by source port over this many
    #: slices (0: no spreading); a sender that wants an exact split uses this many ports.
    source_port_slices: int = 0
    #: The market's clearing behind the plan (None without a market): payments, prices.
    result: object = field(default=None, compare=False)


def attachment_kbps(scenario: Scenario, plan: EpochPlan) -> dict[str, dict[str, int]]:
    """Each demand of a multihomed host -> the kbps the plan sends through each of the
    host's attachments (the links its paths take out of, or into, the host's device).

    >>> from topologies.loader import load_scenario
    >>> s = load_scenario("topologies/library/multihomed.yaml")
    >>> attachment_kbps(s, build_plan(s))
    {'video': {'ph-cell': 4000}, 'upload': {'ph-cell': 2000}}
    """
    device = {h.switch: h for h in scenario.multihomed}
    out: dict[str, dict[str, int]] = {}
    if not device:
        return out
    for demand, paths in plan.paths.items():
        for switches, kbps in zip(paths, plan.path_kbps.get(demand, ())):
            for end, step in ((0, 1), (-1, -2)):
                host = device.get(switches[end]) if len(switches) > 1 else None
                if host is None:
                    continue
                link = next(a for a in host.attachments if scenario.link[a].other_end(host.switch) == switches[step])
                chosen = out.setdefault(demand, {})
                chosen[link] = chosen.get(link, 0) + kbps
    return out


#: ``(epoch, links down[, scenario=the market as it is now]) -> EpochPlan``
Planner = Callable[..., EpochPlan]


def build_plan(scenario: Scenario, plan: str = "market", mechanism: str | None = None, epoch: int = 0,
               down: frozenset[str] = frozenset()) -> EpochPlan:
    """``market`` clears the scenario's market and enforces its allocation;
    ``shortest`` is shortest-path forwarding, ``hierarchical`` today's transit
    hierarchy (:mod:`controller.hierarchical`), both with no market.  Links in ``down`` are
    out of service: their offers are withdrawn for this clearing and best-effort
    routes avoid them."""
    if plan not in PLANS:
        raise ControllerError(f"unknown plan {plan!r} (one of: {', '.join(PLANS)})")
    if plan == "shortest":
        paths = {d.id: [list(planned_path(scenario, d.src, d.dst, down))] for d in scenario.demands}
        return EpochPlan(shortest_path_plan(scenario, down), paths)
    if plan == "hierarchical":
        from .hierarchical import hierarchical_paths, hierarchical_plan

        return EpochPlan(hierarchical_plan(scenario, down), hierarchical_paths(scenario, down))
    return plan_from_result(scenario, clear_for(scenario, mechanism, down), epoch, down)


def offered_in_service(scenario: Scenario, down: frozenset[str]) -> Scenario:
    """The market with the offers on links that are down withdrawn."""
    return replace(scenario, offers=tuple(o for o in scenario.offers if o.link not in down)) if down else scenario


def clear_for(scenario: Scenario, mechanism: str | None = None, down: frozenset[str] = frozenset()):
    """The market's clearing for the links in service (the part worth another process)."""
    from .market import clear_market

    return clear_market(offered_in_service(scenario, down), mechanism)


def plan_from_result(scenario: Scenario, result, epoch: int = 0, down: frozenset[str] = frozenset()) -> EpochPlan:
    """The rules and meaning of a market's clearing: labelled paths, meters, groups, flows."""
    from .marketplan import SPLIT_BITS, market_plan
    from .pathing import plan_paths

    scenario = offered_in_service(scenario, down)
    path_plan = plan_paths(scenario, result)
    paths = {d.demand_id: [list(p.switches) for p in d.paths] for d in result.demands}
    path_kbps = {d: [p.kbps for p in ps] for d, ps in path_plan.demands.items()}
    return EpochPlan(market_plan(scenario, path_plan, epoch, down), paths, dict(path_plan.allocated_kbps), path_kbps,
                     1 << SPLIT_BITS, result)


def make_planner(scenario: Scenario, plan: str = "market", mechanism: str | None = None) -> Planner:
    """The planner the core calls: ``(epoch, links down, scenario=None) -> EpochPlan``; without a
    scenario it plans the one it was made for."""
    def planner(epoch: int, down: frozenset, scenario: Scenario | None = None) -> EpochPlan:
        return build_plan(scenario or base, plan, mechanism, epoch, frozenset(down))

    base = scenario
    return planner


class FileMarket:
    """The market as the scenario file has it; timeline events change it in memory.

    The controller core asks its market source for the offers and demands of each
    clearing, hands it the timeline's market events, and tells it what cleared.
    :class:`ExchangeMarket` is the same with participants' API and a ledger behind it.
    """

    def __init__(self, scenario: Scenario):
        self._scenario = scenario

    def first_epoch(self) -> int:
        return 0

    def scenario(self) -> Scenario:
        return self._scenario

    def apply_event(self, event) -> None:
        from topologies.timeline import apply_market_event

        self._scenario = apply_market_event(self._scenario, event)

    def cleared(self, epoch: int, scenario: Scenario, result) -> None:
        pass

    def measured(self, epoch: int, sent_kbps: dict[str, int]) -> None:
        """What each demand sent during ``epoch`` (real kbps, at its ingress)."""


class ExchangeMarket:
    """The market as participants leave it in the book of an exchange
    (:class:`controller.api.exchange.Exchange`); each clearing is settled in its ledger
    (at most once per epoch) and published to the API."""

    def __init__(self, exchange):
        self.exchange = exchange

    def first_epoch(self) -> int:
        return self.exchange.next_epoch()

    def scenario(self) -> Scenario:
        return self.exchange.book.scenario_for_next_epoch()

    def apply_event(self, event) -> None:
        self.exchange.book.apply_event(event)

    def cleared(self, epoch: int, scenario: Scenario, result) -> None:
        if result is not None:
            self.exchange.record(epoch, scenario, result)

    def measured(self, epoch: int, sent_kbps: dict[str, int]) -> None:
        """Usage next to the allocation in the ledger (an epoch not settled has none)."""
        self.exchange.ledger.record_usage(epoch, sent_kbps)
