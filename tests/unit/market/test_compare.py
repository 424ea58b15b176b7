"""The rules side by side, and the misreport probe, on a market solved by hand."""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D
from types import SimpleNamespace

import pytest

from controller.market import MarketError, clear_market
from controller.market.compare import (FACTORS, HEADER, PROBE_ALL_UP_TO, PROBE_LARGEST, Summary, _cells, compare_mechanisms,
                                       header, main, markdown, misreport, probe_misreports, probed_participants,
                                       render_comparison, utility)
from topologies.loader import load_scenario

from .helpers import build, help_says
from .test_hand_cases import floor_held, one_link


def test_misreport_scales_values_and_every_tier_of_one_participant():
    s = build(["a", "b"], [("l1", "a", "b", 4_000, "p1", "0.9", ((1_000, "0.1"),)), ("l2", "a", "b", 1_000, "p2", "0.3")],
              [("d1", "ha", "hb", 4_000, "0.5"), ("d2", "hb", "ha", 1_000, "0.7")])
    lie = misreport(s, "p1", D("2"))
    assert [(o.ask_per_mbps, [t.ask_per_mbps for t in o.tiers]) for o in lie.offers] == [(D("1.8"), [D("0.2")]), (D("0.3"), [])]
    assert lie.demands == s.demands
    lie = misreport(s, "chb", D("0.5"))
    assert [d.value_per_mbps for d in lie.demands] == [D("0.5"), D("0.35")] and lie.offers == s.offers


def test_utility_counts_value_served_asks_carried_and_money():
    s = one_link()  # 5 Mbps at value 1.0 over an ask of 0.2
    r = clear_market(s, "pay-as-bid")
    assert utility(s, r, "cha") == 0 and utility(s, r, "p1") == 0
    r = clear_market(s, "vcg")  # the buyer pays 1.0 for 5.0 of value; the seller gets 5.0 for 1.0 of asks
    assert (utility(s, r, "cha"), utility(s, r, "p1")) == (D("4.000000"), D("4.000000"))


def test_the_probe_finds_what_each_rule_leaves_to_a_liar():
    rows = {r.mechanism: r for r in compare_mechanisms(one_link())}
    # VCG: nobody gains.  LMP: the seller doubling its ask doubles the price (gain 1.0).
    # Pay-as-bid: the buyer halving its value pays 2.5 less, still served.
    assert (rows["vcg"].probe_gain, rows["vcg"].probe_by) == (0, "")
    assert (rows["lmp"].probe_gain, rows["lmp"].probe_by) == (D("1.000000"), "p1 x2")
    assert (rows["pay-as-bid"].probe_gain, rows["pay-as-bid"].probe_by) == (D("2.500000"), "cha x0.5")
    assert rows["vcg"].probed == 2
    assert (rows["vcg"].collected, rows["vcg"].paid_out, rows["vcg"].balance) == (D("1.000000"), D("5.000000"), D("-4.000000"))
    assert (rows["lmp"].balance, rows["pay-as-bid"].balance) == (0, D("4.000000"))


def test_the_table_shows_the_floors_cost_beside_the_balance():
    s = floor_held()
    rows = compare_mechanisms(s, probe=0)
    text = render_comparison(s, rows)
    lines = text.splitlines()
    assert lines[2].split() == ["mechanism", "welfare", "collected", "paid", "out", "balance", "floors'", "cost",
                                "misreport", "gain"]
    assert lines[4].split()[:7] == ["vcg", "-0.200000", "0.050000", "0.250000", "-0.200000", "(deficit)", "0.400000"]
    assert lines[5].split()[:7] == ["lmp", "-0.200000", "0.050000", "0.250000", "-0.200000", "(deficit)", "0.200000"]
    assert lines[6].split()[:6] == ["pay-as-bid", "-0.200000", "0.050000", "0.250000", "-0.200000", "(deficit)"]
    assert "0 participants probed" in text
    table = markdown(s, rows)
    assert "| lmp | -0.200000 | 0.050000 | 0.250000 | -0.200000 (deficit) | 0.200000 | 0.000000 |" in table


def test_a_balanced_rule_says_balanced(capsys):
    rows = {r.mechanism: r for r in compare_mechanisms(one_link(), probe=0)}
    assert "0 (balanced)" in render_comparison(one_link(), list(rows.values())).splitlines()[5]
    assert main(["--probe", "0", "topologies/library/community.yaml"]) == 0
    assert "community: the payment rules side by side" in capsys.readouterr().out


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines()]


def test_the_whole_table_cell_by_cell():
    # one_link under each rule (see test_the_probe_finds_what_each_rule_leaves_to_a_liar):
    # a deficit, a balance and a surplus, a gain nobody found and two that were.
    s = one_link()
    rows = compare_mechanisms(s)
    assert _lines(render_comparison(s, rows)) == [
        "test: the payment rules side by side (money per epoch)",
        "",
        "mechanism   welfare   collected  paid out  balance              floors' cost  misreport gain",
        "----------  --------  ---------  --------  -------------------  ------------  -------------------",
        "vcg         4.000000  1.000000   5.000000  -4.000000 (deficit)  0.000000      0.000000",
        "lmp         4.000000  1.000000   1.000000  0 (balanced)         0.000000      1.000000 (p1 x2)",
        "pay-as-bid  4.000000  5.000000   1.000000  4.000000 (surplus)   0.000000      2.500000 (cha x0.5)",
        "",
        "misreport gain: the most a participant gained by reporting its values and asks times 0.5, 0.8, 1.25, 2 "
        "(2 participants probed per rule)"]
    assert markdown(s, rows).splitlines() == [
        "`<memory>` (1 demands, 2 participants probed)",
        "",
        "| mechanism | welfare | collected | paid out | balance | floors' cost | misreport gain |",
        "|---|---|---|---|---|---|---|",
        "| vcg | 4.000000 | 1.000000 | 5.000000 | -4.000000 (deficit) | 0.000000 | 0.000000 |",
        "| lmp | 4.000000 | 1.000000 | 1.000000 | 0 (balanced) | 0.000000 | 1.000000 (p1 x2) |",
        "| pay-as-bid | 4.000000 | 5.000000 | 1.000000 | 4.000000 (surplus) | 0.000000 | 2.500000 (cha x0.5) |"]


