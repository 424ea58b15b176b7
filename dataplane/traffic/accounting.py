"""What a receiver counts per flow: loss, reordering, duplicates, delay, jitter, rate bins.

:class:`FlowAccount` takes one arrival at a time (:meth:`FlowAccount.add`),
keeps everything in a few integers, a bitmap of seen sequence numbers and a
histogram of one-way delays, and summarises them at the end.  Definitions:

- ``lost``: highest sequence number seen + 1 - distinct sequence numbers
  received (never negative; frames lost after the last one received are
  invisible here, the orchestrator compares with what was sent).
- ``reordered``: frames, not duplicates, whose sequence number is below the
  highest already seen.  ``duplicates``: sequence numbers received again;
  they count in ``packets`` and ``bytes`` (they used the link) but not in
  delay or jitter.
- delay: arrival time - send time on the shared ``CLOCK_MONOTONIC``; the
  histogram keeps microseconds to 12 significant bits (exact below 4.096 ms,
  within 0.05 % above), percentiles are nearest-rank.
- jitter: RFC 3550 interarrival jitter, ``J += (|D| - J) / 16`` with ``D`` the
  change of transit time between consecutive arrivals.
- bins: packets and bytes per second since the common start.
- ``late``: frames that arrived after ``until_ns`` (when given: the flow's stop,
  plus :data:`LATE_S` for UDP).  They are counted apart and nowhere else.  A UDP
  frame is stamped as it goes on the wire, and one in flight at the stop still
  counts if it arrives within the grace.  A TCP record is stamped as the
  application writes it, and may then wait in the sender's socket buffer: what
  arrives after the stop must not raise the rate measured over the flow's window.

Example
-------
>>> a = FlowAccount(start_ns=0, bins=2, seq_bound=100)
>>> for seq, sent, arrived in [(0, 0, 1_000_000), (2, 20_000_000, 21_000_000), (1, 10_000_000, 23_000_000)]:
...     a.add(1200, seq, sent, arrived)
>>> s = a.summary()
>>> s["packets"], s["lost"], s["reordered"], s["delay_ms"]["max"]
(3, 0, 1, 13.0)
"""
from __future__ import annotations

from typing import Iterable

__all__ = ["LATE_S", "FlowAccount", "late_after_ns", "percentile_us", "coarse_histogram", "merge_histograms"]

NS = 1_000_000_000
#: A UDP frame that arrives more than this many seconds after its flow's stop is late
#: (not received).  A UDP frame is stamped as it is sent, so one that arrives after the
#: stop was in flight: in a short queue (30 frames: a quarter of a second on a 1 Mbps
#: link), or in the receiver's socket while the receiver waited for a core.  On this
#: 2-core machine a receiver, or the userspace datapath, can stall for most of a second
#: near the end of a run (a CI run saw a quarter of a 3 s flow read 0.9 s late, with
#: 30 ms of network delay at most), so the grace is a second.  A TCP record that arrives
#: after the stop is late: it may have waited in the sender's socket buffer.
LATE_S = 1.0


def late_after_ns(start_ns: int, stop_s: float, protocol: str) -> int:
    """When arrivals of a flow stopping at ``stop_s`` become late (see :data:`LATE_S`).

    >>> late_after_ns(0, 3.0, "udp"), late_after_ns(0, 3.0, "tcp")
    (4000000000, 3000000000)
    """
    return start_ns + round((stop_s + (LATE_S if protocol == "udp" else 0.0)) * NS)


_GROW = 1 << 16  # bitmap bytes added at a time: 512 Ki sequence numbers


def _histogram_key(us: int, bits: int = 12) -> int:
    """``us`` rounded down to ``bits`` significant bits."""
    if us < 1 << bits:
        return us
    shift = us.bit_length() - bits
    return (us >> shift) << shift


