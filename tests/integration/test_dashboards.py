"""Every query of every run dashboard has data on a real run: `openisp run` of the timeline scenario (a
demand leaves, link bb fails and heals, a demand arrives), its Prometheus database read back, each panel's
queries evaluated over the run's time range with the variables filled from the data, as Grafana would."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dataplane.report.dashboards import evaluate, load_dashboards
from dataplane.report.database import served, time_range

pytestmark = pytest.mark.integration

RUN_DASHBOARDS = ["market", "dataplane"]


@pytest.fixture(scope="module")
def timeline():
    result = subprocess.run([sys.executable, "-m", "openisp.cli", "run", "topologies/library/timeline.yaml", "--json"],
                            capture_output=True, text=True, timeout=300)
    assert result.stdout.strip(), result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert "prometheus" in report, f"no Prometheus in the run (exit {result.returncode}): {result.stderr[-2000:]}"
    db = Path(report["prometheus"]["data"])
    with served(db) as server:
        span = time_range(server, db)
        assert span is not None, f"{db} holds no samples"
        yield {d.title: {p.panel.title: p for p in evaluate(server, d, *span)} for d in load_dashboards(RUN_DASHBOARDS)}


def empty(evaluated: dict) -> list[str]:
    return [f"{p.panel.name} {t.ref}: {p.queries[t.ref]}" for panels in evaluated.values() for p in panels.values()
            for t in p.empty()]


def test_every_panel_query_of_the_run_dashboards_has_data(timeline):
    assert sum(len(panels) for panels in timeline.values()) == sum(
        len(d.panels) for d in load_dashboards(RUN_DASHBOARDS))
    assert empty(timeline) == []


def test_the_link_failure_shows_on_the_data_plane_dashboard(timeline):
    panels = timeline["openisp / Data plane"]
    [bb] = [s for s in panels["Links up"].series["A"] if s.legend == "bb"]
    assert 0.0 in bb.values and bb.values[-1] == 1.0, bb.values
    assert max(panels["Links down"].series["A"][0].values) == 1.0
    # the largest value, not the last: Prometheus marks the controller's series stale once a scrape
    # finds it gone at the end of the run, and the panel then falls back to its vector(0)
    assert max(panels["Failovers"].series["A"][0].values) >= 1.0
    reasons = {s.legend for s in timeline["openisp / Market"]["Epochs and re-plans"].series["B"]}
    assert len(reasons) > 1, reasons


def test_each_demand_is_received_and_allocated(timeline):
    panel = timeline["openisp / Data plane"]["Received, against allocated"]
    received = {s.legend.split()[0] for s in panel.series["A"] if s.finite}
    allocated = {s.legend.split()[0] for s in panel.series["B"] if s.finite}
    assert {"video", "bulk", "late"} <= received and {"video", "late"} <= allocated
