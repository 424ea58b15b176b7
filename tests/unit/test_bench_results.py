"""Benchmark results: recorded as OpenMetrics, loaded by promtool, read back by a real Prometheus at their times."""
from __future__ import annotations

import shutil

import pytest

from bench.load import LoadError, load
from bench.load import main as load_main
from bench.results import FIGURES, BenchResultsError, read, record, results_path

needs_prometheus = pytest.mark.skipif(shutil.which("promtool") is None or shutil.which("prometheus") is None,
                                      reason="needs Debian's prometheus (make setup)")
DAY = 86400
T0 = 1_790_000_000  # a time inside the server's retention, well in the past


def test_a_file_is_valid_openmetrics_after_every_record(tmp_path):
    out = tmp_path / "r.om"
    record("rules", "install", 2.0, "seconds", {"flows": 1000, "installer": "controller"}, path=out, at=T0 + 2)
    record("rules", "install", 1.0, "seconds", {"flows": 1000, "installer": "ovs-ofctl"}, path=out, at=T0 + 1)
    record("rules", "install", 2.0, "ratio", {"flows": 1000}, path=out, at=T0 + 3)
    text = out.read_text()
    assert text.endswith("# EOF\n") and text.count("# EOF") == 1
    # one family each, its samples together and in time order
    assert text.count("# TYPE openisp_bench_rules_install_seconds gauge") == 1
    lines = [ln for ln in text.splitlines() if ln.startswith("openisp_bench_rules_install_seconds{")]
    assert [ln.rsplit(" ", 1)[1] for ln in lines] == [str(float(T0 + 2)), str(float(T0 + 1))]  # by labels
    rows = {(f.metric, r.labels): (r.value, r.at) for f, r in read(out)}
    assert rows[("openisp_bench_rules_install_ratio", (("flows", "1000"),))] == (2.0, T0 + 3)
    assert len(rows) == 3


@pytest.mark.parametrize("args, match", [
    (("rules", "instal", 1.0, "ratio", {"flows": 1}), "no figure rules/instal"),
    (("rules", "install", 1.0, "pps", {"flows": 1}), "no figure rules/install in 'pps'"),
    (("rules", "install", 1.0, "ratio", {}), r"labels \[\] recorded, \['flows'\] declared"),
    (("rules", "install", 1.0, "ratio", {"flows": 1, "x": 2}), "recorded"),
    (("rules", "install", float("nan"), "ratio", {"flows": 1}), "not a finite number"),
    (("traffic", "generator_iperf3", "1.2", "ratio", None), "not a finite number"),
])
def test_a_figure_is_recorded_only_as_declared(tmp_path, args, match):
    with pytest.raises(BenchResultsError, match=match):
        record(*args, path=tmp_path / "r.om")
    assert not (tmp_path / "r.om").exists()


def test_one_file_per_make_bench_run_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENISP_BENCH_RESULTS", str(tmp_path / "results-x.om"))
    assert results_path() == tmp_path / "results-x.om"
    record("traffic", "generator_iperf3", 0.9, "ratio")
    record("traffic", "received", 1e5, "packets_per_second", {"sender": "generator"})
    assert len(read(tmp_path / "results-x.om")) == 2


def test_every_figure_has_a_unit_suffix_and_a_unique_name():
    names = [f.metric for f in FIGURES]
    assert len(set(names)) == len(names)
    assert all(n.startswith("openisp_bench_") and n.endswith("_" + f.unit) for n, f in zip(names, FIGURES))


@needs_prometheus
def test_two_runs_round_trip_through_promtool_and_prometheus(tmp_path, capsys):
    from dataplane.report.database import served, time_range

    runs = [tmp_path / "results-1.om", tmp_path / "results-2.om"]
    for i, (path, ratio) in enumerate(zip(runs, (1.8, 1.5))):
        record("rules", "install", ratio, "ratio", {"flows": 1000}, path=path, at=T0 + i * DAY)
        record("traffic", "received", 1e5 + i, "packets_per_second", {"sender": "iperf3"}, path=path,
               at=T0 + i * DAY + 60)
    db = tmp_path / "db"
    assert load(runs[:1], db) == 2
    assert load(runs, db) == 4
    assert load(runs, db) == 4  # rebuilt, not doubled
    assert len(list(db.glob("*/meta.json"))) == 2  # one block per file
    with served(db) as server:
        assert time_range(server, db) == (T0, T0 + DAY + 60 + 0.001)
        got = server.query_range('last_over_time(openisp_bench_rules_install_ratio{flows="1000"}[1h])',
                                 T0 - 3600, T0 + 2 * DAY, 3600)
        assert len(got) == 1
        assert sorted({float(v) for _, v in got[0]["values"]}) == [1.5, 1.8]
        assert [float(v) for t, v in got[0]["values"] if float(t) == T0 + DAY] == [1.5]
        assert server.query("count_over_time(openisp_bench_traffic_received_packets_per_second[3d])",
                            at=T0 + 2 * DAY)[0]["value"][1] == "2"
        with pytest.raises(LoadError, match=r"a Prometheus \(pid \d+\) is serving"):
            load(runs, db)  # never pulled from under a server
    assert load_main(["--out", str(db), *map(str, runs)]) == 0
    assert "loaded 2 results file(s), 4 samples" in capsys.readouterr().out


@needs_prometheus
def test_load_says_what_is_wrong(tmp_path):
    with pytest.raises(LoadError, match="no results to load"):
        load([], tmp_path / "db")
    bad = tmp_path / "results-bad.om"
    bad.write_text("openisp_bench_x 1 17\n")  # no # EOF
    with pytest.raises(LoadError, match="results-bad.om: not a results file"):
        load([bad], tmp_path / "db")
    assert not (tmp_path / "db.new").exists()
