"""Every Prometheus metric of the controller, declared in one place (Faucet's faucet_metrics is the model).

The core updates them as it decides (clearings, plans, installs, failures) and as
switches report their counters; ``GET /metrics`` beside ``/status`` serves them.
Names carry the ``openisp_`` prefix and base units (bits per second, bytes,
seconds); label sets are fixed: ``demand``, ``link`` and ``direction``,
``participant``, ``switch``, ``reason``.  Money (the market's currency, per epoch)
has no base unit: it is a plain number.

Counters of the switches restart when a meter or flow is replaced (each epoch
installs new meters); :class:`CounterTotals` turns those readings into totals that
only grow.

>>> m = Metrics()
>>> m.demand_allocated.labels(demand="d1").set(3e6)
>>> b"openisp_demand_allocated_bytes_per_second" in m.exposition()
True
"""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

__all__ = ["Metrics", "CounterTotals"]

#: Clearings take from milliseconds (a handful of demands) to seconds (a thousand, under VCG).
CLEARING_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
#: A switch acknowledges a plan in milliseconds to seconds (tens of thousands of flows).
INSTALL_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class Metrics:
    """The controller's metrics, in a registry of their own (pass one in to share it)."""

    def __init__(self, registry: CollectorRegistry | None = None):
        r = self.registry = registry or CollectorRegistry()
        # Demands.
        self.demand_allocated = Gauge("openisp_demand_allocated_bytes_per_second",
                                      "Rate the market allocated to the demand, in bytes per second (real rate, before emulation.scale).",
                                      ["demand"], registry=r)
        self.demand_forwarded_bytes = Counter("openisp_demand_forwarded_bytes",
                                              "Bytes of the demand classified at its ingress switch.",
                                              ["demand"], registry=r)
        self.demand_forwarded_packets = Counter("openisp_demand_forwarded_packets",
                                                "Packets of the demand classified at its ingress switch.",
                                                ["demand"], registry=r)
        self.demand_metered_packets = Counter("openisp_demand_metered_packets",
                                              "Packets of the demand that met its path meters.", ["demand"], registry=r)
        self.demand_dropped_packets = Counter("openisp_demand_meter_dropped_packets",
                                              "Packets of the demand its path meters dropped (above the allocation).",
                                              ["demand"], registry=r)
        self.demand_bid = Gauge("openisp_demand_bid_bytes_per_second",
                                "The demand's bid for the next clearing, from its measured use (closed loop).",
                                ["demand"], registry=r)
        self.demand_paths = Gauge("openisp_demand_paths", "Paths the demand's traffic is spread over.",
                                  ["demand"], registry=r)
        # Links.
        self.link_bytes = Counter("openisp_link_transmit_bytes",
                                  "Bytes sent over the link in one direction (from the sending switch's port).",
                                  ["link", "direction"], registry=r)
        self.link_capacity = Gauge("openisp_link_capacity_bytes_per_second",
                                   "The link's capacity per direction (real rate, before emulation.scale).",
                                   ["link"], registry=r)
        self.link_allocated = Gauge("openisp_link_allocated_bytes_per_second",
                                    "Rate the market allocated on the link, in its busier direction.", ["link"],
                                    registry=r)
        self.link_price = Gauge("openisp_link_price", "The link's price per Mbps per epoch, in its busier direction.",
                                ["link"], registry=r)
        self.link_up = Gauge("openisp_link_up", "1 while the link is in service, 0 while it is down.", ["link"],
                             registry=r)
        # Participants.
        self.participant_paid = Counter("openisp_participant_paid", "Money the participant paid, over all epochs.",
                                        ["participant"], registry=r)
        self.participant_received = Counter("openisp_participant_received",
                                            "Money the participant received, over all epochs.", ["participant"],
                                            registry=r)
        # The market.
        self.epoch = Gauge("openisp_market_epoch", "The epoch whose plan is in force.", registry=r)
        self.welfare = Gauge("openisp_market_welfare", "The welfare of the last clearing, per epoch.", registry=r)
        self.budget_balance = Gauge("openisp_market_budget_balance",
                                    "Payments collected minus paid out in the last clearing (negative: a deficit).",
                                    registry=r)
        self.clearing_seconds = Histogram("openisp_market_clearing_seconds", "Time one clearing of the market took.",
                                          buckets=CLEARING_BUCKETS, registry=r)
        self.clearing_wait = Histogram("openisp_market_clearing_wait_seconds",
                                       "Time from asking for a clearing to its plan (rules built) being ready.",
                                       buckets=CLEARING_BUCKETS, registry=r)
        # The controller.
        self.install_seconds = Histogram("openisp_rule_install_seconds",
                                         "Time from sending a plan to a switch to its barrier reply.", ["switch"],
                                         buckets=INSTALL_BUCKETS, registry=r)
        self.switches_connected = Gauge("openisp_switches_connected", "Switches connected to the controller.",
                                        registry=r)
        self.switch_holding = Gauge("openisp_switch_holding_plan", "1 when the switch holds the plan in force.",
                                    ["switch"], registry=r)
        self.failovers = Counter("openisp_failovers", "Links that went down and were planned around.", ["link"],
                                 registry=r)
        self.replans = Counter("openisp_replans", "Plans made, by what caused them.", ["reason"], registry=r)

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes."""
        return generate_latest(self.registry)


class CounterTotals:
    """Totals that only grow, from switch counters that restart when their entry is replaced.

    Each reading is keyed by the entry it came from (a meter id, a flow match);
    a reading below the last one of the same key means the entry was replaced,
    so all of it is new.

    >>> t = CounterTotals()
    >>> t.add(("m", 1), 100), t.add(("m", 1), 150), t.add(("m", 1), 20)
    (100, 50, 20)
    """

    def __init__(self):
        self._last: dict = {}

    def add(self, key, value: int) -> int:
        """The increase since the last reading of ``key``."""
        last = self._last.get(key, 0)
        self._last[key] = value
        return value - last if value >= last else value
