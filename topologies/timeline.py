"""A scenario's timeline, played: what changes at each second, as pure functions.

A run plays the timeline on one clock shared by its two players: the runner
takes links down and up (the switches see their ports go down, as with a real
cut), and the controller applies the market events (offers and demands added,
changed or withdrawn) to its book and clears the market again at once.
Seconds count from the start of the run's traffic.

>>> from topologies.loader import load_scenario
>>> s = load_scenario("topologies/library/failover.yaml")
>>> [(e.at_s, e.action, e.target) for e in link_events(s)]
[(10.0, 'link_down', 'fast'), (20.0, 'link_up', 'fast')]
>>> market_events(s), timeline_seconds(s, after_s=5)
((), 25.0)
"""
from __future__ import annotations

from dataclasses import replace

from .errors import Problem, ScenarioError
from .model import Event, Scenario

LINK_ACTIONS = ("link_down", "link_up")


def link_events(scenario: Scenario) -> tuple[Event, ...]:
    """Links going down and coming back, in time order (the runner plays them)."""
    return tuple(e for e in scenario.timeline if e.action in LINK_ACTIONS)


def market_events(scenario: Scenario) -> tuple[Event, ...]:
    """Offers and demands added, changed or withdrawn, in time order (the controller plays them)."""
    return tuple(e for e in scenario.timeline if e.action not in LINK_ACTIONS)


def timeline_seconds(scenario: Scenario, after_s: float = 5.0) -> float:
    """How long a run must last to show its last event and what follows it (0 without a timeline)."""
    return max((e.at_s for e in scenario.timeline), default=-after_s) + after_s


def demand_windows(scenario: Scenario, seconds: float) -> dict[str, tuple[float, float]]:
    """When each demand is in the market: ``demand id -> (start, stop)`` seconds, within ``seconds``.

    Demands of the scenario file start at 0; ``demand_add`` starts one,
    ``demand_withdraw`` stops it.
    """
    windows = {d.id: [0.0, seconds] for d in scenario.demands}
    for e in scenario.timeline:
        if e.action == "demand_add":
            windows[e.target] = [min(e.at_s, seconds), seconds]
        elif e.action == "demand_withdraw" and e.target in windows:
            windows[e.target][1] = min(windows[e.target][1], e.at_s)
    return {d: (start, stop) for d, (start, stop) in windows.items() if stop > start}


def apply_market_event(scenario: Scenario, event: Event) -> Scenario:
    """The scenario as it is after ``event``; raises :class:`ScenarioError` when the event no
    longer fits (a change to a withdrawn demand, a floor above the max rate, ...)."""
    kind, verb = event.action.split("_")
    if kind not in ("offer", "demand"):
        raise ScenarioError([_problem(event, f"{event.action} is not a market event")])
    items = list(scenario.offers if kind == "offer" else scenario.demands)
    index = next((i for i, item in enumerate(items) if item.id == event.target), None)
    if verb == "add":
        if index is not None:
            raise ScenarioError([_problem(event, f"{kind} {event.target!r} is already in the market")])
        items.append(event.params[kind])
    elif index is None:
        raise ScenarioError([_problem(event, f"no {kind} {event.target!r} in the market")])
    elif verb == "withdraw":
        del items[index]
    else:
        items[index] = _changed(scenario, items[index], event)
    return replace(scenario, **{kind + "s": tuple(items)})


def _changed(scenario: Scenario, item, event: Event):
    p = event.params
    if event.action == "offer_change":
        new = replace(item, ask_per_mbps=p.get("ask_per_mbps", item.ask_per_mbps),
                      capacity_kbps=p.get("capacity", item.capacity_kbps))
        sold = sum(o.capacity_kbps for o in scenario.offers if o.link == new.link and o.id != new.id)
        if sold + new.capacity_kbps > scenario.link[new.link].capacity_kbps:
            raise ScenarioError([_problem(event, f"offers on link {new.link!r} would sell "
                                                 f"{sold + new.capacity_kbps} kbps, more than its capacity")])
        return new
    new = replace(item, max_kbps=p.get("max_rate", item.max_kbps),
                  value_per_mbps=p.get("value_per_mbps", item.value_per_mbps),
                  floor_kbps=p.get("floor", item.floor_kbps))
    if new.floor_kbps > new.max_kbps:
        raise ScenarioError([_problem(event, f"floor {new.floor_kbps} kbps above max_rate {new.max_kbps} kbps")])
    return new


def _problem(event: Event, message: str) -> Problem:
    return Problem("<timeline>", None, f"{event.at_s:g} s {event.action} {event.target}", message)
