"""Interrupting `openisp run` at any phase leaves nothing behind.

Each trial starts a real run, waits for the line that opens a phase (building
the network, installing rules, pinging, traffic, teardown itself), lets a random
part of the phase pass, and sends SIGINT or SIGTERM.  Then no bridge, interface,
process or network namespace of the run may be left.
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from topologies.loader import load_scenario

pytestmark = pytest.mark.integration

SCENARIO = "topologies/default.yaml"
#: phase -> (the line that opens it, how long to wait into it at most, in seconds)
PHASES = {
    "building": ("network: building", 1.5),
    "installing": ("network: up", 0.5),
    "pinging": ("rules:", 1.5),
    "traffic": ("traffic:", 2.0),
    "teardown": ("teardown: stopping", 0.3),
}
TRIALS_PER_PHASE = 2


def namespaces() -> set[str]:
    out = set()
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                out.add(os.readlink(f"/proc/{pid}/ns/net"))
            except OSError:
                pass
    return out


def run_and_interrupt(marker: str, delay_s: float, signum: int) -> tuple[int, str]:
    proc = subprocess.Popen([sys.executable, "-m", "openisp.cli", "run", SCENARIO, "--seconds", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if line.startswith(marker):
                time.sleep(delay_s)
                proc.send_signal(signum)
                break
        rest, _ = proc.communicate(timeout=120)
        return proc.returncode, "".join(lines) + rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_an_interrupted_run_leaves_nothing_behind_whatever_the_phase():
    from dataplane.teardown import leftovers, sweep

    scenario = load_scenario(SCENARIO)
    sweep(scenario)
    seed = int(os.environ.get("INTERRUPT_SEED", time.time()))
    rng = random.Random(seed)
    before = namespaces()
    failures = []
    trials = 0
    for phase, (marker, longest) in PHASES.items():
        for _ in range(TRIALS_PER_PHASE):
            delay, signum = rng.uniform(0, longest), rng.choice([signal.SIGINT, signal.SIGTERM])
            code, output = run_and_interrupt(marker, delay, signum)
            trials += 1
            left = leftovers(scenario)
            controllers = [p for p in os.listdir("/proc") if p.isdigit() and _is_run_controller(p)]
            extra_ns = namespaces() - before
            clean = "teardown: clean" in output
            if left or controllers or extra_ns or not clean or "Traceback" in output or (code == 0 and phase != "teardown"):
                failures.append(f"{phase} +{delay:.2f}s {signal.Signals(signum).name}: exit {code}, left {left}, "
                                f"controllers {controllers}, namespaces {len(extra_ns)}\n{output[-1500:]}")
                sweep(scenario)
    assert trials >= 10
    assert not failures, f"seed {seed}:\n" + "\n\n".join(failures)


def _is_run_controller(pid: str) -> bool:
    try:
        cmd = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
    except OSError:
        return False
    return b"controller" in cmd and SCENARIO.encode() in cmd
