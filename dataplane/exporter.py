"""What the traffic receivers measure, as Prometheus metrics served by the runner.

The receivers run inside the emulated hosts' namespaces, which cannot reach the
root namespace's loopback where Prometheus scrapes.  Each receiver rewrites its
report so far every second (``receiver-HOST.progress.json``, and its final report
in ``receiver-HOST.out``) in the run's traffic directory; this collector reads
those files at every scrape and sums them per demand.  Counters only grow within
one traffic phase; the labels are ``demand`` only.

>>> import tempfile, json, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "receiver-h4.progress.json").write_text(json.dumps({"flows": [
...     {"demand": "ana-dev", "packets": 10, "bytes": 12000, "distinct": 10, "lost": 2,
...      "delay_ms": {"mean": 1.5, "p99": 3.0}, "jitter_ms": 0.2, "delay_hist_us": [[1500, 10]]}]}))
>>> rows = demand_totals(d)
>>> rows["ana-dev"]["bytes"], rows["ana-dev"]["lost"], rows["ana-dev"]["delay_s"]
(12000, 2, 0.0015)
"""
from __future__ import annotations

import json
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import MetricsHandler

from .traffic.accounting import merge_histograms, percentile_us

__all__ = ["ReceiverCollector", "demand_totals", "serve_exporter"]


def _report(path: Path) -> dict | None:
    try:
        lines = path.read_text(errors="replace").strip().splitlines()
        data = json.loads(lines[-1]) if lines else None
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def demand_totals(workdir: Path) -> dict[str, dict]:
    """Per demand: bytes, packets, lost, mean and p99 one-way delay (s), jitter (s), over every receiver."""
    rows: dict[str, dict] = {}
    hists: dict[str, list] = {}
    for progress in sorted(Path(workdir).glob("receiver-*.progress.json")):
        final = progress.with_name(progress.name.replace(".progress.json", ".out"))
        report = _report(final) or _report(progress)
        for flow in (report or {}).get("flows", []):
            r = rows.setdefault(flow["demand"], {"bytes": 0, "packets": 0, "lost": 0, "distinct": 0,
                                                 "delay_sum": 0.0, "jitter_sum": 0.0})
            n = flow.get("distinct") or 0
            r["bytes"] += flow.get("bytes", 0)
            r["packets"] += flow.get("packets", 0)
            r["lost"] += flow.get("lost", 0)
            r["distinct"] += n
            r["delay_sum"] += (flow.get("delay_ms", {}).get("mean") or 0.0) * n
            r["jitter_sum"] += (flow.get("jitter_ms") or 0.0) * n
            hists.setdefault(flow["demand"], []).append(flow.get("delay_hist_us") or [])
    for demand, r in rows.items():
        n = r.pop("distinct")
        r["delay_s"] = r.pop("delay_sum") / n / 1000 if n else None
        r["jitter_s"] = r.pop("jitter_sum") / n / 1000 if n else None
        merged = merge_histograms(hists[demand])
        r["delay_p99_s"] = percentile_us(merged, 99) / 1e6 if merged else None
    return rows


class ReceiverCollector:
    """A Prometheus collector over the receivers' reports in ``workdir``."""

    def __init__(self, workdir: str | Path):
        self.workdir = Path(workdir)

    def collect(self):
        received = CounterMetricFamily("openisp_demand_received_bytes", "Frame bytes of the demand its receivers got.",
                                       labels=["demand"])
        packets = CounterMetricFamily("openisp_demand_received_packets", "Packets of the demand its receivers got.",
                                      labels=["demand"])
        lost = CounterMetricFamily("openisp_demand_lost_packets",
                                   "Packets of the demand its receivers missed (from sequence numbers).",
                                   labels=["demand"])
        delay = GaugeMetricFamily("openisp_demand_delay_seconds", "Mean one-way delay of the demand's packets.",
                                  labels=["demand"])
        p99 = GaugeMetricFamily("openisp_demand_delay_p99_seconds", "99th percentile one-way delay of the demand.",
                                labels=["demand"])
        jitter = GaugeMetricFamily("openisp_demand_jitter_seconds", "RFC 3550 interarrival jitter of the demand.",
                                   labels=["demand"])
        for demand, r in sorted(demand_totals(self.workdir).items()):
            received.add_metric([demand], r["bytes"])
            packets.add_metric([demand], r["packets"])
            lost.add_metric([demand], r["lost"])
            for family, key in ((delay, "delay_s"), (p99, "delay_p99_s"), (jitter, "jitter_s")):
                if r[key] is not None:
                    family.add_metric([demand], r[key])
        yield from (received, packets, lost, delay, p99, jitter)


def serve_exporter(workdir: str | Path, port: int = 0, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """Serve the receivers' metrics on ``GET /metrics`` at ``host:port`` in a daemon thread."""
    registry = CollectorRegistry()
    registry.register(ReceiverCollector(workdir))
    server = ThreadingHTTPServer((host, port), MetricsHandler.factory(registry))
    threading.Thread(target=server.serve_forever, name="receiver-metrics", daemon=True).start()
    return server
