"""``openisp run`` as a user runs it: end to end, then nothing left behind."""
from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from .conftest import interfaces, ovs_bridges

pytestmark = pytest.mark.integration


def controller_processes() -> list[str]:
    out = subprocess.run(["pgrep", "-af", "openisp.cli controller"], capture_output=True, text=True).stdout
    return [l for l in out.splitlines() if "pgrep" not in l]


def assert_nothing_left(scenario):
    assert not ovs_bridges() & {s.name for s in scenario.switches}
    left = {i for i in interfaces() if any(i.startswith(f"{n}-eth") for n in [*scenario.switch, *scenario.host])}
    assert not left
    assert controller_processes() == []
    assert subprocess.run(["pgrep", "-x", "iperf3"], capture_output=True).returncode == 1


def test_run_reaches_everyone_measures_every_demand_and_cleans_up(default_scenario, tmp_path):
    result = subprocess.run([sys.executable, "-m", "openisp.cli", "run", "topologies/default.yaml", "--seconds", "2"],
                            capture_output=True, text=True, timeout=240, cwd=".",
                            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": str(tmp_path)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "reachability: 72/72 host pairs (100%)" in result.stdout
    for d in default_scenario.demands:
        row = next(l for l in result.stdout.splitlines() if l.startswith(d.id + " "))
        assert "bps" in row.split()[-2] or "bps" in row, row  # a measured rate in every row
    assert "teardown: clean" in result.stdout
    assert_nothing_left(default_scenario)


def test_ctrl_c_tears_everything_down(default_scenario, tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "openisp.cli", "run", "topologies/default.yaml", "--seconds", "20"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen = []
    deadline = time.monotonic() + 120
    for line in proc.stdout:
        seen.append(line)
        if line.startswith("traffic:") or time.monotonic() > deadline:
            break
    time.sleep(1)
    proc.send_signal(signal.SIGINT)
    rest, _ = proc.communicate(timeout=60)
    output = "".join(seen) + rest
    assert proc.returncode != 0, output
    assert "teardown: clean" in output, output
    assert_nothing_left(default_scenario)
