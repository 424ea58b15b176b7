"""The two market designs side by side on one world: the open market (the seed's
protocol) and the public option for the core (the paper's), same offers, same bids.

``openisp auction SCENARIO --mode all`` prints :func:`render_designs`; the tables of
``docs/poc.md`` are made by

    .venv/bin/python -m controller.market.designs --markdown topologies/default.yaml topologies/library/*.yaml

Per design: welfare; the demands served; what each class of participant pays and
receives; the POC's cost (its leases), the fees it collects (its cost, give or take
the rounding of each fee: it breaks even) and its deficit (what it paid the backbone
owners above their asks, covered by the fees); the balance left to the market
operator (the open market's VCG deficit) or to the universal-service fund, and
what the fund paid (for floors; in POC mode also for tariffs above the value a
customer is served); and the backbone capacity the traffic uses, and how much of
it carries traffic between neighbours (hosts of one access provider, or of two
joined by a direct link), read from the paths.

>>> from topologies.loader import load_scenario
>>> rows = compare_designs(load_scenario("topologies/library/local-first.yaml"), "lmp")
>>> [(r.mode, r.neighbour_through_kbps) for r in rows]  # ann-cy and di-bo: 7 Mbps through bb-west in POC mode
[('open', 0), ('poc', 7000)]
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, replace
from decimal import Decimal

from topologies.model import MARKET_MODES, Scenario
from topologies.units import format_rate

from .clearing import clear_market
from .poc import neighbours, poc_world
from .pocbooks import through_core
from .result import MarketResult, money

ROLES = ("customer", "last_mile", "content", "community", "backbone", "poc")
ROLE_NAMES = {"customer": "customers", "last_mile": "last miles", "content": "content providers",
              "community": "community members", "backbone": "backbone owners", "poc": "the POC"}
ZERO = Decimal(0)
#: What the universal-service fund paid: in the open market only for floors; in POC mode
#: also for at-cost tariffs above the value a customer is served, floor or not.
FUND_ROW = "fund's top-ups (floors; POC: and tariffs above value)"


@dataclass(frozen=True)
class DesignSummary:
    mode: str
    mechanism: str
    welfare: Decimal
    served: int                                      # demands allocated something
    served_kbps: int
    by_role: tuple[tuple[str, Decimal, Decimal], ...]  # role -> (pays, receives), roles present only
    poc_cost: Decimal                                # what the POC paid the backbone owners
    poc_fees: Decimal                                # what it collects in fees: its cost give or take their rounding
    poc_deficit: Decimal                             # what it paid above the owners' asks (in its fees)
    balance: Decimal                                 # collected - paid out: the operator's or the fund's share
    floors_cost: Decimal                             # what the fund paid: floors (POC: and tariffs above value)
    backbone_kbps: int                               # backbone owners' link capacity used, summed over links
    neighbour_backbone_kbps: int                     # ... by traffic between neighbours
    neighbour_through_kbps: int                      # neighbours' traffic through a backbone switch or link
    allocated: tuple[tuple[str, int], ...]           # demand -> kbps
    seconds: float

    def to_json_dict(self) -> dict:
        """The JSON of ``openisp auction --mode all --json``, in the convention of
        :meth:`.result.MarketResult.to_json_dict`: welfare a number, the other money
        exact decimals as strings, rates whole kbps, lists as lists."""
        out: dict = {}
        for key, value in vars(self).items():
            if key == "by_role":
                value = [{"role": role, "pays": str(pays), "receives": str(receives)} for role, pays, receives in value]
            elif key == "allocated":
                value = [{"id": demand, "allocated_kbps": kbps} for demand, kbps in value]
            elif key == "welfare":
                value = float(value)
            elif isinstance(value, Decimal):
                value = str(value)
            out[key] = value
        return out


def summarise(scenario: Scenario, result: MarketResult, seconds: float = 0.0) -> DesignSummary:
    world = poc_world(scenario)
    roles: dict[str, list[Decimal]] = {}
    for p in result.participants:
        pays, receives = roles.setdefault(p.role, [ZERO, ZERO])
        roles[p.role] = [pays + p.pays, receives + p.receives]
    backbone = neighbour = neighbour_through = 0
    for d in result.demands:
        near = neighbours(world, scenario, scenario.demand[d.demand_id])
        for p in d.paths:
            used = p.kbps * sum(1 for link in p.links if link in world.core_links)
            backbone += used
            neighbour += used if near else 0
            neighbour_through += p.kbps if near and through_core(world, p) else 0
    account = result.poc
    return DesignSummary(
        result.mode, result.mechanism, result.welfare, sum(1 for d in result.demands if d.allocated_kbps),
        sum(d.allocated_kbps for d in result.demands),
        tuple((r, *roles[r]) for r in ROLES if r in roles), account.cost if account else money(0),
        money(sum((fee for _, fee in account.fees), ZERO)) if account else money(0),
        account.deficit if account else money(0), result.budget_balance, result.floors_cost, backbone, neighbour,
        neighbour_through, tuple((d.demand_id, d.allocated_kbps) for d in result.demands), seconds)


def compare_designs(scenario: Scenario, mechanism: str | None = None, options: dict | None = None,
                    modes=MARKET_MODES) -> list[DesignSummary]:
    """Clear ``scenario`` in each mode with the same payment rule (the scenario's by default)."""
    rows = []
    for mode in modes:
        world = replace(scenario, market=replace(scenario.market, mode=mode))
        started = time.perf_counter()
        result = clear_market(world, mechanism, options=options)
        rows.append(summarise(scenario, result, time.perf_counter() - started))
    return rows


def _rate(kbps: int) -> str:
    return format_rate(kbps) if kbps else "0"


def _balance(value: Decimal) -> str:
    return "0 (balanced)" if value == 0 else f"{value} ({'surplus' if value > 0 else 'deficit'})"


def table(scenario: Scenario, rows: list[DesignSummary]) -> list[tuple[str, ...]]:
    """The comparison as rows of cells: a label, then one cell per design."""
    roles = [r for r in ROLES if any(r == x[0] for row in rows for x in row.by_role)]
    out = [("welfare", *(str(r.welfare) for r in rows)),
           ("demands served", *(f"{r.served}/{len(scenario.demands)} ({_rate(r.served_kbps)})" for r in rows))]
    for role in roles:
        cells = []
        for r in rows:
            found = next((x for x in r.by_role if x[0] == role), None)
            cells.append("-" if found is None else f"{found[1]} / {found[2]}")
        out.append((f"{ROLE_NAMES[role]} pay / receive", *cells))
    out += [("POC's cost (its leases)", *(str(r.poc_cost) if r.mode == "poc" else "-" for r in rows)),
            ("POC's fees collected", *(str(r.poc_fees) if r.mode == "poc" else "-" for r in rows)),
            ("POC's deficit (in its fees)", *(str(r.poc_deficit) if r.mode == "poc" else "-" for r in rows)),
            ("balance (operator, fund)", *(_balance(r.balance) for r in rows)),
            (FUND_ROW, *(str(r.floors_cost) for r in rows)),
            ("backbone capacity used", *(_rate(r.backbone_kbps) for r in rows)),
            ("... by neighbours' traffic", *(_rate(r.neighbour_backbone_kbps) for r in rows)),
            ("neighbours' traffic through the backbone", *(_rate(r.neighbour_through_kbps) for r in rows))]
    return out


def demand_rows(scenario: Scenario, rows: list[DesignSummary]) -> list[tuple[str, ...]]:
    """Per demand, what each design allocates."""
    out = []
    for i, d in enumerate(scenario.demands):
        out.append((d.id, f"{d.src} -> {d.dst}", *(_rate(r.allocated[i][1]) for r in rows)))
    return out


def _text(header, cells) -> list[str]:
    widths = [max(len(c[i]) for c in [header, *cells]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return [fmt.format(*header), fmt.format(*("-" * w for w in widths)), *(fmt.format(*c) for c in cells)]


def render_designs(scenario: Scenario, rows: list[DesignSummary]) -> str:
    """The text of ``openisp auction SCENARIO --mode all``."""
    modes = [r.mode for r in rows]
    lines = [f"{scenario.name}: the two designs side by side ({rows[0].mechanism}, money per epoch)", ""]
    lines += _text(("", *modes), table(scenario, rows)) + [""]
    lines += _text(("demand", "src -> dst", *modes), demand_rows(scenario, rows)) + [""]
    lines.append("pay / receive: totals per class; backbone capacity: Mbps times the backbone owners' links crossed; "
                 "neighbours: hosts of one access provider, or of two joined by a direct link; through the backbone: "
                 "their Mbps on paths that cross a backbone switch or link")
    return "\n".join(lines)


#: Worlds with more demands show their totals only in the markdown.
DEMANDS_SHOWN_UP_TO = 12


def markdown(scenario: Scenario, rows: list[DesignSummary]) -> str:
    modes = [r.mode for r in rows]
    times = ", ".join(f"{r.mode} {r.seconds:.2f} s" for r in rows)
    lines = [f"`{scenario.source}` ({len(scenario.demands)} demands, {rows[0].mechanism}; cleared in {times})", "",
             "| | " + " | ".join(modes) + " |", "|---|" + "---|" * len(modes)]
    lines += ["| " + " | ".join(c) + " |" for c in table(scenario, rows)]
    if len(scenario.demands) <= DEMANDS_SHOWN_UP_TO:
        lines += ["", "| demand | src -> dst | " + " | ".join(modes) + " |", "|---|---|" + "---|" * len(modes)]
        lines += ["| " + " | ".join(c) + " |" for c in demand_rows(scenario, rows)]
    return "\n".join(lines)


def main(argv=None) -> int:
    from topologies.loader import load_scenario

    parser = argparse.ArgumentParser(description="the open market and the public option side by side, per scenario")
    parser.add_argument("scenarios", nargs="+", metavar="SCENARIO")
    parser.add_argument("--mechanism", help="payment rule (default: each scenario's)")
    parser.add_argument("--markdown", action="store_true", help="markdown tables (as in docs/poc.md)")
    args = parser.parse_args(argv)
    for i, path in enumerate(args.scenarios):
        scenario = load_scenario(path)
        rows = compare_designs(scenario, args.mechanism)
        print(("\n" if i else "") + (markdown(scenario, rows) if args.markdown else render_designs(scenario, rows)),
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
