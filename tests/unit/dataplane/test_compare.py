"""``openisp compare``'s pure parts: who is a neighbour, what the port counters say, the table."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from controller.ledger import Ledger
from controller.market import clear_market
from dataplane.compare import (Counted, CountingMeasure, count, format_comparison, neighbour_demands,
                               path_latency_ms, plan_row, problems_of, scenario_for)
from openisp.commands.compare import paid
from topologies.loader import load_scenario

from ..controller.tiny import scenario as tiny

LOCAL_FIRST = "topologies/library/local-first.yaml"


@pytest.fixture(scope="module")
def world():
    return load_scenario(LOCAL_FIRST)


def test_neighbours_are_joined_without_any_backbone_switch():
    # a - b - c are three last miles in a row; x is a backbone joined to a and c; hx hangs off x
    s = tiny({"a1": "a", "a2": "a", "b1": "b", "c1": "c", "x1": "x"},
             [("a1-a2", "a1", "a2", 1), ("a2-b1", "a2", "b1", 1), ("b1-c1", "b1", "c1", 1), ("a1-x1", "a1", "x1", 1),
              ("c1-x1", "c1", "x1", 1)],
             {"a": "last_mile", "b": "last_mile", "c": "last_mile", "x": "backbone", "d": "last_mile"},
             {"ha": "a1", "ha2": "a1", "hc": "c1", "hx": "x1", "hb": "b1"},
             demands=[("same-switch", "ha", "ha2", 1000), ("over-b", "ha", "hc", 1000), ("to-backbone", "ha", "hx", 1000),
                      ("from-backbone", "hx", "hb", 1000), ("b-c", "hb", "hc", 1000)])
    assert neighbour_demands(s) == ["same-switch", "over-b", "b-c"]
    cut = tiny({"a1": "a", "c1": "c", "x1": "x"}, [("a1-x1", "a1", "x1", 1), ("c1-x1", "c1", "x1", 1)],
               {"a": "last_mile", "c": "last_mile", "x": "backbone"}, {"ha": "a1", "hc": "c1"},
               demands=[("via-backbone", "ha", "hc", 1000)])
    assert neighbour_demands(cut) == []


def test_the_library_world_has_two_neighbour_demands(world):
    assert neighbour_demands(world) == ["ann-cy", "di-bo"]


def ports_of(world):
    """Every (switch, port) of the world, keyed by what it faces."""
    g = world.graph
    return {(p.switch, p.kind, p.peer): (p.switch, p.number) for p in g.ports()}


def test_count_takes_bytes_entering_a_backbone_once_and_every_link_each_way(world):
    ports = ports_of(world)
    before = {key: (1000, 2000) for key in ports.values()}  # counters do not start at zero
    after = dict(before)

    def add(switch, kind, peer, rx=0, tx=0):
        key = ports[(switch, kind, peer)]
        after[key] = (after[key][0] + rx, after[key][1] + tx)

    add("bb-west", "link", "up-n", rx=700)       # enters from northside: counts
    add("bb-west", "link", "up-s", rx=50)        # enters from southside: counts
    add("bb-east", "link", "core", rx=9000)      # backbone to backbone: already counted where it entered
    add("bb-west", "link", "core", rx=9000)
    add("nb1", "link", "up-n", rx=4444, tx=700)  # a last mile's own port: not the backbone's
    add("nb1", "host", "h1", rx=300, tx=11)      # h1 sends 300 and receives 11
    add("nb2", "host", "h3", rx=5, tx=200)
    add("far1", "host", "h5", rx=80, tx=1)
    add("bb-west", "link", "up-s", tx=123)       # bb-west -> nb2 over up-s (b end)
    c = count(world, before, after)
    assert c.entering_backbone == 750
    assert c.sent == 300 + 5 + 80 and c.delivered == 11 + 200 + 1
    assert c.links["up-n"] == (700, 0)          # nb1 is up-n's a end
    assert c.links["up-s"] == (0, 123)
    assert c.links["core"] == (0, 0) and c.links["direct"] == (0, 0)
    only = count(world, before, after, senders={"h1"}, receivers={"h3"})
    assert (only.sent, only.delivered, only.entering_backbone) == (300, 200, 750)
    # a port missing from a snapshot (a switch that had not said) counts as zero, not as an error
    assert count(world, {}, {ports[("bb-west", "link", "up-n")]: (5, 0)}).entering_backbone == 5


class Recorder:
    """Fake generators and counter reads: each read returns the next snapshot."""

    def __init__(self, snapshots):
        self.snapshots = list(snapshots)
        self.calls = []

    def read(self, scenario):
        return self.snapshots.pop(0)

    def generators(self, net, scenario, offered, seconds, **kwargs):
        self.calls.append((dict(offered), seconds, kwargs))
        return {d: f"measured {d}" for d in offered}


def test_the_measure_runs_the_neighbours_alone_then_everyone_and_counts_each_phase(world):
    ports = ports_of(world)
    up_n = ports[("bb-west", "link", "up-n")]
    h1 = ports[("nb1", "host", "h1")]
    h3 = ports[("nb2", "host", "h3")]
    zero = {up_n: (0, 0), h1: (0, 0), h3: (0, 0)}
    rec = Recorder([zero, {up_n: (10, 0), h1: (900, 0), h3: (0, 800)},
                    {up_n: (10, 0), h1: (900, 0), h3: (0, 800)}, {up_n: (5010, 0), h1: (2900, 0), h3: (0, 1800)}])
    started = []
    m = CountingMeasure(world, reader=rec.read, generators=rec.generators)
    offered = {"ann-cy": 8000, "di-bo": 6000, "bo-ed": 8000, "ed-ann": 4000}
    got = m(None, world, offered, 3, workdir=Path("/tmp/x"), on_start=started.append, demands=list(world.demands))
    assert got == {d: f"measured {d}" for d in offered}  # what the second phase measured
    (alone, s1, kw1), (everyone, s2, kw2) = rec.calls
    assert alone == {"ann-cy": 8000, "di-bo": 6000} and everyone == offered and s1 == s2 == 3
    assert kw1["workdir"] == Path("/tmp/x/neighbours") and kw2["workdir"] == Path("/tmp/x")
    kw1["on_start"](1.0)
    assert started == []          # the neighbours' start does not start the run's timeline
    kw2["on_start"](2.0)
    assert started == [2.0]       # the second phase's does
    assert m.phases["neighbours"] == Counted(10, 900, 800, m.phases["neighbours"].links)
    assert (m.phases["all"].entering_backbone, m.phases["all"].sent, m.phases["all"].delivered) == (5000, 2000, 1000)


def test_a_world_without_neighbours_has_one_phase(world):
    s = replace(world, demands=tuple(d for d in world.demands if d.id in ("bo-ed", "ed-ann")))
    assert neighbour_demands(s) == []
    rec = Recorder([{}, {}])
    m = CountingMeasure(s, reader=rec.read, generators=rec.generators)
    m(None, s, {d.id: 1000 for d in s.demands}, 2)
    assert len(rec.calls) == 1 and set(m.phases) == {"all"}


def test_path_latency_sums_the_quickest_link_between_each_pair_of_switches(world):
    assert path_latency_ms(world, ["nb1", "nb2"]) == 2
    assert path_latency_ms(world, ["nb1", "bb-west", "bb-east", "far1"]) == 46
    assert path_latency_ms(world, ["nb1"]) == 0
    twin = tiny({"a": "p", "b": "p"}, [("slow", "a", "b", 7), ("quick", "a", "b", 2.5)], {"p": "last_mile"})
    assert path_latency_ms(twin, ["a", "b"]) == 2.5


def test_the_poc_plan_is_the_market_on_a_copy_in_poc_mode(world, tmp_path):
    assert scenario_for(LOCAL_FIRST, "hierarchical", tmp_path) == (LOCAL_FIRST, "hierarchical")
    assert scenario_for(LOCAL_FIRST, "market", tmp_path) == (LOCAL_FIRST, "market")
    file, plan = scenario_for(LOCAL_FIRST, "poc", tmp_path)
    assert plan == "market" and Path(file).parent == tmp_path
    copy = load_scenario(file)
    assert copy.market.mode == "poc" and world.market.mode == "open"
    assert copy.demands == world.demands and copy.links == world.links and copy.offers == world.offers


def test_paid_reads_the_first_settled_epoch_of_the_runs_ledger(world, tmp_path):
    assert paid({}) is None
    assert paid({"market": {"ledger": str(tmp_path / "none.sqlite")}}) is None
    result = clear_market(world)
    db = tmp_path / "ledger.sqlite"
    with Ledger(db) as ledger:
        assert ledger.settle(4, result, world)
        assert ledger.settle(5, clear_market(world, "pay-as-bid"), world)
    got = paid({"market": {"ledger": str(db)}})
    want = {p.name: str(p.pays) for p in result.participants if p.pays}
    assert got == want and got["bo"] == "2.000000"


def row(plan, neighbours, everything, demands, pays=None, problems=()):
    return {"plan": plan, "ok": not problems, "problems": list(problems), "run_dir": "r",
            "neighbour_demands": ["ann-cy", "di-bo"], "neighbours": neighbours, "all": everything,
            "demands": demands, "paid": pays}


def phase(entering, sent, delivered):
    return {"entering_backbone_bytes": entering, "sent_bytes": sent, "delivered_bytes": delivered, "links": {}}


def test_the_tables_read_per_plan_and_per_demand(world):
    d = {"ann-cy": {"latency_ms": 2.0, "received_kbps": 3990.0, "wanted_kbps": 4000},
         "di-bo": {"latency_ms": 2.0, "received_kbps": 3000.0, "wanted_kbps": 3000},
         "bo-ed": {"latency_ms": 46.0, "received_kbps": None, "wanted_kbps": 4000},
         "ed-ann": {"latency_ms": 46.0, "received_kbps": 2000.0, "wanted_kbps": 2000}}
    h = {k: {**v, "latency_ms": 6.0 if k in ("ann-cy", "di-bo") else 46.0} for k, v in d.items()}
    rows = [row("market", phase(0, 2_000_000, 1_000_000), phase(2_300_000, 9, 9), d,
                {"ann": "0.200000", "bo": "2.000000", "transit": "0.5"}),
            row("hierarchical", phase(1_000_000, 1_250_000, 1_000_000), phase(4_900_000, 9, 9), h)]
    text = format_comparison(world, rows)
    plans, per_demand, payers = text.split("\n\n")
    market, hierarchical = plans.splitlines()[2:]
    assert market.split("  ")[0] == "market"
    assert "0 B (0% of delivered)" in market and "2.3 MB" in market and "24.0" in market
    assert "8.99Mbps/13Mbps" in market and "2.20" in market and market.endswith("ok")  # customers only: 0.2 + 2
    assert "1.0 MB (100% of delivered)" in hierarchical and "4.9 MB" in hierarchical and "26.0" in hierarchical
    assert hierarchical.split()[-2:] == ["-", "ok"]
    lines = per_demand.splitlines()
    assert lines[2].split() == ["ann-cy", "(neighbours)", "4Mbps", "2,", "3.99Mbps", "6,", "3.99Mbps"]
    assert lines[4].split() == ["bo-ed", "4Mbps", "46,", "-", "46,", "-"]
    assert [l.split() for l in payers.splitlines()[2:]] == [["ann", "0.200000", "-"], ["bo", "2.000000", "-"],
                                                           ["transit", "0.5", "-"]]


def test_a_plan_is_broken_by_its_run_or_by_counters_that_saw_nothing():
    good = row("market", phase(0, 10, 10), phase(5, 10, 10), {})
    assert problems_of(good) == []
    assert problems_of(row("market", phase(0, 10, 10), phase(5, 10, 10), {}, problems=["unreachable: h1 -> h2"])) \
        == ["market: unreachable: h1 -> h2"]
    assert problems_of(row("shortest", phase(0, 10, 10), None, {})) == ["shortest: no traffic was counted"]
    assert problems_of(row("shortest", phase(0, 10, 10), phase(0, 0, 0), {})) == \
        ["shortest: the port counters saw no traffic sent"]
    assert problems_of(row("poc", phase(0, 10, 0), phase(5, 10, 10), {})) == \
        ["poc: the port counters saw nothing delivered to the neighbour demands"]
    assert problems_of(row("poc", None, phase(5, 10, 10), {})) == \
        ["poc: the port counters saw nothing delivered to the neighbour demands"]
    lonely = {**row("poc", None, phase(5, 10, 10), {}), "neighbour_demands": []}
    assert problems_of(lonely) == []


def test_a_plan_row_carries_each_demands_path_latency_and_wanted_rate(world):
    m = CountingMeasure(world, reader=lambda s: {}, generators=lambda *a, **k: {})
    m.phases["all"] = Counted(5, 6, 7, {})
    report = {"ok": True, "problems": [], "run_dir": "runs/x", "demands": [
        {"demand": "ann-cy", "paths": [["nb1", "nb2"], ["nb1", "bb-west", "nb2"]], "allocated_kbps": 4000,
         "received_kbps": 3999.5, "delay_ms": 0.4},
        {"demand": "bo-ed", "paths": [[]], "allocated_kbps": None, "received_kbps": None, "delay_ms": None}]}
    r = plan_row(world, "market", report, m)
    assert r["demands"]["ann-cy"] == {"paths": [["nb1", "nb2"], ["nb1", "bb-west", "nb2"]], "latency_ms": 6.0,
                                      "delay_ms": 0.4, "wanted_kbps": 4000, "allocated_kbps": 4000,
                                      "received_kbps": 3999.5}
    assert r["demands"]["bo-ed"]["latency_ms"] is None
    assert r["neighbours"] is None and r["all"] == Counted(5, 6, 7, {}).to_json() and r["paid"] is None
    assert plan_row(world, "market", report, m, payments=lambda rep: {"ann": rep["run_dir"]})["paid"] == \
        {"ann": "runs/x"}


def test_a_plan_that_cannot_run_is_a_broken_row_and_the_others_still_run(tmp_path):
    from types import SimpleNamespace

    from dataplane.compare import compare
    from dataplane.errors import DataplaneError

    ran = []

    def runner(file, **kwargs):
        ran.append((Path(file).name, kwargs["plan"]))
        if kwargs["plan"] == "hierarchical":
            raise DataplaneError("boom")
        return SimpleNamespace(report={"ok": True, "problems": [], "demands": []})

    lines = []
    code, report = compare(LOCAL_FIRST, ("hierarchical", "poc"), out=lines.append, runs_dir=str(tmp_path),
                           runner=runner)
    assert ran == [("local-first.yaml", "hierarchical"), ("local-first-poc.yaml", "market")]
    assert code == 1
    assert report["problems"][:2] == ["hierarchical: could not run: boom", "hierarchical: no traffic was counted"]
    assert "poc: no traffic was counted" in report["problems"]  # this fake runner sent nothing
    assert "  hierarchical: could not run: boom" in lines and "BROKEN: hierarchical: could not run: boom" in lines
    assert Path(report["png"]).read_bytes()[:4] == b"\x89PNG"
    assert (Path(report["dir"]) / "compare.json").exists()
