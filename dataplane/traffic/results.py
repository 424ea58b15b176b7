"""What a traffic run measured: per flow (sent and received) and per demand.

:func:`collect` joins the JSON reports of generators and receivers with the
flow specs; a flow whose generator or receiver failed gets an ``error``
string and whatever half could be measured, never an exception.
:func:`by_demand` sums the flows of each demand.

Rates are kbit/s of frame bytes over the flow's window (``stop_s - start_s``,
the same for offered, sent and received); loss compares sequence numbers
sent with distinct ones received, so it includes frames lost after the last
one that arrived.

Example
-------
>>> from dataplane.traffic.spec import FlowSpec
>>> f = FlowSpec(flow_id=1, demand="d", src_host="h1", dst_host="h2", src_ip="198.18.0.1",
...              dst_ip="198.18.0.2", src_mac="00:00:00:00:00:01", dst_mac="00:00:00:00:00:02",
...              src_port=20000, dst_port=5001, rate_kbps=96, stop_s=1.0, interface="h1-eth0")
>>> m = FlowMeasurement(f, SentStats(10, 12000, 0, 0, 0.0, 0.9), None, "receiver h2: not ready")
>>> round(m.sent_kbps, 1), m.received_kbps, m.loss_percent
(96.0, None, None)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

from .accounting import merge_histograms, percentile_us
from .spec import FlowSpec

__all__ = ["SentStats", "ReceivedStats", "FlowMeasurement", "DemandMeasurement", "TrafficResult",
           "collect", "by_demand"]


@dataclass(frozen=True)
class SentStats:
    """A generator's counts for one flow (window in seconds after the common start)."""

    packets: int
    bytes: int
    send_errors: int
    skipped: int
    first_s: float | None
    last_s: float | None


@dataclass(frozen=True)
class ReceivedStats:
    """A receiver's counts for one flow; see :mod:`dataplane.traffic.accounting`."""

    packets: int
    bytes: int
    distinct: int
    first_s: float | None
    last_s: float | None
    lost: int
    reordered: int
    duplicates: int
    delay_mean_ms: float | None
    delay_p50_ms: float | None
    delay_p99_ms: float | None
    delay_max_ms: float | None
    jitter_ms: float
    bin_packets: tuple[int, ...]
    bin_bytes: tuple[int, ...]
    delay_hist_us: tuple[tuple[int, int], ...]
    #: frames that arrived after the flow's cut (see :mod:`dataplane.traffic.accounting`), counted nowhere else
    late: int = 0

    @classmethod
    def from_report(cls, row: dict) -> "ReceivedStats":
        d = row["delay_ms"]
        return cls(row["packets"], row["bytes"], row["distinct"], row["first_s"], row["last_s"], row["lost"],
                   row["reordered"], row["duplicates"], d["mean"], d["p50"], d["p99"], d["max"], row["jitter_ms"],
                   tuple(row["bins"]["packets"]), tuple(row["bins"]["bytes"]),
                   tuple((int(us), int(n)) for us, n in row["delay_hist_us"]), row.get("late", 0))


@dataclass(frozen=True)
class FlowMeasurement:
    """One flow: its spec, what was sent, what arrived, and what went wrong."""

    flow: FlowSpec
    sent: SentStats | None
    received: ReceivedStats | None
    error: str = ""

    @property
    def sent_kbps(self) -> float | None:
        return None if self.sent is None else self.sent.bytes * 8 / 1000 / self.flow.duration_s

    @property
    def received_kbps(self) -> float | None:
        return None if self.received is None else self.received.bytes * 8 / 1000 / self.flow.duration_s

    @property
    def lost_packets(self) -> int | None:
        if self.sent is None or self.received is None:
            return None
        return max(0, self.sent.packets - self.received.distinct)

    @property
    def loss_percent(self) -> float | None:
        lost = self.lost_packets
        if lost is None or not self.sent.packets:
            return None
        return 100.0 * lost / self.sent.packets


@dataclass(frozen=True)
class DemandMeasurement:
    """The flows of one demand together; None where no flow of it was measured."""

    demand: str
    flows: int
    offered_kbps: int
    sent_kbps: float | None
    received_kbps: float | None
    loss_percent: float | None
    delay_mean_ms: float | None
    delay_p99_ms: float | None
    jitter_ms: float | None
    received_kbps_per_s: tuple[float, ...]
    error: str = ""


