"""Benchmark results as OpenMetrics: every figure a benchmark prints, declared once and recorded with its time.

Each ``make bench`` writes one file, ``bench/out/results-<time>.om`` (the Makefile
names it in ``OPENISP_BENCH_RESULTS`` so every benchmark of that run appends to
it; a benchmark run by hand starts a file of its own).  The file is rewritten
whole at every :func:`record`, so it is always valid OpenMetrics (``# EOF`` last,
each series' samples together and in time order) even when a benchmark dies
half-way.  ``bench/load.py`` turns the files into a Prometheus database, and
the Benchmarks dashboard (``grafana/dashboards/benchmarks.json``) plots every
figure of :data:`FIGURES` over the runs.

>>> import tempfile, pathlib
>>> out = pathlib.Path(tempfile.mkdtemp()) / "results.om"
>>> record("rules", "install", 1.8, "ratio", {"flows": "1000"}, path=out, at=1700000000)
>>> print(out.read_text(), end="")  # doctest: +NORMALIZE_WHITESPACE
# HELP openisp_bench_rules_install_ratio Controller install time over ovs-ofctl add-flows of the same flows.
# TYPE openisp_bench_rules_install_ratio gauge
# UNIT openisp_bench_rules_install_ratio ratio
openisp_bench_rules_install_ratio{flows="1000"} 1.8 1700000000.0
# EOF
>>> [(f.metric, r.value, r.at) for f, r in read(out)]
[('openisp_bench_rules_install_ratio', 1.8, 1700000000.0)]
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

from prometheus_client.core import Metric
from prometheus_client.openmetrics.exposition import generate_latest
from prometheus_client.openmetrics.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

__all__ = ["Figure", "FIGURES", "BenchResultsError", "record", "read", "results_path", "figure"]

OUT = Path(__file__).resolve().parent / "out"
#: The units a figure may have; each is also the metric name's suffix.
UNITS = ("seconds", "ratio", "packets_per_second")


class BenchResultsError(ValueError):
    """A figure that is not declared, or recorded with the wrong unit, labels or value."""


@dataclass(frozen=True)
class Figure:
    benchmark: str
    name: str
    unit: str
    labels: tuple[str, ...]
    help: str

    def __post_init__(self):
        if self.unit not in UNITS:
            raise BenchResultsError(f"{self.benchmark}/{self.name}: unit {self.unit!r} is not one of {UNITS}")

    @property
    def metric(self) -> str:
        return f"openisp_bench_{self.benchmark}_{self.name}_{self.unit}"


#: Every figure the benchmarks record (one panel each on the Benchmarks dashboard).
FIGURES: tuple[Figure, ...] = (
    Figure("rules", "install", "seconds", ("flows", "installer"),
           "Time to install a plan of N flows on one OVS bridge (installer: controller or ovs-ofctl)."),
    Figure("rules", "install", "ratio", ("flows",),
           "Controller install time over ovs-ofctl add-flows of the same flows."),
    Figure("traffic", "received", "packets_per_second", ("sender",),
           "Packets per second one sender gets through a veth path (best round; sender: generator or iperf3)."),
    Figure("traffic", "generator_iperf3", "ratio", (),
           "The project's generator over iperf3, in packets per second received."),
    Figure("auction", "clearing", "seconds", ("market", "step"),
           "Time to clear a market (step: solve, arcs, lmp or vcg)."),
    Figure("auction", "vcg_solve", "ratio", ("market",),
           "A full VCG clearing over one winner-determination solve of the same market."),
)


def figure(benchmark: str, name: str, unit: str) -> Figure:
    """The declared figure, or :class:`BenchResultsError` naming what is declared."""
    for f in FIGURES:
        if (f.benchmark, f.name, f.unit) == (benchmark, name, unit):
            return f
    known = ", ".join(f"{f.benchmark}/{f.name} ({f.unit})" for f in FIGURES)
    raise BenchResultsError(f"no figure {benchmark}/{name} in {unit!r} is declared in bench/results.py "
                            f"(declared: {known})")


_default: Path | None = None


def results_path() -> Path:
    """``$OPENISP_BENCH_RESULTS`` (one file per ``make bench``), else one file for this process."""
    global _default
    if os.environ.get("OPENISP_BENCH_RESULTS"):
        return Path(os.environ["OPENISP_BENCH_RESULTS"])
    if _default is None:
        _default = OUT / f"results-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.om"
    return _default


@dataclass(frozen=True)
class Recorded:
    labels: tuple[tuple[str, str], ...]
    value: float
    at: float


def read(path: str | Path) -> list[tuple[Figure, Recorded]]:
    """Every sample of a results file, with its declared figure (files from older catalogues keep theirs)."""
    text = Path(path).read_text()
    rows = []
    for family in text_string_to_metric_families(text):
        declared = next((f for f in FIGURES if f.metric == family.name), None)
        if declared is None:
            prefix = "openisp_bench_"
            bench_and_figure = family.name[len(prefix):-len(family.unit) - 1] if family.unit else family.name
            benchmark, _, name = bench_and_figure.partition("_")
            declared = Figure(benchmark, name, family.unit, (), family.documentation)
        for s in family.samples:
            at = s.timestamp.sec + s.timestamp.nsec / 1e9 if s.timestamp is not None else 0.0
            rows.append((declared, Recorded(tuple(sorted(s.labels.items())), s.value, at)))
    return rows


class _Families:
    """What :func:`generate_latest` collects: the families of a results file."""

    def __init__(self, rows: list[tuple[Figure, Recorded]]):
        self.rows = rows

    def collect(self):
        by_metric: dict[str, Metric] = {}
        for fig, r in sorted(self.rows, key=lambda row: (row[0].metric, row[1].labels, row[1].at)):
            m = by_metric.get(fig.metric)
            if m is None:
                m = by_metric[fig.metric] = Metric(fig.metric, fig.help, "gauge", fig.unit)
            m.samples.append(Sample(fig.metric, dict(r.labels), r.value, r.at))
        return list(by_metric.values())


def record(benchmark: str, name: str, value: float, unit: str, labels: dict[str, str] | None = None, *,
           path: str | Path | None = None, at: float | None = None) -> None:
    """Add one figure to the results file (:func:`results_path` unless ``path``), stamped ``at`` (now)."""
    fig = figure(benchmark, name, unit)
    labels = {k: str(v) for k, v in (labels or {}).items()}
    if tuple(sorted(labels)) != tuple(sorted(fig.labels)):
        raise BenchResultsError(f"{fig.metric}: labels {sorted(labels)} recorded, {sorted(fig.labels)} declared")
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BenchResultsError(f"{fig.metric}{labels}: {value!r} is not a finite number")
    target = Path(path) if path is not None else results_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    rows = read(target) if target.exists() else []
    rows.append((fig, Recorded(tuple(sorted(labels.items())), float(value), float(time.time() if at is None else at))))
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_bytes(generate_latest(_Families(rows)))
    os.replace(tmp, target)
