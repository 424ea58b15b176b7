"""Reachability on a world too large to ping whole: a sample, pinged from every host at once,
that covers every host and every pair of switches with hosts; and every pair on request."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    path = tmp_path_factory.mktemp("reach") / "world.yaml"
    subprocess.run([sys.executable, "-m", "openisp.cli", "generate", "--last-miles", "6", "--hosts", "5",
                    "--content", "0", "--demands", "3", "--seed", "11", "-o", str(path)],
                   check=True, capture_output=True, timeout=60)
    return str(path)


def run(world: str, *more: str) -> dict:
    result = subprocess.run([sys.executable, "-m", "openisp.cli", "run", world, "--json", "--no-prometheus",
                             "--seconds", "1", *more], capture_output=True, text=True, timeout=600)
    report = json.loads(result.stdout)
    assert result.returncode == 0 and report["ok"], (report.get("problems"), result.stderr[-2000:])
    return report


def test_a_large_world_is_pinged_on_a_sample_and_whole_on_request(world):
    sampled = run(world)["reachability"]
    assert sampled["sampled_from"] == 30 * 29 and sampled["failed"] == []
    assert sampled["reached"] == sampled["pairs"] == 6 * 5 + 6  # six switches with hosts, five hosts each
    whole = run(world, "--all-pairs")["reachability"]
    assert whole == {"pairs": 870, "reached": 870, "failed": []}
