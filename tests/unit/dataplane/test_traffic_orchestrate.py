"""run_traffic's process handling, with stand-in programs (no root, no network).

Fake hosts run a small stub instead of the real generator and receiver: one
that behaves, one that never gets ready, one that crashes, one that hangs.
Each test checks the rows it gets and that no process it started survives.
"""
import os
import subprocess
import sys
import textwrap

import pytest

from dataplane.traffic import FlowSpec, TrafficError, run_traffic, split_demand

STUB = textwrap.dedent("""
    import json, os, signal, sys, time
    from pathlib import Path
    from dataplane.traffic.accounting import FlowAccount
    from dataplane.traffic.spec import HostPlan

    behaviour, role, path = sys.argv[1:]
    plan = HostPlan.from_json(Path(path).read_text())
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    if behaviour == "crash":
        print("boom", file=sys.stderr)
        sys.exit(3)
    if behaviour == "hang":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        while True:
            time.sleep(1)
    if role == "receiver":
        if behaviour == "never_ready":
            while True:
                time.sleep(1)
        Path(plan.ready_file).write_text("")
        while not stop and time.monotonic_ns() < plan.deadline_ns:
            time.sleep(0.01)
        rows = []
        for f in plan.flows:
            a = FlowAccount(plan.start_ns, 3, 100)
            for seq in range(8):  # 8 of 10 arrive, 1 ms late
                a.add(f.frame_bytes, seq, plan.start_ns + seq * 10**8, plan.start_ns + seq * 10**8 + 10**6)
            rows.append({"flow_id": f.flow_id, "demand": f.demand, "protocol": f.protocol, **a.summary()})
        print(json.dumps({"role": role, "host": plan.host, "stopped_by": "signal", "error": "", "flows": rows}))
    else:
        # what was ready when this generator started
        Path(path).with_suffix(".saw").write_text(" ".join(sorted(p.name for p in Path(path).parent.glob("*.ready"))))
        rows = [{"flow_id": f.flow_id, "demand": f.demand, "protocol": f.protocol, "packets": 10,
                 "bytes": 10 * f.frame_bytes, "send_errors": 0, "skipped": 0, "first_s": 0.0, "last_s": 0.9,
                 "error": ""} for f in plan.flows]
        print(json.dumps({"role": role, "host": plan.host, "stopped_by": "done", "error": "", "flows": rows}))
""")


class FakeHost:
    def __init__(self, behaviour="ok"):
        self.behaviour, self.procs = behaviour, []

    def popen(self, args, **kw):
        role = args[2].rsplit(".", 1)[1]
        proc = subprocess.Popen([sys.executable, "-c", STUB, self.behaviour, role, args[3]], start_new_session=True,
                                **kw)
        self.procs.append(proc)
        return proc


def alive(hosts) -> list[int]:
    return [p.pid for h in hosts.values() for p in h.procs if p.poll() is None]


FLOW = FlowSpec(flow_id=1, demand="d", src_host="a", dst_host="b", src_ip="198.18.0.1", dst_ip="198.18.0.2",
                src_mac="00:00:00:00:00:01", dst_mac="00:00:00:00:00:02", src_port=20000, dst_port=5001,
                rate_kbps=96, stop_s=1.0, interface="a-eth0")
FAST = dict(lead_s=0.3, ready_timeout_s=5.0, drain_s=0.0, grace_s=2.0)


def test_results_come_back_per_flow_and_per_demand(tmp_path):
    hosts = {"a": FakeHost(), "b": FakeHost()}
    result = run_traffic(hosts, split_demand(FLOW, 2), 1.0, workdir=tmp_path, **FAST)
    assert [m.error for m in result.flows] == ["", ""]
    assert [(m.sent.packets, m.received.distinct, m.loss_percent) for m in result.flows] == [(10, 8, 20.0)] * 2
    d = result.demand("d")
    assert (d.flows, d.offered_kbps, d.loss_percent) == (2, 96, 20.0)
    assert d.received_kbps == pytest.approx(2 * 8 * 1200 * 8 / 1000)
    assert d.delay_mean_ms == pytest.approx(1.0) and d.received_kbps_per_s[0] == pytest.approx(2 * 8 * 9.6)
    assert {p.name for p in tmp_path.iterdir()} >= {"receiver-b.json", "receiver-b.out", "generator-a.json"}
    assert (tmp_path / "generator-a.saw").read_text() == "receiver-b.ready"  # receivers first
    assert alive(hosts) == []


