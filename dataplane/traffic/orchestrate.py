"""Run generators and receivers in the emulated hosts and gather what they measured.

:func:`run_traffic` starts one receiver on every destination host, waits
(bounded) until each has bound its sockets, starts one generator on every
source host with a common start time, waits for them (bounded by the run's
length plus a grace), lets in-flight frames land, stops the receivers and
joins their reports into a :class:`~dataplane.traffic.results.TrafficResult`.

``hosts`` maps a host name to anything with Mininet's ``popen(args, **kw)``
(``Host.popen`` runs the command inside the host's namespace and returns a
``subprocess.Popen``).  Plans, reports and logs go to ``workdir``.

No process outlives the call: whatever happens (an exception, Ctrl-C), every
process it started is killed with its process group before the exception
goes on; a process whose parent was killed outright stops by itself within
10 ms (:class:`~dataplane.traffic.procs.StopFlag`).  A host whose program fails
spoils only its own flows' rows.

Example (it needs a running network, so it is not a doctest)::

    from dataplane.traffic import run_traffic, split_demand
    result = run_traffic({"h1": net.get("h1"), "h4": net.get("h4")}, split_demand(template, 16), seconds=3)
    result.demand("ana-dev").received_kbps   # 2991.4
"""
from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterable, Mapping, Protocol

from .procs import kill_group
from .results import TrafficResult, collect
from .spec import MAX_DURATION_S, FlowSpec, HostPlan, TrafficError

__all__ = ["run_traffic", "PopenHost"]

_ROOT = Path(__file__).resolve().parents[2]  # so `-m dataplane.traffic.*` is this very code

#: Seconds of lead each program adds before the common start.  Measured on this 2-core
#: machine (2026-11-27, a 100-switch world, 50 demands): 43 receivers were ready 1.2 s after
#: the first started, and 45 generators, started one after the other, sent their first
#: packets up to 7.9 s after that (each imports scapy and builds its frames): 0.03 and
#: 0.18 s a program.  These are twice that, so every program runs at the common start.
RECEIVER_LEAD_S, GENERATOR_LEAD_S = 0.05, 0.35


def lead_for(receivers: int, generators: int, at_least_s: float) -> float:
    """The time from the receivers' start to the common start, for this many programs.

    >>> lead_for(2, 2, 2.0), lead_for(43, 45, 2.0)
    (2.0, 17.9)
    """
    return round(max(at_least_s, receivers * RECEIVER_LEAD_S + generators * GENERATOR_LEAD_S), 3)


class PopenHost(Protocol):
    def popen(self, *args, **kwargs) -> subprocess.Popen: ...


def run_traffic(hosts: Mapping[str, PopenHost], flows: Iterable[FlowSpec], seconds: float, *,
                workdir: str | Path | None = None, python: str = sys.executable, lead_s: float = 2.0,
                ready_timeout_s: float = 10.0, drain_s: float = 0.5, grace_s: float = 5.0,
                progress: Callable[[str], None] = lambda _: None,
                on_start: Callable[[float], None] = lambda start_s: None) -> TrafficResult:
    """Send ``flows`` for ``seconds`` between ``hosts``; return what was sent and received.

    ``lead_s`` is the least time between starting the receivers and the common
    start (the generators import scapy and build frames meanwhile); many programs get
    more (:func:`lead_for`), and the receivers as long to be ready;
    ``drain_s`` the time frames in flight get after the last generator ends;
    ``on_start`` is told the common start (monotonic seconds) before any program
    starts, so a caller can play events on the same clock.
    Raises :class:`TrafficError` for invalid input only.
    """
    flows = tuple(flows)
    _check(hosts, flows, seconds)
    made_dir = workdir is None
    work = Path(tempfile.mkdtemp(prefix="openisp-traffic-") if made_dir else workdir)
    work.mkdir(parents=True, exist_ok=True)
    started: list[subprocess.Popen] = []
    try:
        return _run(hosts, flows, seconds, work, python, lead_s, ready_timeout_s, drain_s, grace_s,
                    progress, started, on_start)
    finally:  # on success everything has exited already; on any exception this ends it
        for proc in started:
            kill_group(proc, signal.SIGKILL)
        for proc in started:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        if made_dir:
            shutil.rmtree(work, ignore_errors=True)


def _check(hosts: Mapping, flows: tuple[FlowSpec, ...], seconds: float) -> None:
    if not flows:
        raise TrafficError("no flows to run")
    if not 0 < seconds <= MAX_DURATION_S:
        raise TrafficError(f"seconds {seconds} out of range (0, {MAX_DURATION_S:.0f}]")
    ids = [f.flow_id for f in flows]
    if len(set(ids)) != len(ids):
        raise TrafficError(f"flow ids repeat: {sorted({i for i in ids if ids.count(i) > 1})}")
    unknown = sorted({h for f in flows for h in (f.src_host, f.dst_host)} - set(hosts))
    if unknown:
        raise TrafficError(f"flows name hosts that are not given: {', '.join(unknown)}")
    late = [f.flow_id for f in flows if f.stop_s > seconds]
    if late:
        raise TrafficError(f"flows {late} stop after the run's {seconds} s")


