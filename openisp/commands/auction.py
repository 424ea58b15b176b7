"""``openisp auction SCENARIO``: clear one epoch of the market and show who gets and pays what."""
from __future__ import annotations

import json
from dataclasses import replace

from topologies.crosscheck import unservable_demands, unservable_reason
from topologies.loader import load_scenario
from topologies.model import MARKET_MODES, MECHANISMS
from topologies.units import format_rate, text_table

HELP = "clear the scenario's market (VCG, LMP or pay-as-bid): allocations, prices and payments; no root needed"


def add_arguments(parser) -> None:
    parser.add_argument("scenario", metavar="SCENARIO")
    parser.add_argument("--mechanism", choices=(*MECHANISMS, "all"),
                        help="payment rule (default: the scenario's market.mechanism); all: the rules side by side")
    parser.add_argument("--mode", choices=(*MARKET_MODES, "all"),
                        help="market design (default: the scenario's market.mode): open, poc (the public option "
                             "for the core, docs/poc.md); all: the two side by side")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")


def _table(header, rows) -> list[str]:
    return text_table(header, rows).split("\n")


def _latency(scenario, demand, paths) -> str:
    """``slowest path ms/bound ms`` for a demand with a latency bound."""
    if demand.max_latency_ms is None:
        return ""
    slowest = max((sum(scenario.link[l].latency_ms for l in p.links) for p in paths), default=None)
    return f"{'-' if slowest is None else f'{slowest:g}'}/{demand.max_latency_ms:g}ms"


def render(result, scenario, notes: list[str] = ()) -> str:
    mode = "" if result.mode == "open" else f" in POC mode ({result.poc.name if result.poc else 'poc'})"
    lines = [f"{scenario.name}: {result.mechanism}{mode}, welfare {result.welfare} per epoch", ""]
    bounded = any(d.max_latency_ms is not None for d in scenario.demands)
    rows = []
    for d in result.demands:
        demand = scenario.demand[d.demand_id]
        paths = "; ".join(f"{' > '.join(p.switches)} ({format_rate(p.kbps)})" for p in d.paths) or "-"
        rows.append((d.demand_id, f"{d.src} -> {d.dst}", f"{format_rate(d.allocated_kbps) if d.allocated_kbps else '0'}/{format_rate(demand.max_kbps)}",
                     d.pays, *((_latency(scenario, demand, d.paths),) if bounded else ()), paths))
    lines += _table(("demand", "src -> dst", "allocated/max", "pays", *(("latency",) if bounded else ()), "paths"),
                    rows) + [""]
    rows = [(l.link_id, l.owner, format_rate(l.allocated_kbps) if l.allocated_kbps else "0", l.price_per_mbps)
            for l in result.links]
    lines += _table(("link", "owner", "allocated", "price/Mbps"), rows) + [""]
    rows = [(p.name, p.role, p.pays, p.receives) for p in result.participants if p.pays or p.receives]
    lines += _table(("participant", "role", "pays", "receives"), rows) + [""]
    if result.poc is not None:
        lines += _poc_books(result) + [""]
    balance = result.budget_balance
    payer = "the universal-service fund" if result.mode == "poc" else "the market operator"
    verdict = "balanced" if balance == 0 else ("surplus kept by the market" if balance > 0 else
                                               f"deficit, covered by {payer}")
    lines.append(f"budget balance: {balance} ({verdict})")
    if result.mode == "poc":  # at cost, a customer is charged its provider's average rate, floor or not
        lines.append(f"fund's top-ups (floors and tariffs above value): {result.floors_cost} (universal-service "
                     "fund, paid by the public; in the balance above)")
    else:
        lines.append(f"floors' cost: {result.floors_cost} (universal-service fund, paid by the market operator; "
                     "in the balance above)")
    lines += [f"note: {n}" for n in [*result.notes, *notes]]
    return "\n".join(lines)


def _poc_books(result) -> list[str]:
    """The POC's account and the invoices, customer -> access provider -> POC -> backbone owners."""
    poc = result.poc
    lines = [f"{poc.name}: pays the backbone owners {poc.cost} ({poc.mechanism}; their asks {poc.asks}, deficit "
             f"{poc.deficit}) and recovers it all from break-even access fees ({poc.fee_rule}: "
             f"{poc.fee_per_mbps} per Mbps" + (f"; rounding {poc.rounding}" if poc.rounding else "") + ")", "",
             "invoices (customer -> access provider -> POC -> backbone owners)"]

    def rank(line):  # tariffs, the fund's top-ups, carriage between access providers, fees, leases
        return (4 if line.payer == poc.name else 3 if line.payee == poc.name else
                2 if line.item.startswith("carriage:") else 1 if " " in line.payer else 0)

    rows = [(i.payer, i.payee, i.amount, i.item) for i in sorted(result.invoices, key=rank)]
    return lines + _table(("payer", "payee", "amount", "for"), rows)


def _with_mode(scenario, mode):
    return scenario if mode is None else replace(scenario, market=replace(scenario.market, mode=mode))


def run(args) -> int:
    scenario = load_scenario(args.scenario)
    notes = [unservable_reason(scenario, d) for d in unservable_demands(scenario)]
    if not scenario.demands:
        nothing = f"{scenario.name}: no demands, so there is nothing to clear"
        print(json.dumps({"mechanism": args.mechanism or scenario.market.mechanism, "demands": [],
                          "notes": [nothing]}, indent=2) if args.json else nothing)
        return 0
    from controller.market import clear_market

    if args.mode == "all":
        if args.mechanism == "all":
            print("openisp auction: choose one of --mode all and --mechanism all")
            return 2
        from controller.market.designs import compare_designs, render_designs

        rows = compare_designs(scenario, args.mechanism)
        print(json.dumps([r.to_json_dict() for r in rows], indent=2) if args.json else render_designs(scenario, rows))
        return 0
    scenario = _with_mode(scenario, args.mode)
    if args.mechanism == "all":
        from controller.market.compare import compare_mechanisms, render_comparison

        rows = compare_mechanisms(scenario)
        print(json.dumps([{k: str(v) for k, v in vars(r).items()} for r in rows], indent=2) if args.json
              else render_comparison(scenario, rows))
        return 0
    result = clear_market(scenario, args.mechanism)
    if args.json:
        report = result.to_json_dict()
        report["notes"] = [*result.notes, *report.get("notes", ()), *notes]
        print(json.dumps(report, indent=2))
    else:
        print(render(result, scenario, notes))
    return 0
