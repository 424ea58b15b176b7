"""Every query of every dashboard, evaluated by a real Prometheus: on a sample run, and on two benchmark runs."""
from __future__ import annotations

import shutil

import pytest

from bench.load import load
from bench.results import FIGURES, record
from dataplane.report.dashboards import (ReportError, evaluate, load_dashboards, parse_dashboard, step_for,
                                         variable_values)
from dataplane.report.database import served
from grafana.sample import sample_run

pytestmark = pytest.mark.skipif(shutil.which("promtool") is None or shutil.which("prometheus") is None,
                                reason="needs Debian's prometheus (make setup)")
DAY = 86400


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One database: two benchmark runs a day apart (every figure), then a sample run, behind one server."""
    tmp = tmp_path_factory.mktemp("world")
    bench_start = 1_790_000_000.0
    runs = []
    for i in range(2):
        runs.append(tmp / f"results-{i}.om")
        for f in FIGURES:
            labels = {label: f"{label}-{n}" for n, label in enumerate(f.labels)}
            record(f.benchmark, f.name, 1.0 + i, f.unit, labels, path=runs[-1], at=bench_start + i * DAY + 30)
    load(runs, tmp / "db")
    span = sample_run(tmp / "db", seconds=30)
    with served(tmp / "db") as server:
        yield server, span, (bench_start, bench_start + 2 * DAY)


def empty_panels(evaluated) -> list[str]:
    return [f"{d.panel.name} {t.ref}: {d.queries[t.ref]}" for d in evaluated for t in d.empty()]


@pytest.mark.parametrize("name", ["market", "dataplane"])
def test_every_panel_of_the_run_dashboards_has_data(world, name):
    server, (start, end), _ = world
    [dashboard] = load_dashboards([name])
    evaluated = evaluate(server, dashboard, start, end)
    assert len(evaluated) == len(dashboard.panels) >= 12
    assert empty_panels(evaluated) == []


def test_the_variables_take_the_values_of_the_data(world):
    server, (start, end), _ = world
    [dataplane] = load_dashboards(["dataplane"])
    assert variable_values(server, dataplane, start, end) == {"run": ".*", "link": "(ab|bc)", "demand": "(call|video)"}


def test_a_link_failure_and_a_new_epoch_show(world):
    server, (start, end), _ = world
    [dataplane] = load_dashboards(["dataplane"])
    panels = {d.panel.title: d for d in evaluate(server, dataplane, start, end)}
    [bc] = [s for s in panels["Links up"].series["A"] if s.legend == "bc"]
    assert bc.values[9:11] == [1.0, 0.0] and bc.values[16] == 1.0
    assert panels["Failovers"].series["A"][0].values[-1] == 1.0
    received = {s.legend: max(s.values) for s in panels["Received, against allocated"].series["A"]}
    assert received == {"call received": pytest.approx(1e6, rel=0.02), "video received": pytest.approx(4e6, rel=0.02)}


def test_every_benchmark_panel_shows_each_run_once(world):
    server, _, (start, end) = world
    [bench] = load_dashboards(["benchmarks"])
    evaluated = evaluate(server, bench, start, end)
    assert len(evaluated) == len(FIGURES)
    assert empty_panels(evaluated) == []
    for data in evaluated:
        [series] = data.series["A"]
        assert [v for v in series.values if v == v] == [1.0, 2.0], data.panel.title


def test_a_query_of_a_metric_that_is_not_there_is_found_empty(world):
    server, (start, end), _ = world
    d = parse_dashboard({"title": "T", "panels": [{"type": "timeseries", "title": "P", "targets": [
        {"refId": "A", "expr": "openisp_market_epoch"}, {"refId": "B", "expr": "openisp_market_epoc"}]}]})
    [data] = evaluate(server, d, start, end)
    assert [t.ref for t in data.empty()] == ["B"]


def test_a_query_whose_values_are_all_nan_is_found_empty(world):
    server, (start, end), _ = world
    d = parse_dashboard({"title": "T", "panels": [{"type": "timeseries", "title": "P", "targets": [
        {"refId": "A", "expr": "openisp_market_epoch * 0 / 0"}]}]})
    [data] = evaluate(server, d, start, end)
    assert data.series["A"] and [t.ref for t in data.empty()] == ["A"]


def test_a_variable_without_values_is_an_error(world):
    server, (start, end), _ = world
    d = parse_dashboard({"title": "T", "templating": {"list": [
        {"type": "query", "name": "x", "query": "label_values(openisp_market_epoch, nolabel)", "includeAll": True}]},
        "panels": []})
    with pytest.raises(ReportError, match=r"\$x has no values"):
        variable_values(server, d, start, end)


def test_the_step_keeps_a_few_hundred_points():
    assert step_for(0, 30) == 1 and step_for(0, 2 * DAY) == 576
