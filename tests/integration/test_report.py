"""`openisp report` on a real run: `openisp run split.yaml`, then its panels drawn from the kept database, every
PNG with data in it, and no Prometheus left running."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

from dataplane.report.dashboards import load_dashboards

pytestmark = pytest.mark.integration


def openisp(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "openisp.cli", *args], capture_output=True, text=True,
                          timeout=timeout)


def prometheus_reading(path: Path) -> list[str]:
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
def run_dir():
    result = openisp("run", "topologies/library/split.yaml", "--json")
    assert result.stdout.strip(), result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert "prometheus" in report, result.stderr[-2000:]
    return Path(report["run_dir"])


def test_the_report_draws_every_panel_of_a_real_run(run_dir):
    result = openisp("report", str(run_dir), timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    panels = sum(len(d.panels) for d in load_dashboards(["market", "dataplane"]))
    assert f"{run_dir / 'report' / 'report.html'}: {panels} panels" in result.stdout
    pngs = sorted((run_dir / "report").glob("*.png"))
    assert len(pngs) == panels
    for png in pngs:
        image = plt.imread(png)[..., :3]
        h, w = image.shape[:2]
        axes = image[int(0.12 * h):int(0.65 * h), int(0.12 * w):int(0.95 * w)]
        assert ((axes.max(axis=2) - axes.min(axis=2)) > 0.15).sum() > 100, f"{png.name} looks blank"
    assert prometheus_reading(run_dir) == []


def test_a_run_without_a_database_is_one_clear_line(tmp_path):
    result = openisp("report", str(tmp_path), timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "no Prometheus database" in result.stderr