def test_a_workdir_of_its_own_is_removed(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", None)
    run_traffic({"a": FakeHost(), "b": FakeHost()}, [FLOW], 1.0, **FAST)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("behaviour, words", [("never_ready", "not ready after"),
                                              ("crash", "exit status 3, no report (boom)")])
def test_a_failed_receiver_spoils_only_its_flows(tmp_path, behaviour, words):
    other = FlowSpec(**{**FLOW.to_dict(), "flow_id": 2, "demand": "e", "dst_host": "c", "dst_ip": "198.18.0.3"})
    hosts = {"a": FakeHost(), "b": FakeHost(behaviour), "c": FakeHost()}
    # Long enough for the healthy receivers to start on a busy machine, short for the one never ready.
    result = run_traffic(hosts, [FLOW, other], 1.0, workdir=tmp_path, **{**FAST, "ready_timeout_s": 2.5})
    bad, good = result.flow(1), result.flow(2)
    assert bad.error.startswith("receiver b: ") and words in bad.error and bad.received is None
    assert bad.sent.packets == 10  # the generator's half is still there
    assert good.error == "" and good.received.distinct == 8
    assert result.demand("d").error.startswith("1 of 1 flows failed") and result.demand("e").error == ""
    assert alive(hosts) == []


def test_a_hanging_generator_is_killed_and_reported(tmp_path):
    hosts = {"a": FakeHost("hang"), "b": FakeHost()}
    short = FlowSpec(**{**FLOW.to_dict(), "stop_s": 0.2})
    result = run_traffic(hosts, [short], 0.2, workdir=tmp_path, **{**FAST, "grace_s": 0.3, "lead_s": 0.2})
    assert result.flow(1).error.startswith("generator a: did not exit") and result.flow(1).received.distinct == 8
    assert alive(hosts) == []


@pytest.mark.parametrize("exc", [RuntimeError, KeyboardInterrupt])
def test_an_exception_kills_every_process_started(tmp_path, exc):
    def progress(message):
        if "generators started" in message:
            raise exc("stop")

    hosts = {"a": FakeHost("hang"), "b": FakeHost()}
    with pytest.raises(exc):
        run_traffic(hosts, [FLOW], 1.0, workdir=tmp_path, progress=progress, **FAST)
    started = [p for h in hosts.values() for p in h.procs]
    assert len(started) == 2 and alive(hosts) == []
    for p in started:
        with pytest.raises(ProcessLookupError):
            os.kill(p.pid, 0)


@pytest.mark.parametrize("flows, seconds, words", [
    ([], 1.0, "no flows"),
    ([FLOW, FLOW], 1.0, "repeat"),
    ([FLOW], 0.5, "stop after"),
    ([FLOW], 700, "seconds 700"),
    ([FlowSpec(**{**FLOW.to_dict(), "dst_host": "zz"})], 1.0, "not given: zz"),
])
def test_invalid_runs_are_refused_before_anything_starts(flows, seconds, words):
    hosts = {"a": FakeHost(), "b": FakeHost()}
    with pytest.raises(TrafficError, match=words):
        run_traffic(hosts, flows, seconds)
    assert hosts["a"].procs == hosts["b"].procs == []


def test_a_host_that_cannot_start_a_program_spoils_only_its_flows(tmp_path):
    class DeadHost(FakeHost):
        def popen(self, args, **kw):
            raise OSError("mnexec: no such process")

    other = FlowSpec(**{**FLOW.to_dict(), "flow_id": 2, "demand": "e", "dst_host": "c", "dst_ip": "198.18.0.3"})
    hosts = {"a": FakeHost(), "b": DeadHost(), "c": FakeHost()}
    result = run_traffic(hosts, [FLOW, other], 1.0, workdir=tmp_path, **FAST)
    assert result.flow(1).error == "receiver b: could not start: mnexec: no such process"
    assert result.flow(2).error == "" and alive(hosts) == []
