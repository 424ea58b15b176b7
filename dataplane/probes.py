"""Reachability inside the emulated hosts: pings between host pairs, every source host at once.

A world of up to :data:`ALL_PAIRS_UP_TO` ordered host pairs is checked whole.  A larger
one is sampled (:func:`sample_pairs`): every ordered pair of switches that have hosts,
and every host as a source and as a destination, so a missing route between any two
switches or to any host shows; ``all_pairs=True`` checks every pair.  Each source host
pings its targets one after the other (a second try for a first loss) in one shell of
its own, all hosts in parallel.  The pairs that lost both pings are pinged again, in up
to :data:`RETRY_ROUNDS` more rounds: on a large world the first round's burst (every
host's first packet to each new address waits for the controller's ARP answer) loses
pings of reachable pairs (226 to 392 of 6,400 on bench/emulation.py's 100-switch world,
27 November 2026; all of them answered when tried again).

Traffic stays between emulated hosts and is bounded: at most six pings per pair checked.
Demand traffic is measured by the project's generators (:mod:`dataplane.measure`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from topologies.model import Scenario

#: Worlds with at most this many ordered host pairs are checked whole.
ALL_PAIRS_UP_TO = 600


@dataclass(frozen=True)
class Reachability:
    pairs: int
    reached: int
    failed: tuple[tuple[str, str], ...]
    #: ordered host pairs in the world (``pairs`` is less when a sample was checked)
    of: int = 0

    @property
    def percent(self) -> float:
        return 100.0 * self.reached / self.pairs if self.pairs else 100.0

    @property
    def sampled(self) -> bool:
        return self.pairs < self.of


def sample_pairs(scenario: Scenario, all_pairs: bool = False) -> list[tuple[str, str]]:
    """The ordered host pairs to ping: all of them in a small world or with ``all_pairs``;
    otherwise one pair for every ordered pair of switches with hosts (the hosts taking turns,
    so every host is a source and a destination), one within each switch with two hosts or
    more, and every host to and from another that the turns left out.

    >>> from topologies.loader import load_scenario
    >>> s = load_scenario("topologies/default.yaml")
    >>> len(sample_pairs(s)) == len(s.hosts) * (len(s.hosts) - 1)
    True
    """
    names = [h.name for h in scenario.hosts]
    everything = [(a, b) for a in names for b in names if a != b]
    if all_pairs or len(everything) <= ALL_PAIRS_UP_TO:
        return everything
    by_switch: dict[str, list[str]] = {}
    for h in scenario.hosts:
        by_switch.setdefault(h.switch, []).append(h.name)
    switches = list(by_switch)
    turn = {s: 0 for s in switches}

    def next_host(switch: str) -> str:
        hosts = by_switch[switch]
        turn[switch] += 1
        return hosts[(turn[switch] - 1) % len(hosts)]

    chosen: dict[tuple[str, str], None] = {}
    for a in switches:
        for b in switches:
            if a != b:
                chosen[(next_host(a), next_host(b))] = None
        if len(by_switch[a]) > 1:
            chosen[(by_switch[a][0], by_switch[a][1])] = None
    sources = {a for a, _ in chosen}
    targets = {b for _, b in chosen}
    for i, h in enumerate(names):
        other = names[(i + 1) % len(names)]
        if h not in sources:
            chosen[(h, other)] = None
        if h not in targets:
            chosen[(other, h)] = None
    return list(chosen)


#: Rounds of pings for the pairs that lost theirs: the first round's storm (every host at
#: once, each first packet to a new address waiting for the controller's ARP answer) can
#: lose pings on a large world; a pair is unreachable only if it fails every round.
RETRY_ROUNDS = 2


def _script(ips: list[str], wait_s: int = 1) -> str:
    ping = f"ping -c1 -W{wait_s} $ip >/dev/null 2>&1"
    return ("for ip in " + " ".join(ips) + f"; do if {ping} || {ping}; "
            "then echo ok $ip; else echo fail $ip; fi; done")


def _ping_round(net, scenario: Scenario, pairs: list[tuple[str, str]], wait_s: int,
                progress: Callable[[str], None]) -> list[tuple[str, str]]:
    """Ping ``pairs`` (each source host's targets one after the other, all sources at once);
    the pairs that failed."""
    targets: dict[str, list[str]] = {}
    for src, dst in pairs:
        targets.setdefault(src, []).append(dst)
    ip = {h.name: str(h.ip) for h in scenario.hosts}
    name_of = {v: k for k, v in ip.items()}
    procs = {}
    failed: list[tuple[str, str]] = []
    try:
        for src, dsts in targets.items():
            procs[src] = net.get(src).popen(["sh", "-c", _script([ip[d] for d in dsts], wait_s)], text=True)
        done, last = 0, time.monotonic()
        for src, proc in procs.items():
            out, _ = proc.communicate()
            answered = {}
            for line in out.splitlines():
                verdict, _, addr = line.partition(" ")
                answered[name_of.get(addr, addr)] = verdict == "ok"
            failed += [(src, dst) for dst in targets[src] if not answered.get(dst, False)]
            done += 1
            if time.monotonic() - last >= 2 or done == len(procs):
                last = time.monotonic()
                progress(f"  ping: {done}/{len(procs)} source hosts done")
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return failed


def check_reachability(net, scenario: Scenario, all_pairs: bool = False,
                       progress: Callable[[str], None] = lambda _: None) -> Reachability:
    """Ping :func:`sample_pairs` from every source host at once; the pairs that lost their
    pings are pinged again, up to :data:`RETRY_ROUNDS` more rounds (2 s to answer); which
    pairs failed every round."""
    pairs = sample_pairs(scenario, all_pairs)
    failed = _ping_round(net, scenario, pairs, 1, progress)
    for round_ in range(1, RETRY_ROUNDS + 1):
        if not failed:
            break
        progress(f"  ping: {len(failed)} pairs lost their pings; trying them again ({round_}/{RETRY_ROUNDS})")
        failed = _ping_round(net, scenario, failed, 2, progress)
    n = len(scenario.hosts)
    return Reachability(len(pairs), len(pairs) - len(failed), tuple(failed), of=n * (n - 1))


def all_pairs_ping(net, scenario: Scenario, progress: Callable[[str], None] = lambda _: None) -> Reachability:
    """Every ordered host pair (see :func:`check_reachability`)."""
    return check_reachability(net, scenario, all_pairs=True, progress=progress)
