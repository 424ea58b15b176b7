"""``openisp run``: one scenario end to end, judged, and everything torn down after.

Phases: sweep up leftovers of an earlier killed run of the same scenario,
start the controller process, build the network, wait for every switch to
hold its rules, check reachability, send measured traffic for every demand,
judge the result (:mod:`dataplane.verdict`), and tear down.  Interrupting a
run (Ctrl-C or SIGTERM) at any phase, teardown included, still tears
everything down (:mod:`dataplane.teardown`): the first signal stops the phase
it lands in, later ones are ignored until the teardown has finished.
"""
from __future__ import annotations

import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from topologies.loader import load_scenario
from topologies.units import format_rate, text_table

from .controllerproc import ControllerProcess
from .prometheus import SCRAPE_S
from .teardown import leftovers, sweep
from .verdict import DemandOutcome


def format_table(outcomes: list[DemandOutcome]) -> str:
    """The demand table: id, endpoints, paths, allocated, offered and received rate, loss, verdict."""
    header = ("demand", "src -> dst", "path", "allocated", "offered", "received", "loss", "delay ms",
              "p99 ms", "jitter ms", "verdict")
    lines = []
    for o in outcomes:
        m = o.measured
        received = "-" if m.received_kbps is None else format_rate(round(m.received_kbps))
        loss = "-" if m.loss_percent is None else f"{m.loss_percent:.1f}%"
        route = "; ".join(" > ".join(p) for p in o.paths) or "?"
        share = "-" if o.allocated_kbps is None else (format_rate(o.allocated_kbps) if o.allocated_kbps else "none")
        verdict = "ok" if not o.problems else "BROKEN"
        ms = [("-" if x is None else f"{x:.2f}") for x in (m.delay_ms, m.delay_p99_ms, m.jitter_ms)]
        lines.append((o.demand, f"{o.src} -> {o.dst}", route, share, format_rate(m.offered_kbps), received,
                      m.error[:40] if m.error else loss, *ms, verdict))
    return text_table(header, lines)


@dataclass
class Interruption:
    """SIGINT and SIGTERM raise KeyboardInterrupt once; later signals, and any
    during teardown, are noted and ignored so the teardown always finishes."""

    tearing_down: bool = False
    signals: list[int] = field(default_factory=list)

    def handler(self, signum, frame):
        self.signals.append(signum)
        if self.tearing_down or len(self.signals) > 1:
            return
        raise KeyboardInterrupt(f"signal {signum}")

    def __enter__(self):
        self.previous = {s: signal.signal(s, self.handler) for s in (signal.SIGINT, signal.SIGTERM)}
        return self

    def __exit__(self, *exc):
        for s, h in self.previous.items():
            signal.signal(s, h)
        return False


#: How often the controller polls the switches' counters during a run.
STATS_S = 1


class Observers:
    """A run's Prometheus server and the exporter of its receivers' measurements."""

    def __init__(self):
        self.prometheus = None
        self.exporter = None

    def start(self, run_dir: Path, name: str, controller_port: int) -> dict:
        from .controllerproc import free_port
        from .exporter import serve_exporter
        from .prometheus import PrometheusServer

        self.exporter = serve_exporter(run_dir / "traffic")
        self.prometheus = PrometheusServer(run_dir / "prometheus", free_port(), run=name, targets={
            "controller": f"127.0.0.1:{controller_port}",
            "receivers": f"127.0.0.1:{self.exporter.server_address[1]}"}).start()
        return {"url": self.prometheus.url, "data": str(self.prometheus.data_dir)}

    def stop(self) -> None:
        if self.prometheus is not None:
            self.prometheus.stop()
        if self.exporter is not None:
            self.exporter.shutdown()
            self.exporter.server_close()
            self.exporter = None

    def left(self) -> list[str]:
        proc = self.prometheus.proc if self.prometheus is not None else None
        return [f"prometheus {proc.pid}"] if proc is not None and proc.poll() is None else []


@dataclass
class RunResult:
    exit_code: int
    report: dict