def _by(flows, attr: str) -> dict[str, tuple[FlowSpec, ...]]:
    out: dict[str, list[FlowSpec]] = {}
    for f in flows:
        out.setdefault(getattr(f, attr), []).append(f)
    return {host: tuple(fs) for host, fs in out.items()}


def _run(hosts, flows, seconds, work, python, lead_s, ready_timeout_s, drain_s, grace_s, progress,
         started, on_start) -> TrafficResult:
    lead_s = lead_for(len({f.dst_host for f in flows}), len({f.src_host for f in flows}), lead_s)
    ready_timeout_s = max(ready_timeout_s, lead_s)
    start_ns = time.monotonic_ns() + int(lead_s * 1e9)
    end_ns = start_ns + int(seconds * 1e9)
    on_start(start_ns / 1e9)
    receivers: dict[str, subprocess.Popen] = {}
    reports_r: dict[str, dict | str] = {}
    reports_g: dict[str, dict | str] = {}
    for host, fs in _by(flows, "dst_host").items():
        ready = work / f"receiver-{host}.ready"
        ready.unlink(missing_ok=True)
        plan = HostPlan(host, start_ns, end_ns + int((lead_s + drain_s + grace_s + 5) * 1e9), seconds, fs, str(ready),
                        str(work / f"receiver-{host}.progress.json"))
        try:
            receivers[host] = _start(hosts[host], "receiver", plan, work, python, started)
        except Exception as exc:  # a host that cannot start a program spoils its own flows only
            reports_r[host] = f"could not start: {exc}"
    _wait_ready(receivers, work, ready_timeout_s, reports_r)
    total = len({f.dst_host for f in flows})
    progress(f"traffic: {total - len(reports_r)}/{total} receivers ready")

    generators: dict[str, subprocess.Popen] = {}
    for host, fs in _by(flows, "src_host").items():
        # a generator may start up to lead_s late and shift its schedule; it stops by this deadline
        plan = HostPlan(host, start_ns, end_ns + int(lead_s * 1e9), seconds, fs)
        try:
            generators[host] = _start(hosts[host], "generator", plan, work, python, started)
        except Exception as exc:
            reports_g[host] = f"could not start: {exc}"
    progress(f"traffic: {len(generators)} generators started, {seconds} s from the common start")
    for host, proc in generators.items():
        timeout = max(0.0, (end_ns - time.monotonic_ns()) / 1e9) + lead_s + grace_s
        reports_g[host] = _finish(proc, work, "generator", host, timeout)
    time.sleep(drain_s)  # frames still queued on the way

    running = {h: p for h, p in receivers.items() if h not in reports_r}
    for proc in running.values():
        kill_group(proc, signal.SIGTERM)
    for host, proc in running.items():
        reports_r[host] = _finish(proc, work, "receiver", host, grace_s)
    progress("traffic: receivers stopped")
    return collect(flows, reports_g, reports_r)


def _start(host: PopenHost, role: str, plan: HostPlan, work: Path, python: str,
           started: list) -> subprocess.Popen:
    path = work / f"{role}-{plan.host}.json"
    path.write_text(plan.to_json())
    with open(work / f"{role}-{plan.host}.out", "wb") as out, open(work / f"{role}-{plan.host}.err", "wb") as err:
        proc = host.popen([python, "-m", f"dataplane.traffic.{role}", str(path)], stdin=subprocess.DEVNULL,
                          stdout=out, stderr=err, cwd=str(_ROOT))
    started.append(proc)
    return proc


def _wait_ready(receivers: dict[str, subprocess.Popen], work: Path, timeout_s: float,
                reports: dict[str, dict | str]) -> None:
    """Wait until each receiver made its ready file; a receiver that exits or is too slow is
    reported as failed (and killed)."""
    deadline = time.monotonic() + timeout_s
    waiting = dict(receivers)
    while waiting:
        for host, proc in list(waiting.items()):
            if (work / f"receiver-{host}.ready").exists():
                del waiting[host]
            elif proc.poll() is not None:
                reports[host] = _report(work, "receiver", host, proc.returncode)
                del waiting[host]
        if waiting and time.monotonic() > deadline:
            for host, proc in waiting.items():
                kill_group(proc, signal.SIGKILL)
                proc.wait()
                reports[host] = f"not ready after {timeout_s:.0f} s"
            return
        time.sleep(0.02)


def _finish(proc: subprocess.Popen, work: Path, role: str, host: str, timeout_s: float) -> dict | str:
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        kill_group(proc, signal.SIGKILL)
        proc.wait()
        return f"did not exit within {timeout_s:.1f} s"
    return _report(work, role, host, proc.returncode)


def _report(work: Path, role: str, host: str, returncode: int) -> dict | str:
    """The program's JSON report, or why there is none (with the end of its stderr)."""
    out = (work / f"{role}-{host}.out").read_text(errors="replace").strip().splitlines()
    try:
        report = json.loads(out[-1])
        if not isinstance(report, dict):
            raise ValueError("not an object")
        return report
    except (IndexError, ValueError):
        err = (work / f"{role}-{host}.err").read_text(errors="replace").strip().splitlines()
        tail = err[-1] if err else "no output"
        return f"exit status {returncode}, no report ({tail[:200]})"
