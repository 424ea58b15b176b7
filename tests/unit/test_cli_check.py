"""``openisp check``: progress past a few seconds, and the phases it reports."""
from __future__ import annotations

import threading

from openisp.commands.check import Heartbeat
from topologies.loader import load_checked


def test_a_long_check_says_what_it_is_doing_and_a_short_one_says_nothing():
    said: list[str] = []
    release = threading.Event()
    with Heartbeat("big.yaml", out=said.append, after=0.05, every=0.05) as beat:
        beat("links and offers")
        release.wait(1.0)  # a check that takes a second
    assert said and said[0].startswith("big.yaml: still working (") and said[0].endswith("): links and offers")
    count = len(said)
    release.wait(0.2)
    assert len(said) == count  # it stops with the job
    quiet: list[str] = []
    with Heartbeat("small.yaml", out=quiet.append, after=5) as beat:
        beat("reading YAML")
    assert quiet == []


def test_the_loader_reports_its_phases_in_order():
    phases: list[str] = []
    load_checked("topologies/default.yaml", phases.append)
    assert phases[0] == "reading YAML" and phases[-1] == "looking for demands no offer can serve"
    assert phases.index("links and offers") < phases.index("demands") < phases.index("connectivity and interface names")
