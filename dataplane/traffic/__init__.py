"""Traffic of a run: scapy-built UDP frames sent from raw sockets, TCP records, and receivers.

Generators and receivers are programs that run inside the emulated hosts
(``python -m dataplane.traffic.generator PLAN.json`` and
``python -m dataplane.traffic.receiver PLAN.json``); :func:`run_traffic` starts
them through each host's ``popen`` and returns per-flow and per-demand
measurements.  Nothing here imports Mininet or the controller, and scapy is
loaded only by generators that build UDP frames.

Modules: ``spec`` (flows and plan files), ``packet`` (frames and the header),
``schedule`` (send times per pattern), ``accounting`` (what receivers count),
``generator``, ``receiver``, ``procs`` (signals, orphans, killing),
``results`` and ``orchestrate``.

Example
-------
>>> from dataplane.traffic import FlowSpec, split_demand
>>> template = FlowSpec(flow_id=100, demand="ana-dev", src_host="h1", dst_host="h4",
...                     src_ip="198.18.1.1", dst_ip="198.18.2.1", src_mac="00:00:00:00:00:01",
...                     dst_mac="00:00:00:00:00:04", src_port=20000, dst_port=5001,
...                     rate_kbps=6000, stop_s=3.0, interface="h1-eth0")
>>> flows = split_demand(template, 16)
>>> len(flows), flows[-1].src_port, sum(f.rate_kbps for f in flows)
(16, 20015, 6000)
"""
from .orchestrate import run_traffic
from .results import DemandMeasurement, FlowMeasurement, ReceivedStats, SentStats, TrafficResult
from .spec import FlowSpec, HostPlan, TrafficError, split_demand

__all__ = ["run_traffic", "FlowSpec", "HostPlan", "TrafficError", "split_demand", "TrafficResult",
           "FlowMeasurement", "DemandMeasurement", "SentStats", "ReceivedStats"]