def run_scenario(path: str, out: Callable[[str], None] = print, flow_seconds: int = 3,
                 ready_timeout_s: float = 60.0, runs_dir: str = "runs", plan: str = "market",
                 flows: int | None = None, measure: Callable | None = None, prometheus: bool = True,
                 all_pairs: bool = False, console: bool = False) -> RunResult:
    """Run ``path`` end to end; exit code 0 only when every promise held.

    ``flows`` per demand (default: :data:`~dataplane.measure.FLOWS_PER_DEMAND`, and
    as many as the controller has source-port slices for a demand split over
    several paths).  ``measure`` replaces
    :func:`~dataplane.measure.measure_with_generators` (same arguments and result: ``openisp
    compare`` wraps it to read port counters around the traffic).  With
    ``prometheus``, a Prometheus server scrapes the controller and the receivers every
    second and keeps its database in the run's directory.  Reachability is checked on
    every host pair of a small world, on a sample of a large one unless ``all_pairs``
    (:func:`dataplane.probes.sample_pairs`).  With ``console``, Mininet's console with the
    market's commands (:mod:`dataplane.console`) replaces the traffic phase; leaving it
    tears down.
    """
    from .network import netem_available, new_network, start_network
    from .probes import check_reachability
    from .traffic_phase import run_traffic_phase

    scenario = load_scenario(path)
    run_dir = Path(runs_dir) / f"{scenario.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    started = time.monotonic()
    report: dict = {"scenario": scenario.name, "file": path, "plan": plan, "run_dir": str(run_dir)}
    out(f"openisp run: {scenario.name}: {len(scenario.switches)} switches, {len(scenario.hosts)} hosts, "
        f"{len(scenario.links)} links, {len(scenario.demands)} demands (logs in {run_dir})")
    for leftover in sweep(scenario):
        out(f"  removed leftover {leftover} of an earlier run")
    exchange_dir = run_dir / "market"
    controller = ControllerProcess(path, run_dir / "controller.log", plan=plan, extra_args=(
        "--stats", str(STATS_S), *(("--run-dir", str(exchange_dir)) if plan == "market" else ())))
    problems: list[str] = []
    observers = Observers()
    with Interruption() as interruption:
        try:
            controller.start()
            out(f"controller: pid {controller.proc.pid}, OpenFlow 127.0.0.1:{controller.ofp_port}, "
                f"status {controller.status_url}")
            if prometheus:
                report["prometheus"] = observers.start(run_dir, scenario.name, controller.status_port)
                out(f"prometheus: {observers.prometheus.url}, scraping the controller and the receivers every "
                    f"{SCRAPE_S} s (database {observers.prometheus.data_dir})")
            netem = netem_available()
            report["latency_emulated"] = netem
            out("network: building")
            net = new_network(scenario, controller.ofp_port, netem=netem)
            start_network(net)
            out("network: up (Open vSwitch userspace datapath, links shaped with HTB, "
                + ("latency_ms emulated with netem)" if netem else
                   "latency_ms not emulated: this kernel has no netem; delays below are as measured)"))
            status = controller.wait_ready(ready_timeout_s, lambda line: out(f"  {line}"))
            out(f"rules: every switch holds its {plan} plan "
                f"({sum(v['rules'] for v in status['switches'].values())} flows, groups and meters)")
            if status.get("api"):
                report["market"] = {"api": status["api"], "tokens": str(exchange_dir / "tokens"),
                                    "ledger": str(exchange_dir / "ledger.sqlite")}
                out(f"market: participants' API {status['api']} (tokens in {exchange_dir / 'tokens'}), "
                    f"ledger {exchange_dir / 'ledger.sqlite'}")
            reach = check_reachability(net, scenario, all_pairs, progress=out)
            out(f"reachability: {reach.reached}/{reach.pairs} host pairs ({reach.percent:.0f}%)"
                + (f"; a sample of the {reach.of:,} covering every host and every pair of switches with hosts "
                   "(--all-pairs for all)" if reach.sampled else ""))
            report["reachability"] = {"pairs": reach.pairs, "reached": reach.reached,
                                      "failed": [list(p) for p in reach.failed],
                                      **({"sampled_from": reach.of} if reach.sampled else {})}
            problems += [f"unreachable: {src} -> {dst}" for src, dst in reach.failed]
            if console:
                report["console"] = open_console(scenario, net, controller, status, run_dir, interruption, out)
            elif scenario.demands:
                outcomes, broken, report["traffic"] = run_traffic_phase(
                    net, scenario, controller, status, plan, flow_seconds, flows, run_dir, out, measure)
                if observers.prometheus is not None:  # the last counters polled, then scraped
                    time.sleep(STATS_S + 2 * SCRAPE_S)
                out(format_table(outcomes))
                if report["traffic"].get("diagnosis"):
                    out("diagnosis: " + report["traffic"]["diagnosis"])
                report["demands"] = [o.to_json() for o in outcomes]
                problems += broken
        except (KeyboardInterrupt, Terminated):
            problems.append("interrupted")
            report["interrupted"] = True
            raise KeyboardInterrupt("interrupted") from None
        finally:
            _teardown(scenario, controller, interruption, out, report, observers)
            report["seconds"] = round(time.monotonic() - started, 1)
            out(f"done in {report['seconds']:.1f} s")
    if not report["teardown"]["clean"]:
        problems.append(f"teardown left behind: {', '.join(report['teardown']['left'])}")
    for p in problems:
        out(f"BROKEN: {p}")
    report["ok"] = not problems
    report["problems"] = problems
    if not problems:
        out("verdict: every promise held")
    return RunResult(0 if not problems else 1, report)


class Terminated(BaseException):
    """SIGTERM during the console (whose loop takes KeyboardInterrupt as "stop this command")."""


def open_console(scenario, net, controller, status: dict, run_dir: Path, interruption: Interruption, out) -> dict:
    """Mininet's console with the market's commands, until the user leaves it; Ctrl-C there
    stops the command running, as in Mininet, and SIGTERM ends the run."""
    from .console import MarketSession, market_cli
    from .measure import measure_with_generators

    api = status.get("api")
    session = MarketSession(scenario, controller, net, api=api,
                            tokens=run_dir / "market" / "tokens" if api else None, workdir=run_dir / "console",
                            measure=measure_with_generators)
    out("console: Mininet's CLI with the market's commands (market, paths, prices, fail, restore, ask, bid, "
        "epoch, traffic; `help market`); exit or Ctrl-D tears everything down")

    def terminate(signum, frame):
        raise Terminated()

    previous = {signal.SIGINT: signal.signal(signal.SIGINT, signal.default_int_handler),
                signal.SIGTERM: signal.signal(signal.SIGTERM, terminate)}
    started = time.monotonic()
    try:
        market_cli(net, session)
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
    return {"seconds": round(time.monotonic() - started, 1)}


def _teardown(scenario, controller: ControllerProcess, interruption: Interruption, out, report: dict,
              observers: "Observers") -> None:
    """Stop the controller and Prometheus and sweep the scenario away; a signal cannot cut it short."""
    while True:
        try:
            interruption.tearing_down = True
            out("teardown: stopping the network and the controller")
            controller.stop()
            observers.stop()
            sweep(scenario)
            left = leftovers(scenario) + observers.left()
            report["teardown"] = {"clean": not left, "left": left}
            out("teardown: clean" if not left else f"teardown: left behind: {', '.join(left)}")
            return
        except KeyboardInterrupt:  # a signal landed before the flag was set: start again
            continue
