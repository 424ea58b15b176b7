"""``openisp compare``: one world and the same traffic under several plans, side by side.

Each plan is a whole ``openisp run`` (:func:`dataplane.runner.run_scenario`): its own
controller, network, reachability check and judged traffic, torn down before the
next plan starts.  Around the traffic, the switches' port counters are read
(``ovs-ofctl dump-ports``), so what the table says a plan carried through the
backbone is measured, not computed from paths.  The traffic phase runs twice:

1. **neighbours only**: the demands whose hosts are joined without any backbone
   switch (:func:`neighbour_demands`), alone on the network.  The bytes that
   entered a backbone switch meanwhile are the neighbour traffic the plan sent
   through the backbone; the table gives them as a share of the bytes delivered to
   the neighbour demands' receivers (a market's meters drop what a demand sends
   above its allocation at its first switch, so what was sent would overstate it).
2. **everything**: every demand at once, as ``openisp run`` sends it; the rates are
   judged as a run judges them, and the bytes that entered a backbone switch and
   crossed each link are counted.

A byte "enters the backbone" when a backbone switch receives it from a host or from
another provider's switch; a byte that crosses two backbone switches counts once.
Only the hosts' traffic moves: the switches' ports have IPv6 off
(:func:`dataplane.network.quiet_switch_ports`), so the kernel's router
solicitations do not cross the links.

The plans (:data:`COMPARED`): ``market`` (the auction), ``hierarchical`` (today's
transit hierarchy, :mod:`controller.hierarchical`), ``shortest`` (shortest paths, no
market) and ``poc`` (the market in POC mode, docs/poc.md, on a copy of the scenario
with ``market.mode: poc``).

>>> from topologies.loader import load_scenario
>>> neighbour_demands(load_scenario("topologies/library/local-first.yaml"))
['ann-cy', 'di-bo']
"""
from __future__ import annotations

import json
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import yaml

from topologies.draw import format_bytes
from topologies.loader import load_scenario
from topologies.model import Scenario
from topologies.units import format_rate, text_table

from .errors import DataplaneError

#: The plans ``openisp compare`` runs by default, in this order.
COMPARED = ("market", "hierarchical", "shortest", "poc")


def neighbour_demands(scenario: Scenario) -> list[str]:
    """Demands whose two hosts are joined by switches none of which is a backbone's: on one
    last mile, or on providers with a direct link; neither host on a backbone switch."""
    backbone = scenario.backbone_switches
    found = []
    for d in scenario.demands:
        a, b = scenario.host[d.src].switch, scenario.host[d.dst].switch
        if a in backbone or b in backbone:
            continue
        if a == b or b in scenario.graph.tree_towards(a, avoid=backbone):
            found.append(d.id)
    return found


_PORT = re.compile(r"port\s+(\d+): rx pkts=\d+, bytes=(\d+),.*?tx pkts=\d+, bytes=(\d+),", re.S)


def parse_dump_ports(text: str) -> dict[int, tuple[int, int]]:
    """``ovs-ofctl dump-ports`` output: port number -> (rx bytes, tx bytes); LOCAL left out.

    >>> parse_dump_ports('''OFPST_PORT reply (OF1.3) (xid=0x2): 2 ports
    ...   port LOCAL: rx pkts=0, bytes=0, drop=0, errs=0, frame=0, over=0, crc=0
    ...            tx pkts=0, bytes=0, drop=0, errs=0, coll=0
    ...            duration=3.1s
    ...   port  2: rx pkts=10, bytes=12000, drop=0, errs=0, frame=0, over=0, crc=0
    ...            tx pkts=3, bytes=180, drop=0, errs=0, coll=0
    ... ''')
    {2: (12000, 180)}
    """
    return {int(port): (int(rx), int(tx)) for port, rx, tx in _PORT.findall(text)}


