"""`openisp report`: every panel drawn from a real Prometheus on a kept database, looked at; nothing left running."""
from __future__ import annotations

import argparse
import json
import re
import shutil
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

from dataplane.report.dashboards import PanelData, ReportError, Series, load_dashboards, parse_dashboard
from dataplane.report.render import ink, render_panel
from grafana.sample import sample_run
from openisp.commands import report

pytestmark = pytest.mark.skipif(shutil.which("promtool") is None or shutil.which("prometheus") is None,
                                reason="needs Debian's prometheus (make setup)")


def args(run_dir, *more: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    report.add_arguments(parser)
    return parser.parse_args([str(run_dir), *more])


def prometheus_reading(path: Path) -> list[str]:
    """Running prometheus processes whose command line names ``path`` (or a link in a report's scratch dir)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if argv[0].endswith("prometheus") and any(str(path) in a or "openisp-report-" in a for a in argv):
            found.append(" ".join(argv))
    return found


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("run")
    sample_run(d / "prometheus", seconds=30)
    return d


@pytest.fixture(scope="module")
def reported(run_dir):
    code = report.run(args(run_dir))
    return code, run_dir / "report"


def coloured_pixels(png: Path) -> int:
    """Coloured pixels well inside the axes (the legend is below them, the title above)."""
    image = plt.imread(png)[..., :3]
    h, w = image.shape[:2]
    area = image[int(0.12 * h):int(0.65 * h), int(0.12 * w):int(0.95 * w)]
    return int(((area.max(axis=2) - area.min(axis=2)) > 0.15).sum())


def test_every_panel_of_both_run_dashboards_is_drawn_with_data(reported, capsys):
    code, out = reported
    assert code == 0
    panels = [p for d in load_dashboards(["market", "dataplane"]) for p in d.panels]
    pngs = sorted(out.glob("*.png"))
    assert len(pngs) == len(panels)
    for png in pngs:
        assert plt.imread(png).shape[:2] == (420, 900)
        assert coloured_pixels(png) > 300, f"{png.name} looks blank"
    page = (out / "report.html").read_text()
    assert sorted(re.findall(r"<img src='([^']+)'", page)) == [p.name for p in pngs]
    assert "Panels without data" not in page
    assert all(p.title.replace("&", "&amp;") in page for p in panels)
    assert "/d/openisp-market?from=" in page and "/d/openisp-dataplane?from=" in page


def test_no_prometheus_is_left_and_the_run_is_left_as_it_was(reported, run_dir):
    assert prometheus_reading(run_dir) == []
    assert sorted(p.name for p in run_dir.iterdir()) == ["prometheus", "report"]  # no config or log written beside


def test_a_panel_is_drawn_with_its_points_and_a_blank_one_is_caught(tmp_path):
    [panel] = parse_dashboard({"title": "T", "panels": [{"type": "timeseries", "title": "P", "targets": [
        {"refId": "A", "expr": "x"}], "fieldConfig": {"defaults": {"unit": "bps"}}}]}).panels
    data = PanelData(panel, {"A": "x"}, {"A": [Series("s", {}, [100.0, 101.0, 102.0], [1e6, 2e6, float("nan")])]})
    drawn = render_panel(data, tmp_path / "p.png", 100, 102)
    assert drawn.points == 2 and drawn.ink > 100 and drawn.problem is None
    assert ink(drawn.path, drawn.bbox) == drawn.ink
    nothing = render_panel(PanelData(panel, {"A": "x"}, {"A": []}), tmp_path / "e.png", 100, 102)
    assert nothing.points == 0 and nothing.ink == 0 and nothing.problem == "no data from A: x"
    nan = render_panel(PanelData(panel, {"A": "x"}, {"A": [Series("s", {}, [100.0], [float("nan")])]}),
                       tmp_path / "n.png", 100, 102)
    assert nan.ink == 0 and nan.problem.startswith("no data")


def test_a_panel_with_no_data_fails_the_command_and_is_named(run_dir, tmp_path, capsys):
    dashboards = tmp_path / "dashboards"
    dashboards.mkdir()
    (dashboards / "t.json").write_text(json.dumps({"uid": "t", "title": "T", "panels": [
        {"type": "timeseries", "title": "Epoch", "targets": [{"refId": "A", "expr": "openisp_market_epoch"}]},
        {"type": "stat", "title": "Typo", "targets": [{"refId": "A", "expr": "openisp_market_epoc"}]}]}))
    code = report.run(args(run_dir, "--dashboards", "t", "--dashboards-dir", str(dashboards),
                           "--out", str(tmp_path / "out")))
    assert code == 1
    assert capsys.readouterr().err.strip() == "openisp report: T / Typo: no data from A: openisp_market_epoc"
    assert "Panels without data" in (tmp_path / "out" / "report.html").read_text()
    assert len(list((tmp_path / "out").glob("*.png"))) == 2
    assert prometheus_reading(run_dir) == []


@pytest.mark.parametrize("make, message", [
    (lambda d: d / "missing", "no such directory"),
    (lambda d: d, "no Prometheus database in it"),
    (lambda d: (d / "prometheus" / "wal").mkdir(parents=True) or d, "the database holds no samples"),
])
def test_a_missing_or_empty_run_is_one_clear_error(tmp_path, make, message):
    run = make(tmp_path)
    with pytest.raises(ReportError, match=message) as caught:
        report.run(args(run))
    assert "\n" not in str(caught.value)
    assert prometheus_reading(tmp_path) == []


def test_a_database_a_prometheus_already_serves_is_not_opened_again(run_dir):
    from dataplane.report.database import served

    with served(run_dir / "prometheus"):
        with pytest.raises(ReportError, match=r"a Prometheus \(pid \d+\) is serving it already"):
            report.run(args(run_dir, "--out", str(run_dir.parent / "again")))
    assert prometheus_reading(run_dir) == []
