"""The traffic phase of a run: every demand's flows, the timeline played, the result judged.

Each demand sends from its start to its stop (the timeline may add or withdraw
demands), at twice its allocation; the runner cuts and restores links at their
seconds while the controller plays the market events, both from the traffic's
common start.  When the plan changed during the traffic, each second is judged
against the allocation in force then (:func:`dataplane.verdict.judge_over_time`).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from topologies.model import Scenario
from topologies.timeline import demand_windows, link_events, market_events, timeline_seconds
from topologies.units import format_rate

from .attachments import AttachmentSampler, attachment_problems, format_attachments
from .measure import FLOWS_PER_DEMAND, measure_with_generators
from .timeline import LinkPlayer
from .verdict import DemandOutcome, emulation_losses, judge, judge_over_time, meter_drops

#: Seconds to wait after the traffic for the controller's last meter poll (it polls every second).
DIAGNOSIS_WAIT_S = 1.5


def offered_rate(scenario, demand, allocated: dict[str, int]) -> int:
    """What a run sends for a demand (emulated kbps): twice its allocation, so the
    meter shows; its max rate when the market gave it nothing, or when there is no market.

    What a host sends above its allocations shares the spare room of its access
    link: a host cannot push more through its own link than it carries, and the
    overload would be dropped at its own interface, before any meter, unevenly
    among its flows.
    """
    def wants(d) -> int:
        kbps = allocated.get(d.id, 0)
        return 2 * kbps if kbps > 0 else d.max_kbps

    mine = [d for d in scenario.demands if d.src == demand.src]
    base = sum(allocated.get(d.id, 0) for d in mine)
    extra = sum(wants(d) - allocated.get(d.id, 0) for d in mine)
    spare = max(0, scenario.host[demand.src].access_kbps - base)
    share = min(1.0, spare / extra) if extra else 1.0
    kbps = allocated.get(demand.id, 0)
    return scenario.emulation.emulated_kbps(kbps + round((wants(demand) - kbps) * share))


def offered_rates(scenario: Scenario, demands: list, allocated: dict[str, int], market: bool) -> dict[str, int]:
    """What a run offers for each of ``demands`` (emulated kbps): the scenario's traffic
    rate when it sets one, else :func:`offered_rate`; a demand the timeline adds, its max
    rate within its host's access link."""
    emulate = scenario.emulation.emulated_kbps
    specs = {d.id: scenario.traffic_of(d.id) for d in demands}
    return {d.id: emulate(specs[d.id].rate_kbps) if specs[d.id].rate_kbps else
            offered_rate(scenario, d, allocated if market else {}) if d in scenario.demands
            else emulate(min(d.max_kbps, scenario.host[d.src].access_kbps)) for d in demands}


def run_seconds(scenario: Scenario, seconds: int) -> int:
    """How long a run of ``seconds`` lasts on ``scenario``: its timeline and its traffic's
    start and stop times lengthen it."""
    specs = [scenario.traffic_of(d.id) for d in all_demands(scenario)]
    return max([seconds, *((int(timeline_seconds(scenario)) + 1,) if scenario.timeline else ()),
                *(int(s.stop_s) + 2 for s in specs if s.stop_s is not None),
                *(int(s.start_s) + 3 for s in specs if s.start_s is not None)])


def traffic_windows(scenario: Scenario, seconds: int) -> dict[str, tuple[float, float]]:
    """When each demand sends in a run of ``seconds``: in the market (the timeline) and within
    its traffic's start and stop."""
    specs = {d.id: scenario.traffic_of(d.id) for d in all_demands(scenario)}
    return {d: (max(start, specs[d].start_s or 0.0), min(stop, specs[d].stop_s or stop))
            for d, (start, stop) in demand_windows(scenario, seconds).items()}


def all_demands(scenario: Scenario) -> list:
    """The scenario's demands and those its timeline adds."""
    return [*scenario.demands, *(e.params["demand"] for e in scenario.timeline if e.action == "demand_add")]