def read_counters(scenario: Scenario, switches: list[str] | None = None) -> dict[tuple[str, int], tuple[int, int]]:
    """The port counters of every switch (or of ``switches``) now: ``(switch, port) -> (rx bytes, tx bytes)``."""
    counters = {}
    for name in switches if switches is not None else [s.name for s in scenario.switches]:
        done = subprocess.run(["ovs-ofctl", "-O", "OpenFlow13", "dump-ports", name], capture_output=True,
                              text=True, timeout=30)
        if done.returncode != 0:
            raise DataplaneError(f"cannot read the port counters of {name}: {done.stderr.strip()}")
        counters.update({(name, port): v for port, v in parse_dump_ports(done.stdout).items()})
    return counters


@dataclass(frozen=True)
class Counted:
    """What the port counters saw over one phase."""

    #: bytes a backbone switch received from a host or from another provider's switch
    entering_backbone: int
    #: bytes the sending hosts put into the network (received on their switches' host ports)
    sent: int
    #: bytes delivered to the receiving hosts (sent out of their switches' host ports)
    delivered: int
    #: link id -> bytes that crossed it (a to b, b to a)
    links: dict[str, tuple[int, int]] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"entering_backbone_bytes": self.entering_backbone, "sent_bytes": self.sent,
                "delivered_bytes": self.delivered,
                "links": {k: list(v) for k, v in self.links.items()}}


def count(scenario: Scenario, before: dict, after: dict, senders: set[str] | None = None,
          receivers: set[str] | None = None) -> Counted:
    """The counters' differences from ``before`` to ``after``; ``sent`` counts what ``senders``
    sent, ``delivered`` what ``receivers`` received (all hosts when None)."""
    def delta(switch: str, port: int, i: int) -> int:
        key = (switch, port)
        return after.get(key, (0, 0))[i] - before.get(key, (0, 0))[i]

    graph = scenario.graph
    backbone = scenario.backbone_switches
    entering = 0
    for port in graph.ports():
        if port.switch not in backbone:
            continue
        far = graph.far_end(port)
        if far is None or far[0] not in backbone:
            entering += delta(port.switch, port.number, 0)
    sent = sum(delta(h.switch, graph.host_port(h.name).number, 0) for h in scenario.hosts
               if senders is None or h.name in senders)
    delivered = sum(delta(h.switch, graph.host_port(h.name).number, 1) for h in scenario.hosts
                    if receivers is None or h.name in receivers)
    links = {link.id: (delta(link.a, graph.link_port(link.a, link.id).number, 1),
                       delta(link.b, graph.link_port(link.b, link.id).number, 1)) for link in scenario.links}
    return Counted(entering, sent, delivered, links)


class CountingMeasure:
    """A run's ``measure``: the neighbour phase, then every demand, with port counters read
    around each (see the module's text); what the receivers measured in the second phase."""

    def __init__(self, scenario: Scenario, reader: Callable = read_counters, generators: Callable | None = None):
        from .measure import measure_with_generators

        self.scenario = scenario
        self.neighbours = neighbour_demands(scenario)
        self.reader = reader
        self.generators = generators or measure_with_generators
        self.phases: dict[str, Counted] = {}

    def __call__(self, net, scenario, offered: dict, seconds, **kwargs):
        if self.neighbours:
            alone = {**kwargs, "on_start": lambda start: None}
            if kwargs.get("workdir") is not None:
                alone["workdir"] = Path(kwargs["workdir"]) / "neighbours"
            before = self.reader(scenario)
            self.generators(net, scenario, {d: offered[d] for d in self.neighbours if d in offered}, seconds, **alone)
            self.phases["neighbours"] = count(scenario, before, self.reader(scenario),
                                              {scenario.demand[d].src for d in self.neighbours},
                                              {scenario.demand[d].dst for d in self.neighbours})
        before = self.reader(scenario)
        measured = self.generators(net, scenario, offered, seconds, **kwargs)
        self.phases["all"] = count(scenario, before, self.reader(scenario))
        return measured


def path_latency_ms(scenario: Scenario, switches: list[str]) -> float:
    """The sum of ``latency_ms`` along a path of switches (between two switches joined by
    parallel links, the quickest)."""
    total = 0.0
    for a, b in zip(switches, switches[1:]):
        total += min(l.latency_ms for l in scenario.links if {l.a, l.b} == {a, b})
    return round(total, 3)


