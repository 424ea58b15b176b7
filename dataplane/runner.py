"""``openisp run``: one scenario end to end, and everything torn down after.

Steps: remove leftovers of an earlier killed run of the same scenario, start
the controller process, build the network, wait for every switch to hold its
rules, ping all pairs, run one measured flow per demand, print the table, and
tear down (on success, error, Ctrl-C or SIGTERM alike).
"""
from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Callable

from topologies.loader import load_scenario
from topologies.units import format_rate

from .controllerproc import ControllerProcess
from .network import DataplaneError, build_network, remove_leftovers
from .probes import FlowResult, all_pairs_ping, measure_demands


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def emulated(kbps: int, scale: float) -> int:
    return max(1, round(kbps * scale))


def offered_rate(scenario, demand, allocated: dict[str, int]) -> int:
    """What a run sends for a demand (emulated kbps): twice its allocation, so the
    meter shows; its max rate when the market gave it nothing, or when there is no market.

    What a host sends above its allocations shares the spare room of its access
    link: a host cannot push more through its own link than it carries, and the
    overload would be dropped at its own interface, before any meter, unevenly
    among its flows.
    """
    def wants(d) -> int:
        kbps = allocated.get(d.id, 0)
        return 2 * kbps if kbps > 0 else d.max_kbps

    mine = [d for d in scenario.demands if d.src == demand.src]
    base = sum(allocated.get(d.id, 0) for d in mine)
    extra = sum(wants(d) - allocated.get(d.id, 0) for d in mine)
    spare = max(0, scenario.host[demand.src].access_kbps - base)
    share = min(1.0, spare / extra) if extra else 1.0
    kbps = allocated.get(demand.id, 0)
    return emulated(kbps + round((wants(demand) - kbps) * share), scenario.emulation.scale)


def format_table(rows: list[FlowResult], paths: dict[str, list[list[str]]], scenario,
                 allocated: dict[str, int] | None = None) -> str:
    """The demand table: id, endpoints, paths, allocated, offered and received rate."""
    header = ("demand", "src -> dst", "path", "allocated", "offered", "received", "loss")
    lines = []
    for r in rows:
        d = scenario.demand[r.demand]
        received = "-" if r.received_kbps is None else format_rate(round(r.received_kbps))
        loss = r.error or ("-" if r.lost_percent is None else f"{r.lost_percent:.1f}%")
        route = "; ".join(" > ".join(p) for p in paths.get(r.demand, [])) or "?"
        scale = scenario.emulation.scale
        share = "-" if allocated is None else (format_rate(emulated(allocated[r.demand], scale))
                                               if allocated.get(r.demand) else "floor")
        lines.append((r.demand, f"{d.src} -> {d.dst}", route, share, format_rate(r.offered_kbps), received, loss))
    widths = [max(len(str(x)) for x in col) for col in zip(header, *lines)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*header), fmt.format(*("-" * w for w in widths)), *(fmt.format(*l) for l in lines)])


def run_scenario(path: str, out: Callable[[str], None] = print, flow_seconds: int = 3,
                 ready_timeout_s: float = 60.0, runs_dir: str = "runs", plan: str = "market") -> int:
    """Run ``path`` end to end; return 0 when every host pair reached each other."""
    scenario = load_scenario(path)
    run_dir = Path(runs_dir) / f"{scenario.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    started = time.monotonic()
    out(f"openisp run: {scenario.name}: {len(scenario.switches)} switches, {len(scenario.hosts)} hosts, "
        f"{len(scenario.links)} links, {len(scenario.demands)} demands (logs in {run_dir})")
    for leftover in remove_leftovers(scenario):
        out(f"  removed leftover {leftover} of an earlier run")
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    # A parent that ignored SIGINT (a background job, some CI runners) passes that
    # on; Ctrl-C must still stop the run and tear it down.
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    controller = ControllerProcess(path, run_dir / "controller.log", plan=plan)
    net = None
    try:
        controller.start()
        out(f"controller: pid {controller.proc.pid}, OpenFlow 127.0.0.1:{controller.ofp_port}, status {controller.status_url}")
        net = build_network(scenario, controller.ofp_port)
        out("network: up (Open vSwitch userspace datapath, links shaped with HTB)")
        status = controller.wait_ready(ready_timeout_s, lambda line: out(f"  {line}"))
        out(f"rules: every switch holds its {plan} plan "
            f"({sum(v['rules'] for v in status['switches'].values())} flows, groups and meters)")
        reach = all_pairs_ping(net, scenario)
        out(f"reachability: {reach.reached}/{reach.pairs} host pairs ({reach.percent:.0f}%)")
        for src, dst in reach.failed:
            out(f"  unreachable: {src} -> {dst}")
        if scenario.demands:
            allocated = status.get("allocated_kbps") or {}
            market = plan == "market"
            out(f"traffic: one {flow_seconds} s UDP flow per demand, all at once, at "
                + ("twice its allocation (its max rate if it won nothing), within its host's access link"
                   if market else "its max rate, within its host's access link"))
            scale = scenario.emulation.scale
            if scale != 1.0:
                out(f"  rates below are emulated: real rates x {scale:g} (emulation.scale)")
            rows = measure_demands(net, scenario, seconds=flow_seconds,
                                   rate_of=lambda d: offered_rate(scenario, d, allocated if market else {}))
            out(format_table(rows, status.get("paths", {}), scenario, allocated if market else None))
        return 0 if not reach.failed else 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not stop the teardown
        try:
            out("teardown: stopping the network and the controller")
            if net is not None:
                net.stop()
            controller.stop()
            left = remove_leftovers(scenario)
            out("teardown: clean" if not left else f"teardown: had to remove {', '.join(left)}")
            out(f"done in {time.monotonic() - started:.1f} s")
        finally:
            signal.signal(signal.SIGINT, previous_int)
            signal.signal(signal.SIGTERM, previous)
