"""``openisp run`` as a user runs it: end to end, judged, then nothing left behind."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from topologies.loader import load_scenario

pytestmark = pytest.mark.integration


def openisp_run(*args: str, home) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "openisp.cli", "run", *args], capture_output=True, text=True,
                          timeout=240, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": str(home)})


def assert_nothing_left(scenario):
    from dataplane.teardown import leftovers

    assert leftovers(scenario) == []
    out = subprocess.run(["pgrep", "-af", "openisp.cli controller"], capture_output=True, text=True).stdout
    assert [l for l in out.splitlines() if "pgrep" not in l] == []
    assert subprocess.run(["pgrep", "-f", "dataplane.traffic"], capture_output=True).returncode == 1


def test_a_run_that_keeps_every_promise_says_so_in_json_and_exits_zero(default_scenario, tmp_path):
    result = openisp_run("topologies/default.yaml", "--seconds", "2", "--json", home=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True and report["problems"] == []
    assert report["reachability"] == {"pairs": 72, "reached": 72, "failed": []}
    assert [d["demand"] for d in report["demands"]] == [d.id for d in default_scenario.demands]
    for d in report["demands"]:
        assert d["ok"] and d["received_kbps"] >= 0.9 * d["allocated_kbps"] > 0, d
        assert d["paths"] and d["flows"] >= 16 and d["loss_percent"] is not None, d
    assert report["teardown"] == {"clean": True, "left": []}
    assert "verdict: every promise held" in result.stderr  # progress goes to stderr under --json
    assert_nothing_left(default_scenario)


def test_a_run_that_breaks_a_promise_names_the_demand_and_exits_non_zero(tmp_path):
    """One flow per demand cannot spread a split demand over its paths: it gets one path's
    share, the run says which demand fell short and by how much, and the others keep theirs."""
    scenario = load_scenario("topologies/library/split.yaml")
    result = openisp_run("topologies/library/split.yaml", "--seconds", "2", "--flows", "1", home=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    broken = [l for l in result.stdout.splitlines() if l.startswith("BROKEN: ")]
    assert broken and all(l.startswith(("BROKEN: video: received", "BROKEN: upload: received")) for l in broken), broken
    assert any(l.startswith("BROKEN: video: received") and "of its 7Mbps allocation" in l for l in broken), broken
    call = next(l for l in result.stdout.splitlines() if l.startswith("call "))
    assert call.endswith("ok"), call
    assert "teardown: clean" in result.stdout
    assert_nothing_left(scenario)
