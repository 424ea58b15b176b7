"""Measurements inside the emulated hosts: all-pairs reachability and demand rates.

Traffic stays between emulated hosts and is bounded: one ping per ordered
pair, and one UDP flow per demand of a few seconds at the demand's max rate.
"""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Callable

from topologies.model import Demand, Scenario

IPERF_BASE_PORT = 5201


@dataclass(frozen=True)
class Reachability:
    pairs: int
    reached: int
    failed: tuple[tuple[str, str], ...]

    @property
    def percent(self) -> float:
        return 100.0 * self.reached / self.pairs if self.pairs else 100.0


def all_pairs_ping(net, scenario: Scenario, progress: Callable[[str], None] = lambda _: None) -> Reachability:
    """One ping per ordered host pair (a second try for a first loss)."""
    failed = []
    hosts = scenario.hosts
    for i, src in enumerate(hosts):
        node = net.get(src.name)
        for dst in hosts:
            if dst is src:
                continue
            out = node.cmd(f"ping -c1 -W1 {dst.ip}")
            if " 0% packet loss" not in out:
                out = node.cmd(f"ping -c1 -W1 {dst.ip}")
                if " 0% packet loss" not in out:
                    failed.append((src.name, dst.name))
        progress(f"ping: {i + 1}/{len(hosts)} hosts done")
    pairs = len(hosts) * (len(hosts) - 1)
    return Reachability(pairs, pairs - len(failed), tuple(failed))


@dataclass(frozen=True)
class FlowResult:
    demand: str
    offered_kbps: int
    received_kbps: float | None
    lost_percent: float | None
    error: str = ""


def _received(server_json: str) -> tuple[float, float]:
    """Received kbps and loss from iperf3's server-side JSON report of a UDP test."""
    data = json.loads(server_json)
    # iperf3 >= 3.12 keeps what the server received under sum_received.
    total = data["end"].get("sum_received") or data["end"]["sum"]
    return total["bits_per_second"] / 1000.0, float(total.get("lost_percent", 0.0))


def measure_demands(net, scenario: Scenario, demands: tuple[Demand, ...] | None = None, seconds: int = 3,
                    rate_of: Callable[[Demand], int] = lambda d: d.max_kbps) -> list[FlowResult]:
    """Run one UDP flow per demand, all at once, for ``seconds``; return what arrived.

    UDP at a fixed offered rate (``rate_of``, default the demand's max rate)
    measures what the network delivers to each demand; TCP would measure how
    flows share a bottleneck instead.
    """
    demands = scenario.demands if demands is None else demands
    servers, clients = [], []
    try:
        return _run_flows(net, scenario, demands, seconds, rate_of, servers, clients)
    finally:  # interrupted or not, no iperf3 outlives the measurement
        for p in (*clients, *servers):
            if p.poll() is None:
                p.kill()
                p.wait()


def _run_flows(net, scenario, demands, seconds, rate_of, servers, clients) -> list[FlowResult]:
    for i, d in enumerate(demands):
        port = IPERF_BASE_PORT + i
        servers.append(net.get(d.dst).popen(["iperf3", "-s", "-1", "-J", "-p", str(port)]))
    time.sleep(0.5)  # let the servers bind
    for i, d in enumerate(demands):
        dst_ip = str(scenario.host[d.dst].ip)
        clients.append(net.get(d.src).popen(
            ["iperf3", "-c", dst_ip, "-p", str(IPERF_BASE_PORT + i), "-u", "-b", f"{rate_of(d)}K",
             "-l", "1200", "-t", str(seconds), "-J", "--connect-timeout", "2000"]))
    results = []
    for d, server, client in zip(demands, servers, clients):
        try:
            client.communicate(timeout=seconds + 15)
            out, _ = server.communicate(timeout=10)
            received, lost = _received(out.decode() if isinstance(out, bytes) else out)
            results.append(FlowResult(d.id, rate_of(d), received, lost))
        except Exception as exc:  # a failed flow is a row in the table, not a crash
            reason = re.sub(r"\s+", " ", str(exc))[:80]
            results.append(FlowResult(d.id, rate_of(d), None, None, reason or type(exc).__name__))
    return results
