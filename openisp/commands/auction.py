"""``openisp auction SCENARIO``: clear one epoch of the market and show who gets and pays what."""
from __future__ import annotations

import json

from topologies.crosscheck import unservable_demands, unservable_reason
from topologies.loader import load_scenario
from topologies.model import MECHANISMS
from topologies.units import format_rate

HELP = "clear the scenario's market (VCG, LMP or pay-as-bid): allocations, prices and payments; no root needed"


def add_arguments(parser) -> None:
    parser.add_argument("scenario", metavar="SCENARIO")
    parser.add_argument("--mechanism", choices=(*MECHANISMS, "all"),
                        help="payment rule (default: the scenario's market.mechanism); all: the rules side by side")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")


def _table(header, rows) -> list[str]:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return [fmt.format(*header), fmt.format(*("-" * w for w in widths)), *(fmt.format(*map(str, r)) for r in rows)]


def render(result, scenario, notes: list[str] = ()) -> str:
    lines = [f"{scenario.name}: {result.mechanism}, welfare {result.welfare} per epoch", ""]
    rows = []
    for d in result.demands:
        demand = scenario.demand[d.demand_id]
        paths = "; ".join(f"{' > '.join(p.switches)} ({format_rate(p.kbps)})" for p in d.paths) or "-"
        rows.append((d.demand_id, f"{d.src} -> {d.dst}", f"{format_rate(d.allocated_kbps) if d.allocated_kbps else '0'}/{format_rate(demand.max_kbps)}",
                     d.pays, paths))
    lines += _table(("demand", "src -> dst", "allocated/max", "pays", "paths"), rows) + [""]
    rows = [(l.link_id, l.owner, format_rate(l.allocated_kbps) if l.allocated_kbps else "0", l.price_per_mbps)
            for l in result.links]
    lines += _table(("link", "owner", "allocated", "price/Mbps"), rows) + [""]
    rows = [(p.name, p.role, p.pays, p.receives) for p in result.participants if p.pays or p.receives]
    lines += _table(("participant", "role", "pays", "receives"), rows) + [""]
    balance = result.budget_balance
    verdict = "balanced" if balance == 0 else ("surplus kept by the market" if balance > 0 else
                                               "deficit, covered by the market operator")
    lines.append(f"budget balance: {balance} ({verdict})")
    lines.append(f"floors' cost: {result.floors_cost} (universal-service fund, paid by the market operator; "
                 "in the balance above)")
    lines += [f"note: {n}" for n in [*result.notes, *notes]]
    return "\n".join(lines)


def run(args) -> int:
    scenario = load_scenario(args.scenario)
    notes = [unservable_reason(scenario, d) for d in unservable_demands(scenario)]
    if not scenario.demands:
        nothing = f"{scenario.name}: no demands, so there is nothing to clear"
        print(json.dumps({"mechanism": args.mechanism or scenario.market.mechanism, "demands": [],
                          "notes": [nothing]}, indent=2) if args.json else nothing)
        return 0
    from controller.market import clear_market

    if args.mechanism == "all":
        from controller.market.compare import compare_mechanisms, render_comparison

        rows = compare_mechanisms(scenario)
        print(json.dumps([{k: str(v) for k, v in vars(r).items()} for r in rows], indent=2) if args.json
              else render_comparison(scenario, rows))
        return 0
    result = clear_market(scenario, args.mechanism)
    if args.json:
        report = result.to_json_dict()
        report["notes"] = [*report.get("notes", ()), *notes]
        print(json.dumps(report, indent=2))
    else:
        print(render(result, scenario, notes))
    return 0
