"""`mn --custom topologies/mininet_topos.py --topo openisp,file=...` builds the same network."""
from __future__ import annotations

import sys
from pathlib import Path

import subprocess

import pytest

pytestmark = pytest.mark.integration


def test_mn_custom_topology_pings_all_pairs_with_the_controller(tmp_path):
    from dataplane.controllerproc import ControllerProcess

    controller = ControllerProcess("topologies/default.yaml", tmp_path / "controller.log").start()
    try:
        mn = Path(sys.executable).parent / "mn"
        result = subprocess.run(
            [str(mn), "--custom", "topologies/mininet_topos.py", "--topo", "openisp,file=topologies/default.yaml",
             "--controller", f"remote,ip=127.0.0.1,port={controller.ofp_port}", "--test", "pingall"],
            capture_output=True, text=True, timeout=180)
    finally:
        controller.stop()
    assert "Results: 0% dropped (72/72 received)" in result.stdout + result.stderr, result.stdout + result.stderr