class FlowAccount:
    """Running statistics of one flow at a receiver (lean: called for every frame)."""

    __slots__ = ("start_ns", "until_ns", "late", "seq_bound", "packets", "bytes", "distinct", "max_seq", "reordered",
                 "duplicates", "invalid", "first_ns", "last_ns", "seen", "delay_sum_ns", "delay_max_ns",
                 "delays", "jitter_ns", "prev_transit", "bin_packets", "bin_bytes", "nbins")

    def __init__(self, start_ns: int, bins: int, seq_bound: int, until_ns: int | None = None):
        self.start_ns, self.seq_bound, self.nbins = start_ns, seq_bound, max(1, bins)
        self.until_ns, self.late = until_ns, 0
        self.packets = self.bytes = self.distinct = self.reordered = self.duplicates = self.invalid = 0
        self.max_seq = -1
        self.first_ns = self.last_ns = None
        self.seen = bytearray()
        self.delay_sum_ns = self.delay_max_ns = 0
        self.delays: dict[int, int] = {}
        self.jitter_ns = 0.0
        self.prev_transit = None
        self.bin_packets = [0] * self.nbins
        self.bin_bytes = [0] * self.nbins

    def add(self, frame_bytes: int, seq: int, sent_ns: int, arrival_ns: int) -> None:
        """Count one arrival: a frame of ``frame_bytes`` with sequence ``seq``."""
        if self.until_ns is not None and arrival_ns > self.until_ns:
            self.late += 1
            return
        if seq > self.max_seq:
            if seq > self.seq_bound:  # not a frame this flow can send: garbage or a stranger
                self.invalid += 1
                return
            self.max_seq = seq
            fresh, late = True, False
        else:
            fresh, late = not (self.seen[seq >> 3] & (1 << (seq & 7))), True
        self.packets += 1
        self.bytes += frame_bytes
        if self.first_ns is None:
            self.first_ns = arrival_ns
        self.last_ns = arrival_ns
        b = (arrival_ns - self.start_ns) // NS
        if b < 0:
            b = 0
        elif b >= self.nbins:
            b = self.nbins - 1
        self.bin_packets[b] += 1
        self.bin_bytes[b] += frame_bytes
        if not fresh:
            self.duplicates += 1
            return
        i = seq >> 3
        seen = self.seen
        if i >= len(seen):
            seen.extend(bytes(max(_GROW, i + 1 - len(seen))))
        seen[i] |= 1 << (seq & 7)
        self.distinct += 1
        if late:
            self.reordered += 1
        transit = arrival_ns - sent_ns
        if transit < 0:
            transit = 0
        self.delay_sum_ns += transit
        if transit > self.delay_max_ns:
            self.delay_max_ns = transit
        us = transit // 1000
        if us >= 4096:
            shift = us.bit_length() - 12
            us = (us >> shift) << shift
        delays = self.delays
        delays[us] = delays.get(us, 0) + 1
        prev = self.prev_transit
        if prev is not None:
            d = transit - prev
            if d < 0:
                d = -d
            self.jitter_ns += (d - self.jitter_ns) / 16
        self.prev_transit = transit

    def summary(self) -> dict:
        """The flow's counts as plain JSON-able data (times in s after the start, delays in ms)."""
        n = self.distinct
        return {
            "packets": self.packets,
            "bytes": self.bytes,
            "distinct": n,
            "first_s": None if self.first_ns is None else (self.first_ns - self.start_ns) / NS,
            "last_s": None if self.last_ns is None else (self.last_ns - self.start_ns) / NS,
            "lost": max(0, self.max_seq + 1 - n),
            "reordered": self.reordered,
            "duplicates": self.duplicates,
            "invalid": self.invalid,
            "late": self.late,
            "delay_ms": {
                "mean": self.delay_sum_ns / n / 1e6 if n else None,
                "p50": percentile_us(self.delays, 50) / 1000 if n else None,
                "p99": percentile_us(self.delays, 99) / 1000 if n else None,
                "max": self.delay_max_ns / 1e6 if n else None,
            },
            "jitter_ms": self.jitter_ns / 1e6,
            "delay_hist_us": coarse_histogram(self.delays),
            "bins": {"packets": list(self.bin_packets), "bytes": list(self.bin_bytes)},
        }


def percentile_us(histogram: dict[int, int], p: float) -> int:
    """Nearest-rank ``p``-th percentile of a ``{microseconds: count}`` histogram.

    >>> percentile_us({1: 98, 5: 1, 9: 1}, 99)
    5
    """
    total = sum(histogram.values())
    if not total:
        raise ValueError("empty histogram")
    rank = max(1, -(-p * total // 100))  # ceil(p/100 * total), at least the first
    seen = 0
    for key in sorted(histogram):
        seen += histogram[key]
        if seen >= rank:
            return key
    return max(histogram)


def coarse_histogram(histogram: dict[int, int], bits: int = 8) -> list[list[int]]:
    """``[[microseconds, count], ...]`` merged to ``bits`` significant bits (under 1 % off): what
    a receiver reports so an orchestrator can merge the flows of a demand."""
    merged: dict[int, int] = {}
    for us, count in histogram.items():
        key = _histogram_key(us, bits)
        merged[key] = merged.get(key, 0) + count
    return [[k, merged[k]] for k in sorted(merged)]


def merge_histograms(histograms: Iterable[list[list[int]]]) -> dict[int, int]:
    """One ``{microseconds: count}`` histogram from several reported ones."""
    merged: dict[int, int] = {}
    for hist in histograms:
        for us, count in hist:
            merged[us] = merged.get(us, 0) + count
    return merged
