"""Scenarios small enough to check by hand, built in code (no loader), for the
controller's pure modules; and a time limit for what must return."""
from __future__ import annotations

import ipaddress
import signal
from decimal import Decimal
from types import SimpleNamespace

from topologies.model import Demand, EmulationSettings, Host, Link, MarketSettings, Offer, Participant, Scenario, Switch


def scenario(switches: dict[str, str], links: list[tuple], roles: dict[str, str], hosts: dict[str, str] | None = None,
             unoffered: tuple[str, ...] = (), demands: list[tuple] = (), floor_kbps: int = 0,
             scale: float = 1.0) -> Scenario:
    """``switches``: name -> owner (dpids 1, 2, ... in order); ``links``: (id, a, b, latency ms),
    10 Mbps, owned by the owner of ``a``, offered unless in ``unoffered``; ``roles``: owner ->
    role; ``hosts``: name -> switch (addresses 198.18.0.1, ... and MACs 02:00:00:00:00:01, ...
    in order, each host its own customer); ``demands``: (id, src, dst, max kbps)."""
    hosts = hosts or {}
    participants = [Participant(o, r) for o, r in roles.items()]
    participants += [Participant(f"c-{h}", "customer") for h in hosts]
    sw = tuple(Switch(n, o, "", i + 1) for i, (n, o) in enumerate(switches.items()))
    hs = tuple(Host(h, f"c-{h}", s, ipaddress.ip_address("198.18.0.0") + i + 1, 24, "02:00:00:00:00:%02x" % (i + 1),
                    100_000) for i, (h, s) in enumerate(hosts.items()))
    ls = tuple(Link(i, a, b, 10_000, lat, switches[a]) for i, a, b, lat in links)
    offers = tuple(Offer(f"o-{l.id}", l.id, l.owner, l.capacity_kbps, Decimal("0.1")) for l in ls
                   if l.id not in unoffered)
    ds = tuple(Demand(d, f"c-{src}", src, dst, kbps, Decimal("1")) for d, src, dst, kbps in demands)
    return Scenario("tiny", tuple(participants), sw, hs, ls, offers, ds, MarketSettings("lmp", 30, floor_kbps),
                    EmulationSettings(scale))


def result(*demands: tuple) -> SimpleNamespace:
    """A market result as :func:`controller.pathing.plan_paths` reads it: demands given as
    (id, src, dst, allocated kbps, [(kbps, switches, links), ...])."""
    return SimpleNamespace(demands=[
        SimpleNamespace(demand_id=d, src=src, dst=dst, allocated_kbps=kbps,
                        paths=[SimpleNamespace(kbps=k, switches=tuple(sw), links=tuple(ln)) for k, sw, ln in paths])
        for d, src, dst, kbps, paths in demands])


def promptly(fn, *args, seconds: float = 5.0):
    """``fn(*args)``, or a failure if it has not returned within ``seconds``: a computation of
    the core that never ends (a share-out, a fixed point) would hang the controller."""
    def give_up(signum, frame):
        raise TimeoutError(f"{fn.__name__}{args} did not return within {seconds} s")

    old = signal.signal(signal.SIGALRM, give_up)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn(*args)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
