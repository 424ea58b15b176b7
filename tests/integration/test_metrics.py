"""The metrics are what Prometheus expects: `promtool check metrics` finds nothing to say
about the controller's or the receivers' exposition, and a real Prometheus reads both."""
from __future__ import annotations

import json
import subprocess

import pytest

from topologies.loader import load_scenario

pytestmark = pytest.mark.integration


def promtool_lint(text: bytes) -> str:
    result = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True)
    return (result.stdout + result.stderr).decode().strip() if result.returncode else ""


def exercised_core():
    """The core through a switch's life, with counters from every kind of stats reply."""
    from controller.core import ControllerCore, FlowStat, MeterStat, PortStat, Settings
    from controller.planner import make_planner

    s = load_scenario("topologies/library/failover.yaml")
    core = ControllerCore(s, make_planner(s, "market", "vcg"), Settings(epoch_s=10, stats_s=1))
    for sw in s.switches:
        core.connected(sw.dpid, now=0)
        ops = core.flow_stats(sw.dpid, [], False, now=0)[sw.dpid]
        core.barrier_reply(sw.dpid, ops[-1].token, now=0.02)
    west = s.switch["west"].dpid
    plan = core.current.rules.for_switch(west)
    meter = next(m for (_, m), owner in plan.meter_owners.items() if owner[0] == "demand")
    flow = next(f for f in plan.flows if f.meter_id == meter)
    core.meter_stats(west, [MeterStat(meter, 100, 120000, 40)], now=1)
    core.flow_stats(west, [FlowStat(1, flow.priority, flow.match, flow.cookie, 100, 120000)], False, now=1)
    core.port_stats(west, [PortStat(s.graph.link_port("west", "up-w").number, 1, 2, 3, 4000)], now=1)
    core.port_status(s.switch["r1"].dpid, s.graph.link_port("r1", "fast").number, True, now=2)
    core.tick(now=10)
    return core


def test_the_controllers_metrics_pass_promtool():
    core = exercised_core()
    text = core.metrics.exposition()
    assert promtool_lint(text) == ""
    for name in ("openisp_demand_allocated_bytes_per_second", "openisp_demand_meter_dropped_packets_total",
                 "openisp_demand_forwarded_bytes_total", "openisp_link_transmit_bytes_total",
                 "openisp_link_capacity_bytes_per_second", "openisp_link_price", "openisp_participant_paid_total",
                 "openisp_market_epoch", "openisp_market_welfare", "openisp_market_budget_balance",
                 "openisp_market_clearing_seconds_bucket", "openisp_rule_install_seconds_bucket",
                 "openisp_switches_connected", "openisp_failovers_total", "openisp_replans_total"):
        assert f"\n{name}".encode() in text, name
    assert b'openisp_failovers_total{link="fast"} 1.0' in text
    assert b'openisp_replans_total{reason="link"} 1.0' in text and b'openisp_replans_total{reason="epoch"} 1.0' in text
    assert b'openisp_demand_meter_dropped_packets_total{demand="w1-e1"} 40.0' in text


def test_the_receivers_metrics_pass_promtool(tmp_path):
    from dataplane.exporter import ReceiverCollector
    from prometheus_client import CollectorRegistry, generate_latest

    (tmp_path / "receiver-e1.progress.json").write_text(json.dumps({"flows": [
        {"demand": "w1-e1", "packets": 10, "bytes": 12000, "distinct": 9, "lost": 1,
         "delay_ms": {"mean": 2.0, "p99": 4.0}, "jitter_ms": 0.5, "delay_hist_us": [[2000, 9]]}]}))
    registry = CollectorRegistry()
    registry.register(ReceiverCollector(tmp_path))
    text = generate_latest(registry)
    assert promtool_lint(text) == ""
    assert b'openisp_demand_received_bytes_total{demand="w1-e1"} 12000.0' in text
    assert b'openisp_demand_lost_packets_total{demand="w1-e1"} 1.0' in text


def test_a_real_prometheus_scrapes_the_controllers_metrics(tmp_path):
    """The controller's /metrics, served as the controller serves it, scraped by Debian's prometheus."""
    import time

    from controller.status import serve_status
    from dataplane.controllerproc import free_port
    from dataplane.prometheus import PrometheusServer

    core = exercised_core()
    server = serve_status(core.status, 0, metrics=core.metrics.exposition)
    prometheus = PrometheusServer(tmp_path / "prometheus", free_port(), run="t",
                                  targets={"controller": f"127.0.0.1:{server.server_address[1]}"})
    try:
        prometheus.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not prometheus.query("openisp_market_epoch"):
            time.sleep(0.5)
        (epoch,) = prometheus.query("openisp_market_epoch")
        assert epoch["metric"]["job"] == "controller" and float(epoch["value"][1]) == core.epoch
        allocated = prometheus.query("openisp_demand_allocated_bytes_per_second")
        assert {r["metric"]["demand"] for r in allocated} == {"w1-e1", "e2-w2", "w2-e2"}
    finally:
        prometheus.stop()
        server.shutdown()
    assert prometheus.proc.returncode is not None
