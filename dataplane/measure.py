"""A scenario's demands as measured traffic: flows from the project's generators, judged per demand.

Each demand is sent as several UDP flows on consecutive source ports (the
controller spreads a demand over its paths by the low bits of the source
port), from a generator in its source host to a receiver in its destination
host (:mod:`dataplane.traffic`), on the demand's destination port
(:attr:`topologies.model.Scenario.demand_port`: how the switches tell apart
demands that share a host pair).  A demand the market split over several paths
gets as many flows as the controller has source-port slices, so the split is
exact; others get :data:`FLOWS_PER_DEMAND`.

>>> from topologies.loader import load_scenario
>>> s = load_scenario("topologies/default.yaml")
>>> flows = demand_flows(s, {"ana-dev": 6000}, seconds=3, flows_for=lambda d: 4)
>>> [(f.src_port, f.rate_kbps) for f in flows]
[(40000, 1500), (40001, 1500), (40002, 1500), (40003, 1500)]
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from topologies.model import Scenario

from .traffic import FlowSpec, run_traffic, split_demand
from .verdict import Measured

FLOWS_PER_DEMAND = 16
#: Seconds from starting the receivers to the common start of every generator.
LEAD_S = 2.0
FIRST_SOURCE_PORT = 40000


def demand_flows(scenario: Scenario, offered: dict[str, int], seconds: float,
                 flows_for: Callable[[str], int] = lambda demand: FLOWS_PER_DEMAND,
                 frame_bytes: int = 1200, windows: dict[str, tuple[float, float]] | None = None,
                 demands=None) -> list[FlowSpec]:
    """The flows of every demand in ``offered`` (emulated kbps), for ``seconds``, or within the
    demand's ``windows`` (start, stop) when given; ``demands`` defaults to the scenario's.
    Pattern, protocol and frame size come from the scenario's ``traffic:`` section."""
    flows, next_id = [], 1
    for d in (scenario.demands if demands is None else demands):
        if d.id not in offered:
            continue
        start, stop = (windows or {}).get(d.id, (0.0, seconds))
        spec = scenario.traffic_of(d.id)
        src, dst = scenario.host[d.src], scenario.host[d.dst]
        template = FlowSpec(flow_id=next_id, demand=d.id, src_host=src.name, dst_host=dst.name, src_ip=str(src.ip),
                            dst_ip=str(dst.ip), src_mac=src.mac, dst_mac=dst.mac, src_port=FIRST_SOURCE_PORT,
                            dst_port=scenario.port_of(d.id), rate_kbps=offered[d.id], start_s=start, stop_s=stop,
                            interface=f"{src.name}-eth0", protocol=spec.protocol,
                            frame_bytes=spec.packet_bytes if spec.packet_bytes != 1200 else frame_bytes,
                            pattern=spec.pattern, on_s=spec.on_s if spec.pattern == "onoff" else 0.0,
                            off_s=spec.off_s if spec.pattern == "onoff" else 0.0)
        mine = split_demand(template, flows_for(d.id))
        flows += mine
        next_id += len(mine)
    return flows


def measure_with_generators(net, scenario: Scenario, offered: dict[str, int], seconds: float,
                            flows_for: Callable[[str], int] = lambda demand: FLOWS_PER_DEMAND,
                            workdir: str | Path | None = None, windows: dict | None = None, demands=None,
                            on_start: Callable[[float], None] = lambda start: None) -> dict[str, Measured]:
    """Send every demand's flows at once for ``seconds`` (they start at least :data:`LEAD_S` after the
    call; ``on_start`` is told when, on the monotonic clock); what each demand received."""
    flows = demand_flows(scenario, offered, seconds, flows_for, windows=windows, demands=demands)
    hosts = {h: net.get(h) for h in {f.src_host for f in flows} | {f.dst_host for f in flows}}
    result = run_traffic(hosts, flows, seconds, workdir=workdir, lead_s=LEAD_S, on_start=on_start)
    counted: dict[str, list[int]] = {}
    began: dict[str, float] = {}
    ended: dict[str, float] = {}
    for f in result.flows:
        if f.sent is not None and f.lost_packets is not None:
            totals = counted.setdefault(f.flow.demand, [0, 0])
            totals[0] += f.sent.packets
            totals[1] += f.lost_packets
        if f.sent is not None and f.sent.first_s is not None:
            began[f.flow.demand] = min(began.get(f.flow.demand, f.sent.first_s), f.sent.first_s)
        if f.sent is not None and f.sent.last_s is not None:
            ended[f.flow.demand] = max(ended.get(f.flow.demand, f.sent.last_s), f.sent.last_s)
    return {m.demand: Measured(offered_kbps=m.offered_kbps, received_kbps=m.received_kbps,
                               loss_percent=m.loss_percent, flows=m.flows, delay_ms=m.delay_mean_ms,
                               delay_p99_ms=m.delay_p99_ms, jitter_ms=m.jitter_ms,
                               received_kbps_per_s=tuple(round(x, 1) for x in m.received_kbps_per_s),
                               packets_sent=counted.get(m.demand, [None, None])[0],
                               packets_lost=counted.get(m.demand, [None, None])[1],
                               sending_from_s=began.get(m.demand), sending_until_s=ended.get(m.demand),
                               error=m.error)
            for m in result.demands}