@dataclass(frozen=True)
class TrafficResult:
    flows: tuple[FlowMeasurement, ...]
    demands: tuple[DemandMeasurement, ...]

    def demand(self, name: str) -> DemandMeasurement:
        return next(d for d in self.demands if d.demand == name)

    def flow(self, flow_id: int) -> FlowMeasurement:
        return next(m for m in self.flows if m.flow.flow_id == flow_id)


def _rows(report: dict | str, side: str, host: str) -> tuple[dict[int, dict], str]:
    """A report's rows by flow id, and the error that spoils all of them ("" if none)."""
    if isinstance(report, str):
        return {}, f"{side} {host}: {report}"
    rows = {row["flow_id"]: row for row in report.get("flows", [])}
    return rows, (f"{side} {host}: {report['error']}" if report.get("error") else "")


def collect(flows: Iterable[FlowSpec], generators: Mapping[str, dict | str],
            receivers: Mapping[str, dict | str]) -> TrafficResult:
    """Join reports (parsed JSON, or an error string for a process that failed) with the flows."""
    measurements = []
    for f in flows:
        g_rows, g_error = _rows(generators.get(f.src_host, "no report"), "generator", f.src_host)
        r_rows, r_error = _rows(receivers.get(f.dst_host, "no report"), "receiver", f.dst_host)
        g, r = g_rows.get(f.flow_id), r_rows.get(f.flow_id)
        errors = [e for e in (g_error, r_error) if e]
        if g is not None and g.get("error"):
            errors.append(f"generator {f.src_host}: {g['error']}")
        if not g_error and g is None:
            errors.append(f"generator {f.src_host}: flow missing from its report")
        if not r_error and r is None:
            errors.append(f"receiver {f.dst_host}: flow missing from its report")
        sent = None if g is None or g_error else SentStats(g["packets"], g["bytes"], g["send_errors"], g["skipped"],
                                                           g["first_s"], g["last_s"])
        received = None if r is None or r_error else ReceivedStats.from_report(r)
        measurements.append(FlowMeasurement(f, sent, received, "; ".join(errors)))
    return TrafficResult(tuple(measurements), by_demand(measurements))


def by_demand(measurements: Iterable[FlowMeasurement]) -> tuple[DemandMeasurement, ...]:
    """Sum each demand's flows: rates over the demand's window, loss, delay and jitter."""
    groups: dict[str, list[FlowMeasurement]] = {}
    for m in measurements:
        groups.setdefault(m.flow.demand, []).append(m)
    return tuple(_demand(name, ms) for name, ms in groups.items())


def _demand(name: str, ms: list[FlowMeasurement]) -> DemandMeasurement:
    window = max(m.flow.stop_s for m in ms) - min(m.flow.start_s for m in ms)
    sent = [m.sent for m in ms if m.sent is not None]
    received = [m.received for m in ms if m.received is not None]
    both = [m for m in ms if m.sent is not None and m.received is not None]
    sent_packets = sum(m.sent.packets for m in both)
    loss = 100.0 * sum(m.lost_packets for m in both) / sent_packets if sent_packets else None
    distinct = sum(r.distinct for r in received)
    mean = sum(r.delay_mean_ms * r.distinct for r in received if r.distinct) / distinct if distinct else None
    hist = merge_histograms(r.delay_hist_us for r in received)
    p99 = percentile_us(hist, 99) / 1000 if hist else None
    jitter = sum(r.jitter_ms * r.distinct for r in received) / distinct if distinct else None
    nbins = max((len(r.bin_bytes) for r in received), default=0)
    per_s = tuple(sum(r.bin_bytes[i] for r in received if i < len(r.bin_bytes)) * 8 / 1000 for i in range(nbins))
    failed = [m for m in ms if m.error]
    error = f"{len(failed)} of {len(ms)} flows failed: {failed[0].error}" if failed else ""
    return DemandMeasurement(
        demand=name, flows=len(ms), offered_kbps=sum(m.flow.rate_kbps for m in ms),
        sent_kbps=sum(s.bytes for s in sent) * 8 / 1000 / window if sent else None,
        received_kbps=sum(r.bytes for r in received) * 8 / 1000 / window if received else None,
        loss_percent=loss, delay_mean_ms=mean, delay_p99_ms=p99, jitter_ms=jitter,
        received_kbps_per_s=per_s, error=error)