def scenario_for(path: str, plan: str, workdir: Path) -> tuple[str, str]:
    """The scenario file and the run's plan for a compared plan: ``poc`` is the market plan on
    a copy of the file with ``market.mode: poc``, written into ``workdir``."""
    if plan != "poc":
        return path, plan
    data = yaml.safe_load(Path(path).read_text())
    data.setdefault("market", {})["mode"] = "poc"
    copy = workdir / f"{Path(path).stem}-poc.yaml"
    copy.write_text(f"# {path} with market.mode: poc, written by openisp compare\n"
                    + yaml.safe_dump(data, sort_keys=False))
    load_scenario(str(copy))  # its problems now, not inside a run
    return str(copy), "market"


def plan_row(scenario: Scenario, plan: str, report: dict, measure: CountingMeasure,
             payments: Callable[[dict], dict | None] = lambda report: None) -> dict:
    """One plan's part of the comparison, as ``--json`` prints it; ``payments(run report)`` says
    what each participant paid (None: no market)."""
    neighbours = measure.phases.get("neighbours")
    everything = measure.phases.get("all")
    demands = {}
    for o in report.get("demands", []):
        d = scenario.demand[o["demand"]]
        demands[d.id] = {"paths": o["paths"],
                         "latency_ms": max((path_latency_ms(scenario, p) for p in o["paths"] if p), default=None),
                         "delay_ms": o.get("delay_ms"),
                         "wanted_kbps": scenario.emulation.emulated_kbps(d.max_kbps),
                         "allocated_kbps": o.get("allocated_kbps"),
                         "received_kbps": o.get("received_kbps")}
    return {"plan": plan, "ok": report.get("ok", False), "problems": report.get("problems", []),
            "run_dir": report.get("run_dir"),
            "neighbour_demands": measure.neighbours,
            "neighbours": neighbours.to_json() if neighbours else None,
            "all": everything.to_json() if everything else None,
            "demands": demands, "paid": payments(report)}


def problems_of(row: dict) -> list[str]:
    """What broke in one plan's run, or in its measurement of the backbone."""
    found = [f"{row['plan']}: {p}" for p in row["problems"]]
    if row["all"] is None:
        found.append(f"{row['plan']}: no traffic was counted")
    elif row["all"]["sent_bytes"] <= 0:
        found.append(f"{row['plan']}: the port counters saw no traffic sent")
    if row["neighbour_demands"] and row["all"] is not None and \
            (row["neighbours"] is None or row["neighbours"]["delivered_bytes"] <= 0):
        found.append(f"{row['plan']}: the port counters saw nothing delivered to the neighbour demands")
    return found


def _bytes(n: int | None) -> str:
    return "-" if n is None else format_bytes(n)


def format_comparison(scenario: Scenario, rows: list[dict]) -> str:
    """The plans table (one row per plan) and the demands table (one column per plan)."""
    plans = []
    for r in rows:
        n, a = r["neighbours"] or {}, r["all"] or {}
        share = (f" ({100 * n['entering_backbone_bytes'] / n['delivered_bytes']:.0f}% of delivered)"
                 if n.get("delivered_bytes") else "")
        served = [d for d in r["demands"].values() if d["received_kbps"] is not None]
        received = sum(d["received_kbps"] for d in served)
        wanted = sum(d["wanted_kbps"] for d in r["demands"].values())
        latencies = [d["latency_ms"] for d in r["demands"].values() if d["latency_ms"] is not None]
        total_paid = sum(float(v) for k, v in (r["paid"] or {}).items()
                         if scenario.participant.get(k) and scenario.participant[k].role == "customer")
        plans.append((r["plan"], (_bytes(n.get("entering_backbone_bytes")) + share) if r["neighbour_demands"] else
                      "(no neighbours)", _bytes(a.get("entering_backbone_bytes")),
                      f"{sum(latencies) / len(latencies):.1f}" if latencies else "-",
                      f"{format_rate(round(received))}/{format_rate(wanted)}",
                      f"{total_paid:.2f}" if r["paid"] else "-", "ok" if not problems_of(r) else "BROKEN"))
    out = [text_table(("plan", "neighbour bytes via backbone", "backbone bytes", "mean latency ms",
                   "received/wanted", "customers paid", "run"), plans)]
    header = ("demand", "wanted", *(f"{r['plan']}: ms, received" for r in rows))
    lines = []
    for d in scenario.demands:
        cells = []
        for r in rows:
            x = r["demands"].get(d.id)
            if x is None:
                cells.append("-")
                continue
            got = "-" if x["received_kbps"] is None else format_rate(round(x["received_kbps"]))
            ms = "-" if x["latency_ms"] is None else f"{x['latency_ms']:g}"
            cells.append(f"{ms}, {got}")
        lines.append((d.id + (" (neighbours)" if d.id in rows[0]["neighbour_demands"] else ""),
                      format_rate(scenario.emulation.emulated_kbps(d.max_kbps)), *cells))
    out.append(text_table(header, lines))
    payers = sorted({p for r in rows for p in (r["paid"] or {})})
    if payers:
        out.append(text_table(("participant", *(f"{r['plan']} paid" for r in rows)),
                          [(p, *((r["paid"] or {}).get(p, "-") if r["paid"] else "-" for r in rows))
                           for p in payers]))
    return "\n\n".join(out)


