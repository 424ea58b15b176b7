"""A run judges itself: what each demand was promised, what it got, and what broke.

Pure code: the runner hands in the controller's status (allocations, paths)
and what the receivers measured; :func:`judge` returns one
:class:`DemandOutcome` per demand and the list of broken promises.  A served
demand must receive at least :data:`TOLERANCE` of its allocation, a demand its
floor, a sending host its universal-service floor, and every measurement must
succeed.  Rates are emulated kbps (real rates times ``emulation.scale``).

>>> from topologies.loader import load_scenario
>>> s = load_scenario("topologies/default.yaml")
>>> got = {d.id: Measured(offered_kbps=2 * 3000, received_kbps=3000.0) for d in s.demands}
>>> got["ben-gus"] = Measured(offered_kbps=8000, received_kbps=1000.0)
>>> outcomes, problems = judge(s, {d.id: 3000 for d in s.demands}, {}, got)
>>> problems
['ben-gus: received 1Mbps of its 3Mbps allocation (33%, under 90%)']
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from topologies.model import Scenario
from topologies.units import format_rate

#: A served demand must receive at least this share of its allocation, and of its floor.
TOLERANCE = 0.9


@dataclass(frozen=True)
class Measured:
    """What the traffic of one demand did, as measured at its receiver."""

    offered_kbps: int
    received_kbps: float | None
    loss_percent: float | None = None
    flows: int = 1
    delay_ms: float | None = None
    delay_p99_ms: float | None = None
    jitter_ms: float | None = None
    received_kbps_per_s: tuple[float, ...] = ()
    packets_sent: int | None = None
    packets_lost: int | None = None
    #: when its generators actually began sending (s after the common start; a busy machine starts them late)
    sending_from_s: float | None = None
    #: when its generators last sent (s after the common start)
    sending_until_s: float | None = None
    error: str = ""


@dataclass(frozen=True)
class DemandOutcome:
    demand: str
    src: str
    dst: str
    paths: list[list[str]]
    allocated_kbps: int | None  # emulated; None when no market runs
    floor_kbps: int             # emulated
    measured: Measured
    problems: tuple[str, ...] = field(default=())

    def to_json(self) -> dict:
        return {"demand": self.demand, "src": self.src, "dst": self.dst, "paths": self.paths,
                "allocated_kbps": self.allocated_kbps, "floor_kbps": self.floor_kbps, **asdict(self.measured),
                "ok": not self.problems, "problems": list(self.problems)}


def _short(kbps: float) -> str:
    return format_rate(max(0, round(kbps)))


def judge(scenario: Scenario, allocated: dict[str, int], paths: dict[str, list[list[str]]],
          measured: dict[str, Measured], market: bool = True, whole_window: bool = True,
          demands=None) -> tuple[list[DemandOutcome], list[str]]:
    """Outcomes per demand (in scenario order) and every broken promise, one line each.

    ``allocated`` is in real kbps, as the market reports it; it is scaled here.  When the
    plan changed during the traffic (``whole_window=False``), rates are judged second by
    second by :func:`judge_over_time` instead, and only failed measurements count here.
    ``demands`` defaults to the scenario's (a timeline may add some).
    """
    emulate = scenario.emulation.emulated_kbps
    market_checks = market and whole_window
    outcomes, problems = [], []
    for d in (scenario.demands if demands is None else demands):
        m = measured.get(d.id)
        if m is None:
            continue
        kbps = allocated.get(d.id, 0) if market else None
        alloc = emulate(kbps) if kbps else (0 if market else None)
        floor = emulate(d.floor_kbps) if d.floor_kbps else 0
        mine = []
        if m.error or m.received_kbps is None:
            mine.append(f"{d.id}: measurement failed: {m.error or 'no result'}")
        elif market_checks and alloc:
            want = min(alloc, m.offered_kbps)
            if m.received_kbps < TOLERANCE * want:
                mine.append(f"{d.id}: received {_short(m.received_kbps)} of its {_short(want)} allocation "
                            f"({100 * m.received_kbps / want:.0f}%, under {100 * TOLERANCE:.0f}%)")
            if floor and m.received_kbps < TOLERANCE * min(floor, m.offered_kbps):
                mine.append(f"{d.id}: floor of {_short(floor)} not met: received {_short(m.received_kbps)}")
        outcomes.append(DemandOutcome(d.id, d.src, d.dst, paths.get(d.id, []), alloc, floor, m, tuple(mine)))
        problems += mine
    if market_checks:
        problems += _universal_floors(scenario, outcomes)
    return outcomes, problems


def _universal_floors(scenario: Scenario, outcomes: list[DemandOutcome]) -> list[str]:
    """Every sending host gets its universal floor across its demands (those measured)."""
    floor = scenario.market.universal_floor_kbps
    if floor <= 0:
        return []
    out = []
    for host in scenario.hosts:
        mine = [o for o in outcomes if o.src == host.name and o.measured.received_kbps is not None]
        if not mine:
            continue
        asked = sum(scenario.demand[o.demand].max_kbps for o in mine)
        want = min(scenario.emulation.emulated_kbps(min(floor, asked)), sum(o.measured.offered_kbps for o in mine))
        got = sum(o.measured.received_kbps for o in mine)
        if got < TOLERANCE * want:
            out.append(f"host {host.name}: universal floor of {_short(want)} not met: its demands received {_short(got)}")
    return out


#: A demand whose traffic began later than this after its window opened was not measured:
#: its seconds are not judged, which must not pass for a promise kept.
LATE_START_S = 1.0


def allocation_at(plans: list[tuple[float, dict]], t: float) -> dict:
    """The allocations in force at ``t``: those of the last plan made at or before it."""
    current: dict = {}
    for at, allocated in plans:
        if at > t:
            break
        current = allocated
    return current


def judge_over_time(scenario: Scenario, measured: dict[str, Measured], offered: dict[str, int],
                    windows: dict[str, tuple[float, float]], plans: list[tuple[float, dict]],
                    changes: list[float], active=None) -> list[str]:
    """When plans change during the traffic (a timeline, epochs): each second of each demand
    against the allocation in force then.

    ``plans`` are ``(seconds from the traffic's start, real kbps per demand)`` in time
    order, the first before the start; ``changes`` the seconds at which the network
    changed (a link cut, a new plan).  A second is judged when the demand was sending
    the whole second and the one before (the first and last seconds ramp), and nothing
    changed during it, the second before or the second after (the switches converge in
    tens of milliseconds, but a link brought up or down stalls the userspace datapath's
    queues for up to a second, and the runner's clock and the receivers' bins are read
    in different processes: a CI run saw a link-up at 16.0 s empty second 15).  One line per demand that fell
    short, with how often and its worst second.  ``active(demand, second)`` says whether
    the demand was sending that whole second (an onoff pattern pauses); a second that
    follows one it was not is not judged either (its queue and meter start empty).
    """
    emulate = scenario.emulation.emulated_kbps
    problems = []
    for demand, m in measured.items():
        start, stop = windows.get(demand, (0.0, len(m.received_kbps_per_s)))
        late = (m.sending_from_s or start) - start
        if late > LATE_START_S and any(allocation_at(plans, t).get(demand) for t in range(int(start), int(stop) + 1)):
            problems.append(f"{demand}: its traffic started {late:.1f} s late, so its {stop - start:g} s were not "
                            "measured (its generator could not start in time)")
            continue
        start = max(start, m.sending_from_s or 0.0)
        bad, judged, worst = 0, 0, None
        for i, got in enumerate(m.received_kbps_per_s):
            if i < start + 1 or i + 2 > stop or any(i - 1 <= c < i + 2 for c in changes):
                continue
            if active is not None and not (active(demand, i) and active(demand, i - 1)):
                continue
            kbps = allocation_at(plans, i).get(demand, 0)
            want = min(emulate(kbps), m.offered_kbps) if kbps else 0
            if want <= 0:
                continue
            judged += 1
            if got < TOLERANCE * want:
                bad += 1
                if worst is None or got / want < worst[1] / worst[2]:
                    worst = (i, got, want)
        if bad:
            i, got, want = worst
            problems.append(f"{demand}: under {100 * TOLERANCE:.0f}% of its allocation in {bad} of {judged} "
                            f"seconds (worst: second {i}, {_short(got)} of {_short(want)})")
    return problems


#: Receivers losing more than this share of what was sent beyond what the meters dropped
#: means the emulation itself dropped packets (see :func:`emulation_losses`).
EMULATION_LOSS = 0.05


def meter_drops(status: dict) -> dict[str, int]:
    """Demand -> packets its ingress meters dropped, from the controller's ``/status``."""
    demands = ((status or {}).get("counters") or {}).get("demands") or {}
    return {d: sum(v.get("dropped_packets", 0) for k, v in parts.items() if k.endswith(" meter"))
            for d, parts in demands.items()}


def emulation_losses(measured: dict[str, Measured], before: dict[str, int], after: dict[str, int]) -> str | None:
    """A line saying the emulation, not the market's meters, lost packets, or None.

    Packets a receiver misses were either dropped by the demand's meters (the market's
    enforcement) or lost inside the emulation: a link's queue, or a datapath or veth that
    cannot keep up on a loaded machine.  Summed over the demands measured with counts.

    >>> m = {"a": Measured(offered_kbps=2000, received_kbps=800, packets_sent=1000, packets_lost=600)}
    >>> emulation_losses(m, {"a": 10}, {"a": 510})[:94]
    'the receivers lost 60.0% of the packets sent, the ingress meters dropped 50.0%: 10.0% was lost'
    >>> emulation_losses(m, {"a": 0}, {"a": 580}) is None
    True
    """
    sent = lost = dropped = 0
    for demand, m in measured.items():
        if m.packets_sent and m.packets_lost is not None:
            sent += m.packets_sent
            lost += m.packets_lost
            dropped += max(0, after.get(demand, 0) - before.get(demand, 0))
    if not sent or lost - dropped <= EMULATION_LOSS * sent:
        return None
    return (f"the receivers lost {100 * lost / sent:.1f}% of the packets sent, the ingress meters dropped "
            f"{100 * dropped / sent:.1f}%: {100 * (lost - dropped) / sent:.1f}% was lost inside the emulation, "
            "not by the market's enforcement (an overloaded link, or a datapath this machine cannot keep up "
            "with: try a smaller emulation.scale, fewer demands or --flows)")
