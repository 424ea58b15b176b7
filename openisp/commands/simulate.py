"""``openisp simulate SCENARIO``: predict what ``openisp run`` would measure, without emulation."""
from __future__ import annotations

import json

from topologies.loader import load_scenario
from topologies.model import MECHANISMS, PLANS
from topologies.units import format_rate

from .auction import _table

HELP = ("predict each demand's received rate, each link's load and each meter's drops from the rules the "
        "controller would install (flow-level, max-min; no emulation, no root); exits non-zero when a "
        "demand is predicted under 90%% of its allocation or a floor is missed")


def add_arguments(parser) -> None:
    parser.add_argument("scenario", metavar="SCENARIO")
    parser.add_argument("--plan", choices=PLANS, default=PLANS[0],
                        help="market (default): the auction's plan; shortest: shortest paths; hierarchical: "
                             "today's transit hierarchy (both with no market)")
    parser.add_argument("--mechanism", choices=MECHANISMS, help="payment rule (default: the scenario's)")
    parser.add_argument("--flows", type=int, metavar="N",
                        help="flows per demand (default: as openisp run sends them)")
    parser.add_argument("--seconds", type=int, default=3,
                        help="how long each demand's traffic runs, as in openisp run (default %(default)s; a "
                             "timeline lengthens it)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")


def report(scenario, sim, plan: str) -> dict:
    """The prediction as a run's report shapes it: one entry per demand (a run's fields, with
    the predicted rate as ``received_kbps``), links, meters and the broken promises."""
    from dataplane.traffic_phase import all_demands, sending_all_second
    from dataplane.verdict import Measured, judge, judge_over_time

    flows: dict[str, set] = {}
    for b in sim.branches:
        flows.setdefault(b.demand, set()).add(b.flow)
    measured = {d: Measured(offered_kbps=sim.offered[d], received_kbps=round(sim.received[d], 3),
                            flows=len(flows.get(d, ())),
                            received_kbps_per_s=tuple(round(x, 3) for x in sim.received_per_s.get(d, ())))
                for d in sim.received}
    market = plan == "market"
    outcomes, problems = judge(scenario, sim.allocated_real, sim.paths, measured, market=market,
                               whole_window=sim.steady, demands=all_demands(scenario))
    if market and not sim.steady:
        specs = {d.id: scenario.traffic_of(d.id) for d in all_demands(scenario)}
        problems += judge_over_time(scenario, measured, sim.offered, sim.windows, sim.plans, sim.changes,
                                    active=lambda d, i: sending_all_second(specs.get(d), sim.windows.get(d), i))
    emulate = scenario.emulation.emulated_kbps
    links = [{"link": link, "from": a, "to": b, "capacity_kbps": emulate(scenario.link[link].capacity_kbps),
              "load_kbps": round(kbps, 3)} for (link, a, b), kbps in sorted(sim.link_load.items())]
    meters = [{"switch": scenario.switch_by_dpid[dpid].name, "meter_id": meter_id, **{
        k: (round(v, 3) if isinstance(v, float) else v) for k, v in m.items()}}
        for (dpid, meter_id), m in sorted(sim.meters.items())]
    return {"scenario": scenario.name, "plan": plan, "emulation_scale": scenario.emulation.scale,
            "seconds": sim.seconds, "steady": sim.steady, "changes_s": sim.changes,
            "timeline": [{"at_s": at, "action": action, "target": target, "ok": ok}
                         for at, action, target, ok in sim.played],
            "demands": [o.to_json() for o in outcomes], "links": links, "meters": meters,
            "undelivered_kbps": {d: round(k, 3) for d, k in sim.undelivered.items()},
            "ok": not problems, "problems": problems}


def render(scenario, rep: dict) -> str:
    lines = [f"{scenario.name}: {rep['plan']} plan, predicted (flow-level, max-min"
             + (f"; emulated rates, real x {rep['emulation_scale']:g}" if rep["emulation_scale"] != 1 else "") + ")", ""]
    rows = []
    for d in rep["demands"]:
        want = min(d["allocated_kbps"], d["offered_kbps"]) if d["allocated_kbps"] else None
        rows.append((d["demand"], f"{d['src']} -> {d['dst']}",
                     format_rate(d["allocated_kbps"]) if d["allocated_kbps"] else "-",
                     format_rate(d["offered_kbps"]), format_rate(round(d["received_kbps"])),
                     f"{100 * d['received_kbps'] / want:.0f}%" if want else "-", "ok" if d["ok"] else "SHORT"))
    lines += _table(("demand", "src -> dst", "allocated", "offered", "predicted", "of allocation", ""), rows) + [""]
    rows = [(l["link"], f"{l['from']} -> {l['to']}", format_rate(round(l["load_kbps"])),
             format_rate(l["capacity_kbps"]), f"{100 * l['load_kbps'] / l['capacity_kbps']:.0f}%")
            for l in rep["links"] if l["load_kbps"] > 0]
    lines += _table(("link", "direction", "load", "capacity", "used"), rows) + [""]
    rows = [(m["switch"], m["meter_id"], ":".join(map(str, m["owner"][:2])) if m["owner"] else "-",
             format_rate(m["rate_kbps"]), format_rate(round(m["reaching_kbps"])),
             format_rate(round(m["dropped_kbps"])))
            for m in rep["meters"] if m["dropped_kbps"] > 0.5]
    if rows:
        lines += ["meters that drop:"] + _table(("switch", "meter", "owner", "rate", "reaching", "dropped"), rows) + [""]
    if not rep["steady"]:
        lines += [(f"the network changed at {', '.join(f'{c:g}' for c in rep['changes_s'])} s; " if rep["changes_s"]
                   else "demands send part of the time; ") + "received per second (judged second by second):"]
        for d in rep["demands"]:
            lines.append(f"  {d['demand']:<12} " + " ".join(f"{format_rate(round(x)):>9}"
                                                           for x in d["received_kbps_per_s"]))
        lines.append("")
    lines += [f"PROBLEM: {p}" for p in rep["problems"]] or ["every demand is predicted its allocation"
                                                           if rep["plan"] == "market" else "no market: nothing promised"]
    return "\n".join(lines)


def run(args) -> int:
    from dataplane.simulate import simulate

    if args.flows is not None and args.flows < 1:
        print("openisp simulate: --flows must be at least 1")
        return 2
    scenario = load_scenario(args.scenario)
    if not 1 <= args.seconds <= 3600:
        print("openisp simulate: --seconds must be between 1 and 3600")
        return 2
    sim = simulate(scenario, args.plan, args.mechanism, args.flows, seconds=args.seconds)
    rep = report(scenario, sim, args.plan)
    print(json.dumps(rep, indent=2) if args.json else render(scenario, rep))
    return 0 if rep["ok"] else 1