def test_a_surplus_under_one_and_no_rows():
    row = Summary("lmp", D(1), D(1), D("0.5"), D("0.5"), D(0), D(0), "", 0)
    assert _cells(row)[4] == "0.5 (surplus)"
    assert _cells(replace(row, balance=D("-0.5")))[4] == "-0.5 (deficit)"
    # No rule cleared (compare_mechanisms with mechanisms=()): nobody was probed.
    assert render_comparison(one_link(), []).endswith("(0 participants probed per rule)")
    assert markdown(one_link(), []).startswith("`<memory>` (1 demands, 0 participants probed)")


def test_in_poc_mode_only_the_funds_column_changes_its_name():
    s = one_link()
    poc = replace(s, market=replace(s.market, mode="poc"))
    assert header(s) == HEADER
    changed = [(a, b) for a, b in zip(HEADER, header(poc)) if a != b]
    assert changed == [("floors' cost", "fund's top-ups (floors, tariffs above value)")]


def _world(demands: int, traded: dict[str, tuple[int, int]]):
    """A scenario and result as probed_participants reads them: ``demands`` bought by
    b0, b1, ...; offers by the sellers in ``traded`` (name -> pays, receives), which
    are also the result's participants."""
    sellers = [name for name in traded if name.startswith("s")]
    scenario = SimpleNamespace(demands=[SimpleNamespace(buyer=f"b{i % 2}") for i in range(demands)],
                               offers=[SimpleNamespace(seller=name) for name in sellers])
    result = SimpleNamespace(participants=[SimpleNamespace(name=n, pays=D(p), receives=D(r))
                                           for n, (p, r) in traded.items()])
    return scenario, result


def test_large_markets_probe_the_three_that_trade_the_most():
    # s1 only receives, b0 only pays: what counts is money moved either way.  b1 is not
    # among the result's participants (it traded nothing).
    traded = {"s1": (0, 10), "s2": (1, 1), "s3": (0, "0.5"), "b0": (7, 0), "s4": (3, 0)}
    scenario, result = _world(PROBE_ALL_UP_TO, traded)
    assert probed_participants(scenario, result, None) == ["s1", "b0", "s4", "s2", "s3", "b1"]
    scenario, result = _world(PROBE_ALL_UP_TO + 1, traded)
    assert PROBE_LARGEST == 3
    assert probed_participants(scenario, result, None) == ["s1", "b0", "s4"]
    assert probed_participants(scenario, result, 1) == ["s1"]
    assert probed_participants(scenario, result, 0) == []


def test_options_reach_every_clearing():
    bad = {"formulation": "nope"}
    with pytest.raises(MarketError, match="unknown formulation"):
        compare_mechanisms(one_link(), mechanisms=("lmp",), probe=0, options=bad)
    truthful = clear_market(one_link(), "lmp")
    with pytest.raises(MarketError, match="unknown formulation"):
        probe_misreports(one_link(), "lmp", truthful, ["p1"], bad)
    # And a mechanism's probe clears under that mechanism.
    assert probe_misreports(one_link(), "lmp", truthful, ["p1"]) == (D("1.000000"), "p1 x2")


def test_the_probes_clear_with_the_options_given(monkeypatch):
    seen = []

    def recording(scenario, mechanism=None, *, options=None):
        seen.append(options)
        return clear_market(scenario, mechanism, options=options)

    monkeypatch.setattr("controller.market.compare.clear_market", recording)
    compare_mechanisms(one_link(), mechanisms=("lmp",), probe=1, options={"workers": 1})
    assert seen == [{"workers": 1}] * (1 + len(FACTORS))


def test_the_command_prints_each_scenario_in_turn(capsys):
    paths = ["topologies/library/community.yaml", "topologies/library/local-first.yaml"]
    assert main(["--probe", "1", *paths]) == 0
    out = capsys.readouterr().out
    texts = [render_comparison(s, compare_mechanisms(s, probe=1)) for s in map(load_scenario, paths)]
    assert out == texts[0] + "\n\n" + texts[1] + "\n"
    assert main(["--probe", "1", "--markdown", paths[1]]) == 0
    assert capsys.readouterr().out == markdown(load_scenario(paths[1]), compare_mechanisms(load_scenario(paths[1]), probe=1)) + "\n"


def test_the_commands_help_names_its_arguments(capsys):
    help_says(main, capsys, "SCENARIO [SCENARIO ...]", "the payment rules side by side, per scenario",
              "markdown tables (as in docs/market.md)", "participants to probe (default: see PROBE_ALL_UP_TO)")


def test_one_rule_alone():
    s = one_link()
    rows = compare_mechanisms(s, mechanisms=("lmp",), probe=1)
    assert render_comparison(s, rows).endswith("(1 participants probed per rule)")
    assert markdown(s, rows).startswith("`<memory>` (1 demands, 1 participants probed)")
