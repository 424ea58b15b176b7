"""The controller SIGKILLed at random points of its epochs, 20 times, while it settles an
epoch every 0.4 s in its ledger and the generators send: after each kill the ledger
verifies, every epoch is settled once and whole, nothing of the controller is left
running, the next controller resumes at the epoch after the last one settled, and the
traffic the switches carry without a controller keeps flowing."""
from __future__ import annotations

import os
import random
import signal
import threading
import time

import pytest

from topologies.loader import load_scenario

from .conftest import running

pytestmark = pytest.mark.integration
SCENARIO = "topologies/library/failover.yaml"
KILLS = 20
EPOCH_S = 0.4


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("exchange")


@pytest.fixture(scope="module")
def exchange_run(run_dir, tmp_path_factory):
    yield from running(SCENARIO, "market", tmp_path_factory.mktemp("kills"),
                       ("--epoch", str(EPOCH_S), "--stats", "1", "--run-dir", str(run_dir)))


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def test_killed_mid_settlement_twenty_times_the_ledger_stays_whole_and_traffic_flows(exchange_run, run_dir, tmp_path):
    from controller.ledger import Ledger, verify
    from dataplane.controllerproc import ControllerProcess
    from dataplane.measure import LEAD_S, measure_with_generators

    net, controller, status = exchange_run
    s = load_scenario(SCENARIO)
    allocated = status["allocated_kbps"]
    ledger = run_dir / "ledger.sqlite"
    rng = random.Random(20261127)
    seconds = KILLS * 7.0  # the whole series: a switch reconnects with a back-off of up to 8 s
    results: list[dict] = []
    flow = threading.Thread(target=lambda: results.append(measure_with_generators(net, s, dict(allocated), seconds)))
    flow.start()
    time.sleep(LEAD_S + 1)
    resumed, settled_before = [], []
    current = controller
    try:
        for kill in range(KILLS):
            time.sleep(rng.uniform(0.5, 0.5 + 2 * EPOCH_S))  # a few epochs settled, then anywhere in one
            pid = current.proc.pid
            os.kill(pid, signal.SIGKILL)  # the main process only, as a crash would
            current.proc.wait(timeout=10)
            deadline = time.monotonic() + 10  # the clearing worker notices its parent is gone
            while group_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert not group_alive(pid), f"kill {kill}: the dead controller's worker is still running"
            check = verify(ledger)
            assert check.ok, (kill, check.problems)
            assert check.epochs == sorted(set(check.epochs)), (kill, check.epochs)
            with Ledger(ledger, readonly=True) as book:
                last = book.last_settled_epoch()
            settled_before.append(last)
            current = ControllerProcess(SCENARIO, tmp_path / f"successor-{kill}.log", ofp_port=controller.ofp_port,
                                        status_port=controller.status_port,
                                        extra_args=("--epoch", str(EPOCH_S), "--stats", "1",
                                                    "--run-dir", str(run_dir))).start()
            resumed.append(current.wait_ready(30)["history"][0]["epoch"])
        flow.join(timeout=seconds + 60)
    finally:
        controller.proc = current.proc  # the fixture stops whatever runs now
    assert resumed == [last + 1 for last in settled_before], (resumed, settled_before)
    # each controller settles at least the epoch it starts with, and the next one starts after it
    assert all(a < b for a, b in zip(settled_before, settled_before[1:])) and settled_before[-1] >= KILLS
    check = verify(ledger)
    assert check.ok and check.epochs == list(range(1, check.epochs[-1] + 1)), check  # none skipped, none twice
    (measured,) = results
    assert set(measured) == set(allocated)
    for demand, r in measured.items():
        assert r.received_kbps is not None and r.loss_percent < 2, (demand, r)
    print(f"{KILLS} kills; epochs settled {check.epochs[0]}..{check.epochs[-1]}; loss per demand "
          + ", ".join(f"{d} {r.loss_percent:.2f}%" for d, r in sorted(measured.items())))
