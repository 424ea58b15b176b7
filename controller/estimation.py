"""The closed loop: each epoch, a demand's bid follows what it was measured to use.

With ``market.demand_estimation: measured``, the market does not take a demand's
declared max rate at its word every epoch; like Google's BwE, it estimates what
the demand wants from what its traffic did in the last epoch, counted at its
ingress switch (every packet of the demand meets its classification flows
before its meters):

- a demand its meters held back (they dropped some of its packets) bids up to
  its declared max rate: it wants more than it got;
- a demand that sent well below its allocation (under :data:`WELL_BELOW` of it)
  bids for what it sent plus :data:`HEADROOM`, never below its floor;
- otherwise, and for a demand never seen really sending (at :data:`ACTIVE` of its
  allocation or more in some epoch: a run's pings before its traffic starts do not
  count), it bids its declared max rate.

The capacity a quiet demand leaves is cleared to the others at the next epoch.

>>> from topologies.loader import load_scenario
>>> s = load_scenario("topologies/default.yaml")
>>> bids = estimate_bids(s, {"ana-dev": 3000, "ben-gus": 4000}, {"ana-dev": 750_000, "ben-gus": 1_500_000},
...                      {"ben-gus": 12}, seconds=10)
>>> bids["ana-dev"], bids["ben-gus"]  # 600 kbps of 3 Mbps used: 750 kbps bid; held back by its meter: its max
(750, 4000)
"""
from __future__ import annotations

from dataclasses import replace

from topologies.model import Scenario

__all__ = ["estimate_bids", "active_demands", "with_bids", "WELL_BELOW", "HEADROOM", "ACTIVE"]

WELL_BELOW = 0.8
HEADROOM = 0.25
ACTIVE = 0.1


def active_demands(market: Scenario, allocated_kbps: dict[str, int], sent_bytes: dict[str, int],
                   seconds: float) -> set[str]:
    """Demands that sent at least :data:`ACTIVE` of their allocation over ``seconds``."""
    scale = market.emulation.scale
    return {d.id for d in market.demands if seconds > 0 and sent_bytes.get(d.id, 0) * 8 / 1000 / seconds / scale
            >= ACTIVE * max(allocated_kbps.get(d.id, 0), 1)}


def estimate_bids(market: Scenario, allocated_kbps: dict[str, int], sent_bytes: dict[str, int],
                  dropped_packets: dict[str, int], seconds: float, ever_sent: set[str] | None = None) -> dict[str, int]:
    """Each demand's bid (real kbps) for the next clearing, from one epoch of counters.

    ``sent_bytes`` and ``dropped_packets`` are what the switches counted per demand over
    the last ``seconds`` (emulated rates: divided by ``emulation.scale`` here);
    ``ever_sent`` the demands seen really sending at some epoch (default: those that are
    now, by :func:`active_demands`).
    """
    scale = market.emulation.scale
    if ever_sent is None:
        ever_sent = active_demands(market, allocated_kbps, sent_bytes, seconds)
    bids = {}
    for d in market.demands:
        if d.id not in sent_bytes or d.id not in ever_sent or seconds <= 0:
            bids[d.id] = d.max_kbps  # nothing measured yet
            continue
        sent_kbps = sent_bytes[d.id] * 8 / 1000 / seconds / scale
        if dropped_packets.get(d.id, 0) > 0:
            bids[d.id] = d.max_kbps
        elif sent_kbps < WELL_BELOW * allocated_kbps.get(d.id, 0):
            bids[d.id] = min(d.max_kbps, max(d.floor_kbps, 1, round(sent_kbps * (1 + HEADROOM))))
        else:
            bids[d.id] = d.max_kbps
    return bids


def with_bids(market: Scenario, bids: dict[str, int]) -> Scenario:
    """The market with each demand's max rate replaced by its bid (demands without one unchanged)."""
    return replace(market, demands=tuple(replace(d, max_kbps=bids[d.id]) if d.id in bids and bids[d.id] != d.max_kbps
                                         else d for d in market.demands))
