"""How long a world of 25, 50 and 100 switches takes to come up, phase by phase.

    sudo .venv/bin/python bench/emulation.py [--sizes 25,50,100] [--keep DIR]

For each size, a generated world (``openisp generate``: two backbones, last miles of
one or two switches, 50 demands; the 100-switch one is issue 18's: 200 hosts, 390
links) is brought up as ``openisp run`` brings it up, and each phase is timed:

- ``controller``: the controller process started (it gets ready while the network builds);
- ``build``: Mininet builds and starts the switches, hosts and shaped links; the switches
  connect and take their rules meanwhile;
- ``rules``: what is left of the wait until every switch holds its plan;
- ``reachability``: the sampled host pairs pinged (every host and every pair of switches
  with hosts, as a run checks a large world);
- ``teardown``: the controller stopped and everything swept away.

Prints one row per size and the total; the figures are printed, not recorded in
``bench/out`` (the Benchmarks dashboard does not plot them).  Needs root and running
Open vSwitch, and an otherwise idle machine: nothing else may use Mininet meanwhile.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: switches -> generate_world's parameters: (backbone switches, last miles, switches per last mile, hosts per last mile)
WORLDS = {25: (5, 15, 1, 2), 50: (5, 20, 2, 5), 100: (10, 40, 2, 5)}
PHASES = ("controller", "build", "rules", "reachability", "teardown")


def world_file(switches: int, directory: Path) -> Path:
    from topologies.generate import generate_world, to_yaml

    backbone_switches, last_miles, per_last_mile, hosts = WORLDS[switches]
    data = generate_world(backbones=2, backbone_switches=backbone_switches, last_miles=last_miles,
                          last_mile_switches=per_last_mile, hosts_per_last_mile=hosts, content=0, demands=50,
                          seed=7, name=f"bench{switches}")
    path = directory / f"bench{switches}.yaml"
    path.write_text(to_yaml(data))
    return path


def bring_up(path: Path, log_dir: Path) -> tuple[dict[str, float], dict]:
    """Each phase's seconds, and what came up (switches, hosts, links, rules, pairs)."""
    from dataplane.controllerproc import ControllerProcess
    from dataplane.network import new_network, start_network
    from dataplane.probes import check_reachability
    from dataplane.teardown import leftovers, sweep
    from topologies.loader import load_scenario

    scenario = load_scenario(str(path))
    sweep(scenario)
    seconds: dict[str, float] = {}
    facts = {"switches": len(scenario.switches), "hosts": len(scenario.hosts), "links": len(scenario.links)}
    controller = ControllerProcess(str(path), log_dir / f"{scenario.name}-controller.log", plan="market")
    t = time.monotonic()
    try:
        controller.start()
        seconds["controller"] = time.monotonic() - t
        t = time.monotonic()
        net = new_network(scenario, controller.ofp_port)
        start_network(net)
        seconds["build"] = time.monotonic() - t
        t = time.monotonic()
        status = controller.wait_ready(600)
        seconds["rules"] = time.monotonic() - t
        facts["rules"] = sum(v["rules"] for v in status["switches"].values())
        t = time.monotonic()
        reach = check_reachability(net, scenario)
        seconds["reachability"] = time.monotonic() - t
        facts["pairs"] = f"{reach.reached}/{reach.pairs}"
    finally:
        t = time.monotonic()
        controller.stop()
        sweep(scenario)
        seconds["teardown"] = time.monotonic() - t
        left = leftovers(scenario)
        if left:
            print(f"  left behind: {', '.join(left)}", file=sys.stderr)
    return seconds, facts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="25,50,100",
                        help=f"comma-separated switch counts, of {', '.join(map(str, WORLDS))}")
    parser.add_argument("--keep", metavar="DIR", help="write the worlds and controller logs here (default: a "
                                                       "temporary directory, removed after)")
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    unknown = [s for s in sizes if s not in WORLDS]
    if unknown:
        raise SystemExit(f"--sizes: no world of {unknown[0]} switches (one of: {', '.join(map(str, WORLDS))})")
    if os.geteuid() != 0:
        raise SystemExit("bench/emulation.py needs root (it builds Mininet networks)")
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(args.keep or scratch)
        directory.mkdir(parents=True, exist_ok=True)
        header = f"{'switches':>8} {'hosts':>5} {'links':>5} {'rules':>6} {'pairs':>9} " + \
                 " ".join(f"{p + ' s':>14}" for p in PHASES) + f" {'total s':>8}"
        print(header, flush=True)
        for size in sizes:
            seconds, facts = bring_up(world_file(size, directory), directory)
            print(f"{facts['switches']:>8} {facts['hosts']:>5} {facts['links']:>5} {facts.get('rules', '-'):>6} "
                  f"{facts.get('pairs', '-'):>9} " + " ".join(f"{seconds.get(p, float('nan')):>14.1f}" for p in PHASES)
                  + f" {sum(seconds.values()):>8.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
