"""When each packet of a flow is due: send times per pattern, as pure iterators.

:func:`send_offsets_ns` yields the send times of one flow in nanoseconds after
the run's common start, in order, and stops at the flow's ``stop_s``.  The
generator merges these iterators in a heap; tests read them directly.

- ``constant``: one frame every ``gap``, ``gap = frame_bytes * 8 / rate``.
- ``poisson``: exponential gaps of mean ``gap`` (the same mean rate), drawn
  from ``random.Random(seed)``.
- ``onoff``: constant spacing while "on"; the clock of sent frames pauses for
  ``off_s`` after every ``on_s``.

Example
-------
>>> from dataplane.traffic.spec import FlowSpec
>>> f = FlowSpec(flow_id=1, demand="d", src_host="h1", dst_host="h2", src_ip="198.18.0.1",
...              dst_ip="198.18.0.2", src_mac="00:00:00:00:00:01", dst_mac="00:00:00:00:00:02",
...              src_port=20000, dst_port=5001, rate_kbps=96, frame_bytes=1200, stop_s=0.5,
...              interface="h1-eth0")
>>> [t / 1e9 for t in send_offsets_ns(f)]  # 96 kbit/s of 1200-byte frames: 10 per second
[0.0, 0.1, 0.2, 0.3, 0.4]
>>> expected_packets(f)
5
"""
from __future__ import annotations

import math
import random
from typing import Iterator

from .spec import FlowSpec

__all__ = ["send_offsets_ns", "expected_packets", "packet_bound"]

NS = 1_000_000_000


def send_offsets_ns(flow: FlowSpec, rng: random.Random | None = None, phase: float = 0.0) -> Iterator[int]:
    """Send times of ``flow`` (ns after the common start), ascending, all before ``stop_s``.

    ``rng`` is used by the ``poisson`` pattern only; by default
    ``random.Random(flow.seed if flow.seed is not None else flow.flow_id)``.
    ``phase`` (a fraction of one gap, ``0 <= phase < 1``) delays the first
    frame of ``constant`` and ``onoff``: flows of one demand sent in step would
    reach a meter in bursts.
    """
    start, stop, gap = flow.start_s * NS, flow.stop_s * NS, flow.gap_ns
    if not 0 <= phase < 1:
        raise ValueError(f"phase {phase} not in [0, 1)")
    if flow.pattern == "constant":
        return _constant(start + phase * gap, stop, gap)
    if flow.pattern == "poisson":
        if rng is None:
            rng = random.Random(flow.seed if flow.seed is not None else flow.flow_id)
        return _poisson(start, stop, gap, rng)
    if flow.pattern == "onoff":
        return _onoff(start, stop, gap, flow.on_s * NS, flow.off_s * NS, phase * gap)
    raise ValueError(f"unknown pattern {flow.pattern!r}")


def _constant(start: float, stop: float, gap: float) -> Iterator[int]:
    k = 0
    while True:
        t = start + k * gap  # multiply, never accumulate: no drift over millions of frames
        if t >= stop:
            return
        yield round(t)
        k += 1


def _poisson(start: float, stop: float, gap: float, rng: random.Random) -> Iterator[int]:
    draw, rate = rng.expovariate, 1.0 / gap
    t = start + draw(rate)
    while t < stop:
        yield round(t)
        t += draw(rate)


def _onoff(start: float, stop: float, gap: float, on: float, off: float, delay: float) -> Iterator[int]:
    k, cycle = 0, on + off
    while True:
        sending = delay + k * gap  # time spent "on" before frame k
        periods = math.floor(sending / on)
        t = start + periods * cycle + (sending - periods * on)
        if t >= stop:
            return
        yield round(t)
        k += 1


def expected_packets(flow: FlowSpec) -> int:
    """How many frames the flow sends (for ``poisson``: the mean).

    The on-clock of ``onoff`` runs on across periods, so its count is the
    number of gaps in the total "on" time before ``stop_s``.
    """
    sending = flow.duration_s * NS
    if flow.pattern == "onoff":
        cycles, rest = divmod(sending, (flow.on_s + flow.off_s) * NS)
        sending = cycles * flow.on_s * NS + min(rest, flow.on_s * NS)
    if flow.pattern == "poisson":
        return round(sending / flow.gap_ns)
    return math.ceil(sending / flow.gap_ns - 1e-9)


def packet_bound(flow: FlowSpec) -> int:
    """A sequence number no honest packet of the flow reaches (receivers ignore beyond it).

    A generator that starts late shifts its schedule but never sends more
    frames than :func:`expected_packets`; the margin covers poisson's spread.
    """
    n = math.ceil(flow.duration_s * NS / flow.gap_ns)
    return int(n * 1.5) + 10_000
