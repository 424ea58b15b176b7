"""A sample run's Prometheus database, from the metric code of the controller and the receivers.

    .venv/bin/python -m grafana.sample DIR [--seconds 30]

Thirty seconds of a small made-up run (two demands, one split over two
paths; link ``bc`` down from 10 s to 16 s; a new epoch at 15 s), recorded
through :class:`controller.metrics.Metrics` and
:class:`dataplane.exporter.ReceiverCollector` themselves, so the samples carry
the names and labels a real run exports.  They are written as OpenMetrics
with timestamps and turned into blocks by ``promtool tsdb
create-blocks-from openmetrics``.  The tests evaluate every dashboard panel
on it without a run; people can try the dashboards or ``openisp report DIR``
on it without root.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from prometheus_client.core import Metric
from prometheus_client.openmetrics.exposition import generate_latest
from prometheus_client.samples import Sample

from controller.metrics import Metrics
from dataplane.exporter import ReceiverCollector

__all__ = ["write_openmetrics", "sample_run", "Families"]

DEMANDS = {"video": ("a>b", 4_000_000), "call": ("b>c", 1_000_000)}  # demand -> (direction, bits/s)
LINKS = {"ab": ("a>b", "b>a"), "bc": ("b>c", "c>b")}
PARTICIPANTS = ("alice", "bob", "spine")


class Families:
    """Snapshots of collectors taken at given times: what :func:`generate_latest` collects."""

    def __init__(self):
        self.families: dict[str, Metric] = {}

    def snapshot(self, collectors, at: float) -> None:
        for collector in collectors:
            for family in collector.collect():
                acc = self.families.setdefault(family.name, Metric(family.name, family.documentation, family.type,
                                                                   family.unit))
                acc.samples.extend(Sample(s.name, s.labels, s.value, at) for s in family.samples)

    def collect(self):
        for family in self.families.values():
            # OpenMetrics: each series' samples together, in time order (a histogram's buckets stay together)
            family.samples.sort(key=lambda s: (sorted((k, v) for k, v in s.labels.items() if k != "le"),
                                               s.timestamp))
        return list(self.families.values())


def write_openmetrics(families: Families, path: Path, db_dir: Path) -> None:
    """``families`` as OpenMetrics in ``path``, then as blocks in ``db_dir``."""
    path.write_bytes(generate_latest(families))
    done = subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", str(path), str(db_dir)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"promtool refused {path}: {(done.stdout + done.stderr).strip()[-400:]}")


def _receivers(traffic: Path, t: int, start: int, stop: int) -> None:
    flows = []
    for demand, (_, bps) in DEMANDS.items():
        seconds = max(0, min(t, stop) - start)
        packets = seconds * bps // 8 // 1200
        flows.append({"demand": demand, "packets": packets, "bytes": packets * 1200, "distinct": packets,
                      "lost": packets // 100, "delay_ms": {"mean": 1.5 + 0.1 * (t % 3), "p99": 4.0},
                      "jitter_ms": 0.2, "delay_hist_us": [[1500, packets]] if packets else []})
    (traffic / "receiver-h2.progress.json").write_text(json.dumps({"flows": flows}))


def sample_run(db_dir: str | Path, seconds: int = 30, start: float | None = None) -> tuple[float, float]:
    """Write the sample run's database into ``db_dir``; its first and last sample times."""
    start = float(int(time.time()) - seconds - 60 if start is None else start)
    m = Metrics()
    fams = Families()
    with tempfile.TemporaryDirectory() as tmp:
        traffic = Path(tmp)
        receivers = ReceiverCollector(traffic)
        for t in range(seconds + 1):
            epoch = 1 if t < seconds // 2 else 2
            bc_up = not 10 <= t < 16
            if t == 0:
                m.replans.labels(reason="start").inc()
                m.clearing_seconds.observe(0.012)
                m.clearing_wait.observe(0.02)
            if t == seconds // 2:
                m.replans.labels(reason="epoch").inc()
                m.clearing_seconds.observe(0.015)
                m.clearing_wait.observe(0.025)
            if t == 10:
                m.failovers.labels(link="bc").inc()
                m.replans.labels(reason="link_down").inc()
            if t == 16:
                m.replans.labels(reason="link_up").inc()
            m.epoch.set(epoch)
            m.welfare.set(4.2 + epoch / 10)
            m.budget_balance.set(-0.3 * epoch)
            m.switches_connected.set(3)
            for switch in "abc":
                m.switch_holding.labels(switch=switch).set(1)
                if t in (0, seconds // 2):
                    m.install_seconds.labels(switch=switch).observe(0.02)
            for link, directions in LINKS.items():
                up = link != "bc" or bc_up
                m.link_up.labels(link=link).set(1 if up else 0)
                m.link_capacity.labels(link=link).set(10_000_000 / 8)
                m.link_allocated.labels(link=link).set(5_000_000 / 8 if up else 0)
                m.link_price.labels(link=link).set(0.1 * epoch if link == "ab" else 0.3)
                for direction in directions:
                    busy = up and 3 <= t < 25 and direction in {d for d, _ in DEMANDS.values()}
                    m.link_bytes.labels(link=link, direction=direction).inc(5_000_000 // 8 if busy else 0)
            for demand, (_, bps) in DEMANDS.items():
                m.demand_allocated.labels(demand=demand).set(bps / 8)
                m.demand_paths.labels(demand=demand).set(2 if demand == "video" else 1)
                sending = 3 <= t < 25
                m.demand_forwarded_bytes.labels(demand=demand).inc(2 * bps // 8 if sending else 0)
                m.demand_forwarded_packets.labels(demand=demand).inc(2 * bps // 8 // 1200 if sending else 0)
                m.demand_metered_packets.labels(demand=demand).inc(2 * bps // 8 // 1200 if sending else 0)
                m.demand_dropped_packets.labels(demand=demand).inc(bps // 8 // 1200 if sending else 0)
            for p in PARTICIPANTS:
                m.participant_paid.labels(participant=p).inc(0.01 if p != "spine" else 0)
                m.participant_received.labels(participant=p).inc(0.02 if p == "spine" else 0)
            _receivers(traffic, t, 3, 25)
            fams.snapshot([m.registry, receivers], start + t)
        db = Path(db_dir)
        db.mkdir(parents=True, exist_ok=True)
        write_openmetrics(fams, traffic / "sample.om", db)
    return start, start + seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=Path, help="the database directory to write (e.g. /tmp/sample/prometheus)")
    parser.add_argument("--seconds", type=int, default=30)
    args = parser.parse_args(argv)
    start, end = sample_run(args.dir, args.seconds)
    print(f"{args.dir}: a sample run from {time.strftime('%H:%M:%S', time.gmtime(start))} to "
          f"{time.strftime('%H:%M:%S', time.gmtime(end))} UTC")
    return 0


if __name__ == "__main__":
    sys.exit(main())
