"""``openisp compare`` on the local-first world, as a student runs it: the market keeps the
neighbours' traffic off the backbone, today's hierarchy sends all of it there, both measured
from the switches' port counters."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from topologies.loader import load_scenario

from .test_run_command import assert_nothing_left

pytestmark = pytest.mark.integration

WORLD = "topologies/library/local-first.yaml"


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    home = tmp_path_factory.mktemp("compare")
    picture = home / "side-by-side.png"
    result = subprocess.run([sys.executable, "-m", "openisp.cli", "compare", WORLD, "--seconds", "2", "--json",
                             "--png", str(picture)], capture_output=True, text=True, timeout=600,
                            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": str(home)})
    return result, picture


def test_every_plan_ran_and_the_command_exits_zero(compared):
    result, _ = compared
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert [r["plan"] for r in report["plans"]] == ["market", "hierarchical", "shortest", "poc"]
    assert report["problems"] == [] and all(r["ok"] for r in report["plans"])
    assert "[4/4] poc" in result.stderr and "neighbour bytes via backbone" in result.stderr
    assert_nothing_left(load_scenario(WORLD))


def test_the_market_moves_no_neighbour_byte_through_the_backbone_and_the_hierarchy_moves_all(compared):
    plans = {r["plan"]: r for r in json.loads(compared[0].stdout)["plans"]}
    for name, r in plans.items():
        assert r["neighbour_demands"] == ["ann-cy", "di-bo"]
        n = r["neighbours"]
        # 2 s of 7 Mbps (hierarchical, shortest: the max rates) or of twice that (market, poc: the meters
        # drop half at the first switch): at least 1.5 MB delivered to the neighbours' receivers
        assert n["delivered_bytes"] >= 1_500_000, (name, n)
    assert plans["market"]["neighbours"]["entering_backbone_bytes"] == 0
    assert plans["shortest"]["neighbours"]["entering_backbone_bytes"] == 0
    h = plans["hierarchical"]["neighbours"]
    assert h["entering_backbone_bytes"] >= h["delivered_bytes"], h  # everything delivered went through it
    assert h["links"]["direct"] == [0, 0] and plans["market"]["neighbours"]["links"]["up-s"] == [0, 0]
    # with every demand sending, the hierarchy carries the neighbours' bytes on top of the far traffic
    assert plans["hierarchical"]["all"]["entering_backbone_bytes"] > 1.5 * plans["market"]["all"]["entering_backbone_bytes"]


def test_the_table_shows_the_difference_in_latency_and_in_cost(compared):
    plans = {r["plan"]: r for r in json.loads(compared[0].stdout)["plans"]}
    for d in ("ann-cy", "di-bo"):
        assert plans["market"]["demands"][d]["latency_ms"] == 2
        assert plans["hierarchical"]["demands"][d]["latency_ms"] == 6
    for name, r in plans.items():
        for d, x in r["demands"].items():
            assert x["received_kbps"] >= 0.9 * x["wanted_kbps"], (name, d, x)  # this world has room for all
    assert plans["hierarchical"]["paid"] is None and plans["shortest"]["paid"] is None
    assert plans["market"]["paid"]["bo"] == "2.000000"  # VCG on this world: openisp auction says the same
    assert plans["poc"]["paid"]["poc"] and "northside" in plans["poc"]["paid"]  # the POC's books: fees, leases


def test_the_picture_is_written(compared):
    _, picture = compared
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and picture.stat().st_size > 20_000
