"""How fast the controller installs a plan, as a ratio to ovs-ofctl add-flows.

    sudo .venv/bin/python bench/rules.py [--sizes 1000,10000,50000]

For each size N: a plan of N flows (one IPv4 destination each) on one OVS
bridge of the userspace datapath.  The controller (the project's os-ken app,
in its own process) sends deletes, a barrier, the N flows and a barrier when
the switch connects; the time from the switch's features reply (the plan is
ready to send) to the final barrier reply is compared with
``ovs-ofctl add-flows`` of the same N flows on the same bridge, in the same run, and
with ``ovs-ofctl --bundle add-flows`` (one commit, as the controller sends them).
Each installer's flows are counted on the bridge afterwards: a count short of N
stops the benchmark.  Exits 1 when the controller takes longer than ``ovs-ofctl
add-flows`` for 10,000 flows or more (issue 18's goal, :data:`GOAL`).
Needs root and running Open vSwitch; uses the bridge ``oibench0`` and deletes it.
"""
from __future__ import annotations

import argparse
import ipaddress
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import record, results_path  # noqa: E402

BRIDGE = "oibench0"
#: the most the controller may take, as a ratio to ``ovs-ofctl add-flows``, from 10,000 flows on
GOAL, GOAL_FROM = 1.0, 10_000


def addresses(n: int) -> list[str]:
    base = ipaddress.ip_address("198.18.0.1")
    return [str(base + i) for i in range(n)]


def serve(n: int, ofp_port: int, status_port: int) -> None:
    """The controller side: the project's app and core with a synthetic plan of ``n`` flows."""
    from controller.core import ControllerCore, Settings
    from controller.launch import serve_core
    from controller.planner import EpochPlan
    from controller.ruleplan import ETH_TYPE_IP, FlowEntry, Output, RulePlan, match
    from controller.status import serve_status
    from topologies.model import Participant, Scenario, Switch

    scenario = Scenario("bench", (Participant("p", "backbone"),), (Switch(BRIDGE, "p", "", 1),), (), ())
    plan = RulePlan(flows=tuple(FlowEntry(1, 100, match(eth_type=ETH_TYPE_IP, ipv4_dst=a), (Output(1),))
                                for a in addresses(n)))
    core = ControllerCore(scenario, lambda epoch, down: EpochPlan(plan), Settings(epoch_s=0, stats_s=0))
    serve_status(core.status, status_port)
    serve_core(core, ofp_port)


def vsctl(*args: str) -> None:
    subprocess.run(["ovs-vsctl", "--timeout=20", *args], check=True, capture_output=True)


def controller_install(n: int) -> float:
    from dataplane.controllerproc import free_port

    ofp, http = free_port(), free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(n), str(ofp), str(http)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        time.sleep(1.5)  # let the controller listen
        vsctl("--if-exists", "del-br", BRIDGE, "--", "add-br", BRIDGE, "--", "set", "bridge", BRIDGE,
              "datapath_type=netdev", "fail_mode=secure", "protocols=OpenFlow13",
              "other_config:datapath-id=0000000000000001", "--", "set-controller", BRIDGE, f"tcp:127.0.0.1:{ofp}")
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{http}/status", timeout=2) as r:
                    sw = json.load(r)["switches"].get("1", {})
                if sw.get("acknowledged"):
                    held = flow_count()
                    if held != n:
                        raise SystemExit(f"the controller acknowledged {n} flows but the bridge holds {held}")
                    return sw["at"] - sw["connected_at"]
            except OSError:
                pass
            time.sleep(0.05)
        raise SystemExit(f"the controller did not install {n} flows within 600 s")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        vsctl("--if-exists", "del-br", BRIDGE)


def flow_count() -> int:
    out = subprocess.run(["ovs-ofctl", "-O", "OpenFlow13", "dump-aggregate", BRIDGE], check=True, capture_output=True,
                         text=True).stdout
    return int(out.split("flow_count=")[1].split()[0])


def ofctl_install(n: int, bundle: bool = False) -> float:
    """``ovs-ofctl add-flows`` of the same flows, one by one or (``bundle``) as one bundle."""
    vsctl("--if-exists", "del-br", BRIDGE, "--", "add-br", BRIDGE, "--", "set", "bridge", BRIDGE,
          "datapath_type=netdev", "fail_mode=secure", "protocols=OpenFlow13")
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".flows", delete=False) as f:
            f.writelines(f"priority=100,ip,nw_dst={a},actions=output:1\n" for a in addresses(n))
        started = time.perf_counter()
        subprocess.run(["ovs-ofctl", "-O", "OpenFlow13", *(["--bundle"] if bundle else []), "add-flows", BRIDGE,
                        f.name], check=True)
        held = flow_count()
        took = time.perf_counter() - started
        if held != n:
            raise SystemExit(f"ovs-ofctl added {n} flows but the bridge holds {held}")
        return took
    finally:
        os.unlink(f.name)
        vsctl("--if-exists", "del-br", BRIDGE)


def main() -> int:
    if len(sys.argv) == 5 and sys.argv[1] == "--serve":
        serve(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,50000")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("bench/rules.py needs root (it creates an OVS bridge)")
    print(f"{'flows':>7} {'controller s':>12} {'ovs-ofctl s':>11} {'ratio':>6} {'ovs-ofctl --bundle s':>20} "
          f"{'ratio':>6}")
    missed = []
    for n in (int(x) for x in args.sizes.split(",")):
        ours = controller_install(n)
        theirs = ofctl_install(n)
        bundled = ofctl_install(n, bundle=True)
        print(f"{n:>7} {ours:>12.2f} {theirs:>11.2f} {ours / theirs:>6.2f} {bundled:>20.2f} {ours / bundled:>6.2f}",
              flush=True)
        record("rules", "install", ours, "seconds", {"flows": n, "installer": "controller"})
        record("rules", "install", theirs, "seconds", {"flows": n, "installer": "ovs-ofctl"})
        record("rules", "install", bundled, "seconds", {"flows": n, "installer": "ovs-ofctl --bundle"})
        record("rules", "install", ours / theirs, "ratio", {"flows": n})
        if n >= GOAL_FROM and ours / theirs > GOAL:
            missed.append(f"{n} flows took {ours / theirs:.2f} times ovs-ofctl add-flows (goal: {GOAL:g})")
    print(f"results: {results_path()}")
    if missed:
        print("goal missed: " + "; ".join(missed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
