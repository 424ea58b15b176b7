"""The payment rules side by side, and a probe for gains from misreporting.

``openisp auction SCENARIO --mechanism all`` prints :func:`render_comparison`
of :func:`compare_mechanisms`; the tables of ``docs/market.md`` are made by

    .venv/bin/python -m controller.market.compare --markdown topologies/default.yaml topologies/library/*.yaml

The probe: a participant reports its values (and asks) times a factor, the
market clears again, and its utility is measured at its true values: value
served minus the asks of what it carries, plus what it receives, minus what
it pays.  The largest gain over the participants probed and the factors is
what a rule leaves to a liar (0 for a truthful rule, up to solver noise).

>>> from topologies.loader import load_scenario
>>> rows = compare_mechanisms(load_scenario("topologies/library/community.yaml"), probe=0)
>>> [(r.mechanism, r.balance == r.collected - r.paid_out) for r in rows]
[('vcg', True), ('lmp', True), ('pay-as-bid', True)]
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, replace
from decimal import Decimal

from topologies.model import MECHANISMS, Scenario

from .allocation import arc_cost
from .clearing import clear_market
from .network import market_from_scenario
from .result import MarketResult, money

FACTORS = (Decimal("0.5"), Decimal("0.8"), Decimal("1.25"), Decimal("2"))
#: Markets up to this many demands probe every participant; larger ones the
#: few that trade the most (each probe is a whole clearing).
PROBE_ALL_UP_TO = 50
PROBE_LARGEST = 3


@dataclass(frozen=True)
class Summary:
    mechanism: str
    welfare: Decimal
    collected: Decimal
    paid_out: Decimal
    balance: Decimal       # collected - paid out; negative: a deficit the operator covers
    floors_cost: Decimal   # what the universal-service fund paid (in the balance already)
    probe_gain: Decimal    # the largest gain a misreport found
    probe_by: str          # who gained it, and by which factor ("" when nobody gained)
    probed: int            # participants probed


def misreport(scenario: Scenario, name: str, factor: Decimal) -> Scenario:
    """``scenario`` with ``name``'s values and asks (every tier) times ``factor``."""
    offers = tuple(replace(o, ask_per_mbps=o.ask_per_mbps * factor,
                           tiers=tuple(replace(t, ask_per_mbps=t.ask_per_mbps * factor) for t in o.tiers))
                   if o.seller == name else o for o in scenario.offers)
    demands = tuple(replace(d, value_per_mbps=d.value_per_mbps * factor) if d.buyer == name else d
                    for d in scenario.demands)
    return replace(scenario, offers=offers, demands=demands)


def utility(truth: Scenario, result: MarketResult, name: str) -> Decimal:
    """``name``'s gain from ``result`` at its true values and asks."""
    p = result.participant(name)
    gain = p.receives - p.pays
    for d in result.demands:
        demand = truth.demand[d.demand_id]
        if demand.buyer == name:
            gain += demand.value_per_mbps * d.allocated_kbps / 1000
    market = market_from_scenario(truth)
    arc_of = {(a.link, a.tail): a for a in market.arcs if a.seller == name}
    load: dict[int, int] = {}
    for d in result.demands:
        for path in d.paths:
            for link, tail in zip(path.links, path.switches):
                if (link, tail) in arc_of:
                    index = arc_of[(link, tail)].index
                    load[index] = load.get(index, 0) + path.kbps
    return gain - sum((arc_cost(market.arcs[i], kbps) for i, kbps in load.items()), Decimal(0))


def probed_participants(scenario: Scenario, result: MarketResult, probe: int | None) -> list[str]:
    """Who to probe: everyone who bids or offers in small markets, else the
    ``PROBE_LARGEST`` that trade the most; ``probe`` overrides the count."""
    names = sorted({d.buyer for d in scenario.demands} | {o.seller for o in scenario.offers})
    if probe is None:
        probe = len(names) if len(scenario.demands) <= PROBE_ALL_UP_TO else PROBE_LARGEST
    traded = {p.name: p.pays + p.receives for p in result.participants}
    return sorted(names, key=lambda n: (-traded.get(n, Decimal(0)), n))[:probe]


