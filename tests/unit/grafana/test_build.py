"""The dashboards are generated from code, committed up to date, and wired to what is provisioned and exported."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import yaml

from bench.results import FIGURES
from controller.metrics import Metrics
from dataplane.exporter import ReceiverCollector
from dataplane.report.dashboards import interpolate, load_dashboards, parse_dashboard
from grafana import build, dashboards

GRAFANA = Path(build.__file__).resolve().parent


def committed() -> dict[str, dict]:
    return {p.name: json.loads(p.read_text()) for p in sorted((GRAFANA / "dashboards").glob("*.json"))}


def test_the_committed_dashboards_are_what_the_code_builds():
    assert build.stale() == [], "run `.venv/bin/python -m grafana.build` and commit grafana/dashboards"
    assert sorted(committed()) == ["benchmarks.json", "dataplane.json", "market.json"]


def test_a_change_in_the_code_or_the_files_is_found_stale(tmp_path, monkeypatch, capsys):
    out = tmp_path / "dashboards"
    shutil.copytree(GRAFANA / "dashboards", out)
    assert build.main(["--check", "--out", str(out)]) == 0
    def retitled():
        d = dashboards.market()
        d.title = "something else"
        return d
    monkeypatch.setitem(dashboards.DASHBOARDS, "market.json", retitled)
    monkeypatch.setattr(build, "DASHBOARDS", dashboards.DASHBOARDS)
    assert build.main(["--check", "--out", str(out)]) == 1
    assert "market.json: stale" in capsys.readouterr().err
    monkeypatch.undo()
    (out / "dataplane.json").unlink()
    (out / "old.json").write_text("{}")
    assert {p.name for p in build.stale(out)} == {"dataplane.json", "old.json"}
    assert build.main(["--out", str(out)]) == 0 and (out / "dataplane.json").exists()


def test_every_panel_and_variable_uses_a_provisioned_datasource():
    provisioned = yaml.safe_load((GRAFANA / "provisioning/datasources/openisp.yaml").read_text())["datasources"]
    uids = {d["uid"]: d for d in provisioned}
    assert uids["openisp-run"]["url"] == "${OPENISP_PROMETHEUS_URL}"
    assert uids["openisp-bench"]["url"] == "${OPENISP_BENCH_PROMETHEUS_URL}"
    assert uids["openisp-run"]["jsonData"]["timeInterval"] == "1s"  # what $__rate_interval is computed from
    for name, d in committed().items():
        for item in d["panels"] + d.get("templating", {}).get("list", []):
            if item.get("type") == "row":
                continue
            assert item["datasource"]["uid"] in uids, (name, item.get("title", item.get("name")))
            assert item["datasource"]["type"] == uids[item["datasource"]["uid"]]["type"] == "prometheus"
        wanted = "openisp-bench" if name == "benchmarks.json" else "openisp-run"
        assert {p["datasource"]["uid"] for p in d["panels"] if p["type"] != "row"} == {wanted}


def test_the_provider_loads_grafana_dashboards_and_the_readme_says_how():
    provider = yaml.safe_load((GRAFANA / "provisioning/dashboards/openisp.yaml").read_text())["providers"][0]
    assert provider["type"] == "file" and provider["options"]["path"] == "${OPENISP_GRAFANA}/dashboards"
    readme = (GRAFANA / "README.md").read_text()
    for needed in ("GF_PATHS_PROVISIONING", "OPENISP_GRAFANA", "OPENISP_PROMETHEUS_URL",
                   "OPENISP_BENCH_PROMETHEUS_URL", "--storage.tsdb.path", "openisp report", "grafana.build"):
        assert needed in readme, needed


def test_panels_have_unique_ids_titles_and_fit_the_grid():
    uids = set()
    for name, d in committed().items():
        assert d["uid"] not in uids
        uids.add(d["uid"])
        ids = [p["id"] for p in d["panels"]]
        assert ids == list(range(1, len(ids) + 1)), name
        titles = [p["title"] for p in d["panels"] if p["type"] != "row"]
        assert len(set(titles)) == len(titles), name
        for p in d["panels"]:
            assert p["gridPos"]["x"] + p["gridPos"]["w"] <= 24, (name, p["title"])


def test_every_variable_a_query_uses_is_defined():
    for d in load_dashboards():
        names = {v.name: "x" for v in d.variables}
        for v in d.variables:
            interpolate(v.query, names, 1)
        for p in d.panels:
            for t in p.targets:
                assert "$" not in interpolate(t.expr, names, 1), (p.name, t.expr)


def test_an_undefined_variable_is_caught():
    bad = parse_dashboard({"title": "T", "panels": [{"type": "timeseries", "title": "P",
                                                      "targets": [{"refId": "A", "expr": 'x{a=~"$nope"}'}]}]})
    try:
        interpolate(bad.panels[0].targets[0].expr, {}, 1)
    except Exception as exc:
        assert "$nope is used" in str(exc)
    else:
        raise AssertionError("an undefined variable passed")


#: Exported but on no dashboard, and why: a panel of it would show "no data" on most runs.
NOT_SHOWN = {"openisp_demand_bid_bytes_per_second": "set only by closed-loop runs (market.demand_estimation: "
                                                    "measured), after their first epoch"}


def exported_metrics() -> set[str]:
    names = set()
    for family in [*Metrics().registry.collect(), *ReceiverCollector("/nonexistent").collect()]:
        if family.type == "histogram":
            names |= {f"{family.name}_sum", f"{family.name}_count"}
        else:
            names.add(family.name + ("_total" if family.type == "counter" else ""))
    return names


def test_every_metric_of_the_controller_and_the_receivers_is_on_a_run_dashboard():
    queries = " ".join(t["expr"] for name, d in committed().items() if name != "benchmarks.json"
                       for p in d["panels"] for t in p.get("targets", []))
    used = set(re.findall(r"openisp_\w+", queries))
    assert exported_metrics() - used - set(NOT_SHOWN) == set()
    assert used - exported_metrics() == set()  # and nothing that is not exported
    assert not set(NOT_SHOWN) & used


def test_every_benchmark_figure_has_a_panel():
    bench = committed()["benchmarks.json"]
    exprs = [t["expr"] for p in bench["panels"] for t in p.get("targets", [])]
    assert sorted(exprs) == sorted(f"last_over_time({f.metric}[$__interval])" for f in FIGURES)