def compare(path: str, plans: tuple[str, ...] = COMPARED, out: Callable[[str], None] = print,
            flow_seconds: int = 3, runs_dir: str = "runs", ready_timeout_s: float = 60.0,
            png: str | None = None, prometheus: bool = False,
            payments: Callable[[dict], dict | None] = lambda report: None,
            runner: Callable | None = None) -> tuple[int, dict]:
    """Run ``path`` under each of ``plans`` and compare; (exit code, the JSON report).
    ``payments(run report)`` reads what each participant paid in a run (the command reads
    the run's ledger: the data plane does not import the controller).  A plan that cannot
    run at all is a broken row; the others still run.  ``runner`` replaces
    :func:`~dataplane.runner.run_scenario` (tests)."""
    from topologies.errors import OpenIspError

    from .runner import run_scenario

    runner = runner or run_scenario

    scenario = load_scenario(path)
    unknown = [p for p in plans if p not in COMPARED]
    if unknown or not plans:
        raise DataplaneError(f"unknown plan {', '.join(unknown) or '(none)'}: choose from {', '.join(COMPARED)}")
    workdir = Path(runs_dir) / f"compare-{scenario.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    workdir.mkdir(parents=True, exist_ok=True)
    neighbours = neighbour_demands(scenario)
    out(f"openisp compare: {scenario.name} under {', '.join(plans)}; neighbour demands: "
        f"{', '.join(neighbours) or 'none'} (results in {workdir})")
    rows = []
    for i, plan in enumerate(plans, 1):
        out(f"[{i}/{len(plans)}] {plan}")
        def progress(text: str, plan: str = plan) -> None:
            for line in text.splitlines() or [""]:
                out(f"  {plan}: {line}")

        measure = CountingMeasure(scenario)
        try:
            file, run_plan = scenario_for(path, plan, workdir)
            run = runner(file, out=progress, flow_seconds=flow_seconds, ready_timeout_s=ready_timeout_s,
                         runs_dir=str(workdir), plan=run_plan, measure=measure, prometheus=prometheus).report
        except OpenIspError as exc:
            progress(f"could not run: {exc}")
            run = {"ok": False, "problems": [f"could not run: {exc}"]}
        rows.append(plan_row(scenario, plan, run, measure, payments))
    report = {"scenario": scenario.name, "file": path, "dir": str(workdir), "plans": rows}
    report["problems"] = [p for r in rows for p in problems_of(r)]
    picture = Path(png) if png else workdir / "compare.png"
    from topologies.draw import draw_loads

    draw_loads(scenario, {r["plan"]: {k: sum(v) for k, v in (r["all"] or {"links": {}})["links"].items()}
                          for r in rows}, str(picture))
    report["png"] = str(picture)
    (workdir / "compare.json").write_text(json.dumps(report, indent=2))
    out("")
    out(format_comparison(scenario, rows))
    out(f"\npicture: {picture}; JSON: {workdir / 'compare.json'}")
    for p in report["problems"]:
        out(f"BROKEN: {p}")
    return (1 if report["problems"] else 0), report