def probe_misreports(scenario: Scenario, mechanism: str, truthful: MarketResult, names, options=None):
    """(largest gain, who and how) over ``names`` and :data:`FACTORS`."""
    best, by = Decimal(0), ""
    for name in names:
        honest = utility(scenario, truthful, name)
        for factor in FACTORS:
            lied = clear_market(misreport(scenario, name, factor), mechanism, options=options)
            gain = utility(scenario, lied, name) - honest
            if gain > best:
                best, by = gain, f"{name} x{factor}"
    return money(best), by


def compare_mechanisms(scenario: Scenario, mechanisms=MECHANISMS, probe: int | None = None,
                       options: dict | None = None) -> list[Summary]:
    rows = []
    for mechanism in mechanisms:
        r = clear_market(scenario, mechanism, options=options)
        names = probed_participants(scenario, r, probe)
        gain, by = probe_misreports(scenario, mechanism, r, names, options)
        rows.append(Summary(mechanism, r.welfare, r.collected, r.paid_out, r.budget_balance, r.floors_cost,
                            gain, by, len(names)))
    return rows


HEADER = ("mechanism", "welfare", "collected", "paid out", "balance", "floors' cost", "misreport gain")


def header(scenario: Scenario) -> tuple[str, ...]:
    """:data:`HEADER`; in POC mode the fund also pays at-cost tariffs above a customer's
    value, floor or not, and its column says so."""
    if scenario.market.mode != "poc":
        return HEADER
    return tuple("fund's top-ups (floors, tariffs above value)" if h == "floors' cost" else h for h in HEADER)


def _cells(r: Summary) -> tuple[str, ...]:
    balance = "0 (balanced)" if r.balance == 0 else f"{r.balance} ({'surplus' if r.balance > 0 else 'deficit'})"
    gain = f"{r.probe_gain} ({r.probe_by})" if r.probe_by else f"{r.probe_gain}"
    return r.mechanism, str(r.welfare), str(r.collected), str(r.paid_out), balance, str(r.floors_cost), gain


def render_comparison(scenario: Scenario, rows: list[Summary]) -> str:
    """The text table of ``openisp auction SCENARIO --mechanism all``."""
    head = header(scenario)
    cells = [head, *(_cells(r) for r in rows)]
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    probed = rows[0].probed if rows else 0
    lines = [f"{scenario.name}: the payment rules side by side (money per epoch)", "",
             fmt.format(*head), fmt.format(*("-" * w for w in widths)), *(fmt.format(*c) for c in cells[1:]), "",
             f"misreport gain: the most a participant gained by reporting its values and asks times "
             f"{', '.join(map(str, FACTORS))} ({probed} participants probed per rule)"]
    return "\n".join(lines)


def markdown(scenario: Scenario, rows: list[Summary]) -> str:
    cells = [_cells(r) for r in rows]
    lines = [f"`{scenario.source}` ({len(scenario.demands)} demands, {rows[0].probed if rows else 0} participants probed)", "",
             "| " + " | ".join(header(scenario)) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(c) + " |" for c in cells]
    return "\n".join(lines)


def main(argv=None) -> int:
    from topologies.loader import load_scenario

    parser = argparse.ArgumentParser(description="the payment rules side by side, per scenario")
    parser.add_argument("scenarios", nargs="+", metavar="SCENARIO")
    parser.add_argument("--markdown", action="store_true", help="markdown tables (as in docs/market.md)")
    parser.add_argument("--probe", type=int, default=None, help="participants to probe (default: see PROBE_ALL_UP_TO)")
    args = parser.parse_args(argv)
    for i, path in enumerate(args.scenarios):
        scenario = load_scenario(path)
        rows = compare_mechanisms(scenario, probe=args.probe)
        print(("\n" if i else "") + (markdown(scenario, rows) if args.markdown else render_comparison(scenario, rows)),
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
