"""Reachability inside the emulated hosts: one ping per ordered host pair.

Traffic stays between emulated hosts and is bounded.  Demand traffic is
measured by the project's generators (:mod:`dataplane.measure`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from topologies.model import Scenario


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