def run_traffic_phase(net, scenario: Scenario, controller, status: dict, plan: str, seconds: int,
                      flows: int | None, run_dir: Path, out: Callable[[str], None],
                      measure: Callable | None = None) -> tuple[list[DemandOutcome], list[str], dict]:
    """Send, play, measure and judge; the outcomes, the broken promises and the report's part."""
    market = plan == "market"
    allocated = status.get("allocated_kbps") or {}
    demands = all_demands(scenario)
    specs = {d.id: scenario.traffic_of(d.id) for d in demands}
    offered = offered_rates(scenario, demands, allocated, market)
    seconds = run_seconds(scenario, seconds)
    windows = traffic_windows(scenario, seconds)
    out(f"traffic: {seconds} s, every demand at once, at "
        + ("twice its allocation (its max rate if it won nothing), within its host's access link"
           if market else "its max rate, within its host's access link"))
    if scenario.emulation.scale != 1.0:
        out(f"  rates below are emulated: real rates x {scenario.emulation.scale:g} (emulation.scale)")
    slices = status.get("source_port_slices") or FLOWS_PER_DEMAND
    split = {d for d, p in status.get("path_kbps", {}).items() if len(p) > 1}
    out(f"  {flows} flows per demand" if flows else
        f"  {FLOWS_PER_DEMAND} flows per demand ({slices} for a demand split over several paths), UDP unless "
        "the scenario's traffic section says otherwise")
    for d, spec in specs.items():
        if spec != scenario.traffic_default or spec.pattern != "constant":
            start, stop = windows.get(d, (0, seconds))
            out(f"  traffic of {d}: {spec.protocol} {spec.pattern}"
                + (f" ({spec.on_s:g} s on, {spec.off_s:g} s off)" if spec.pattern == "onoff" else "")
                + f" from {start:g} to {stop:g} s")
    for e in scenario.timeline:
        out(f"  timeline: at {e.at_s:g} s {e.action.replace('_', ' ')} {e.target}")
    player = LinkPlayer(scenario)
    sampler = AttachmentSampler(scenario)
    started: list[float] = []

    def on_start(start: float) -> None:
        started.append(start)
        if market_events(scenario):
            controller.post("/timeline", {"start": start})
        player.start(start)
        sampler.start(start)

    try:
        measured = (measure or measure_with_generators)(
            net, scenario, offered, seconds, workdir=run_dir / "traffic", windows=windows, demands=demands,
            on_start=on_start,
            flows_for=lambda d: flows or specs[d].flows or (slices if d in split else FLOWS_PER_DEMAND))
    finally:
        player.stop()
        sampler.stop()
    after = controller.status() or {}
    start = started[0] if started else 0.0
    plans = [(h["at"] - start, h["allocated_kbps"]) for h in after.get("history", []) if h.get("at") is not None]
    changes = sorted({round(at, 3) for at, _ in plans if at >= 0} | {e.at_s for e in link_events(scenario)})
    shaped = any(s.pattern == "onoff" for s in specs.values()) or any(
        windows.get(d) != (0.0, seconds) for d in measured)
    steady = not changes and not shaped
    outcomes, problems = judge(scenario, allocated, status.get("paths", {}), measured, market, whole_window=steady,
                               demands=demands)
    if market and not steady:
        out(("  the plan changed during the traffic at " + ", ".join(f"{c:g}" for c in changes) + " s"
             if changes else "  demands send in bursts or part of the time")
            + ": each second a demand was sending is judged against the allocation in force then")
        problems += judge_over_time(scenario, measured, offered, windows, plans, changes,
                                    active=lambda d, i: sending_all_second(specs.get(d), windows.get(d), i))
    report = {"seconds": seconds, "changes_s": changes,
              "start_unix": round(time.time() - (time.monotonic() - start), 3) if started else None,
              "timeline": [{"at_s": at, "action": action, "target": target, "ok": ok}
                           for at, action, target, ok in player.played]}
    if problems and market and steady:  # why: the market's meters, or the emulation itself?
        time.sleep(DIAGNOSIS_WAIT_S)  # the controller polls the meters every second
        note = emulation_losses(measured, meter_drops(status), meter_drops(controller.status() or {}))
        if note:
            report["diagnosis"] = note
    if not all(ok for *_, ok in player.played):
        problems.append("a timeline link event could not be played: " +
                        ", ".join(f"{a} {t}" for _, a, t, ok in player.played if not ok))
    if changes:
        out(format_seconds(measured, windows))
    if sampler.devices:
        report["attachments"] = sampler.report()
        out(format_attachments(report["attachments"]))
        if market:
            problems += attachment_problems(
                scenario, report["attachments"],
                [(h["at"] - start, h.get("attachments_kbps", {})) for h in after.get("history", [])
                 if h.get("at") is not None], changes)
    return outcomes, problems, report


def sending_all_second(spec, window, i: int) -> bool:
    """Whether a demand sent during the whole second ``[i, i + 1)``: inside its window, and for the
    onoff pattern inside one of its on periods (which start at the window's start)."""
    if spec is None or window is None:
        return True
    start, stop = window
    if not (start <= i and i + 1 <= stop):
        return False
    if spec.pattern != "onoff":
        return True
    phase = (i - start) % (spec.on_s + spec.off_s)
    return phase + 1 <= spec.on_s + 1e-9


def format_seconds(measured: dict, windows: dict) -> str:
    """Each demand's received rate second by second (a dot where it was not sending)."""
    lines = ["received per second:"]
    for demand, m in measured.items():
        start, stop = windows.get(demand, (0, len(m.received_kbps_per_s)))
        cells = [format_rate(round(x)) if start <= i < stop else "." for i, x in enumerate(m.received_kbps_per_s)]
        lines.append(f"  {demand:<12} " + " ".join(f"{c:>9}" for c in cells))
    return "\n".join(lines)
