"""The two designs side by side (``openisp auction --mode all``, docs/poc.md's tables)."""
from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from decimal import Decimal as D

import pytest

from controller.market import MarketError, clear_market
from controller.market.compare import header
from controller.market.designs import (DEMANDS_SHOWN_UP_TO, _balance, compare_designs, main, markdown, render_designs,
                                       summarise,
                                       table)
from openisp.cli import main as cli
from topologies.loader import load_scenario

from .helpers import help_says


def test_neighbours_stay_off_the_backbone_in_the_open_market_and_cross_it_in_poc_mode():
    s = load_scenario("topologies/default.yaml")
    open_, poc = compare_designs(s, "lmp")
    assert (open_.mode, poc.mode) == ("open", "poc")
    # ana-dev (metro -> lakeside, joined directly): 3 Mbps over at1 in POC mode, none in the open market.
    assert (open_.neighbour_backbone_kbps, poc.neighbour_backbone_kbps) == (0, 3000)
    assert (open_.neighbour_through_kbps, poc.neighbour_through_kbps) == (0, 3000)
    assert poc.backbone_kbps > open_.backbone_kbps
    assert poc.welfare < open_.welfare  # the direct link was cheaper than the core
    assert open_.poc_fees == 0 and poc.poc_fees > 0
    roles = {role: (pays, receives) for role, pays, receives in poc.by_role}
    assert roles["poc"][0] == poc.poc_fees and abs(roles["poc"][1] - roles["poc"][0]) <= Decimal("0.000002")
    assert dict(poc.allocated) == dict(open_.allocated)  # every demand served in both
    cells = {row[0]: row[1:] for row in table(s, [open_, poc])}
    assert cells["... by neighbours' traffic"] == ("0", "3Mbps")
    assert (open_.poc_cost, open_.poc_fees, open_.poc_deficit) == (0, 0, 0)


def test_the_table_names_every_class_and_both_designs():
    s = load_scenario("topologies/library/poc.yaml")
    rows = compare_designs(s)
    text = render_designs(s, rows)
    for label in ("welfare", "demands served", "customers pay / receive", "last miles pay / receive",
                  "backbone owners pay / receive", "POC's cost (its leases)", "POC's fees collected",
                  "POC's deficit (in its fees)", "fund's top-ups (floors; POC: and tariffs above value)",
                  "backbone capacity used", "neighbours' traffic through the backbone", "ann-gus"):
        assert label in text, label
    md = markdown(s, rows)
    assert md.startswith("`topologies/library/poc.yaml` (8 demands, vcg; cleared in open ")
    assert "| ann-gus | a1 -> g2 | 2Mbps | 100kbps |" in md


def test_the_docs_command_prints_markdown(capsys):
    assert main(["--markdown", "topologies/library/local-first.yaml"]) == 0
    assert "| neighbours' traffic through the backbone | 0 | 7Mbps |" in capsys.readouterr().out


def test_openisp_auction_takes_a_mode(capsys):
    assert cli(["auction", "topologies/default.yaml", "--mode", "poc", "--mechanism", "lmp"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("default: lmp in POC mode (poc), welfare ")
    assert "invoices (customer -> access provider -> POC -> backbone owners)" in out
    assert "access fee (usage)" in out and "lease (lmp)" in out
    assert cli(["auction", "topologies/default.yaml", "--mode", "poc", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["mode"] == "poc" and report["invoices"] and report["poc"]["fee_rule"] == "usage"
    assert any("mn-lk" in n for n in report["notes"])
    assert cli(["auction", "topologies/library/poc.yaml", "--mode", "all", "--mechanism", "pay-as-bid"]) == 0
    assert "the two designs side by side (pay-as-bid" in capsys.readouterr().out
    assert cli(["auction", "topologies/library/poc.yaml", "--mode", "all", "--json"]) == 0
    assert [r["mode"] for r in json.loads(capsys.readouterr().out)] == ["open", "poc"]
    assert cli(["auction", "topologies/default.yaml", "--mode", "all", "--mechanism", "all"]) == 2
    assert cli(["auction", "topologies/library/poc.yaml", "--mode", "open"]) == 0
    assert "POC mode" not in capsys.readouterr().out


def test_openisp_auction_shows_latency_against_the_bound(capsys):
    assert cli(["auction", "topologies/library/poc.yaml"]) == 0
    out = capsys.readouterr().out
    assert "14/16ms" in out


def test_in_poc_mode_the_funds_top_ups_are_not_called_the_floors_cost(capsys):
    # abilene: nyu's and cornell's values are below nysernet's at-cost rate; the fund pays the
    # difference though their demands are served far above any floor.
    assert cli(["auction", "topologies/library/abilene.yaml", "--mode", "poc"]) == 0
    out = capsys.readouterr().out
    assert "fund's top-ups (floors and tariffs above value): 60.258707 (universal-service fund" in out
    assert "floors' cost" not in out
    assert cli(["auction", "topologies/library/abilene.yaml", "--mode", "all"]) == 0
    out = capsys.readouterr().out
    assert "fund's top-ups (floors; POC: and tariffs above value)" in out and "floors' cost" not in out
    assert cli(["auction", "topologies/library/abilene.yaml", "--mode", "open"]) == 0
    assert "floors' cost: 0.000000 (universal-service fund, paid by the market operator" in capsys.readouterr().out
    assert "fund's top-ups (floors, tariffs above value)" in header(load_scenario("topologies/library/poc.yaml"))
    assert "floors' cost" in header(load_scenario("topologies/default.yaml"))


def test_the_pocs_fees_are_what_it_collects_not_its_cost():
    # local-first: each fee is rounded on its own; they add up to 7.199999, a micro-unit under the cost.
    s = load_scenario("topologies/library/local-first.yaml")
    rows = compare_designs(s)
    poc = rows[1]
    assert (poc.poc_cost, poc.poc_fees) == (Decimal("7.200000"), Decimal("7.199999"))
    cells = {row[0]: row[1:] for row in table(s, rows)}
    assert cells["POC's fees collected"] == ("-", "7.199999")
    assert cells["POC's cost (its leases)"] == ("-", "7.200000")
    assert ("poc", Decimal("7.200000"), Decimal("7.199999")) in poc.by_role  # the POC pays, receives


def test_mode_all_json_keeps_numbers_numbers_and_lists_lists(capsys):
    # As auction --json: welfare a number, other money exact decimals in strings, rates integers.
    assert cli(["auction", "topologies/library/local-first.yaml", "--mode", "all", "--json"]) == 0
    open_, poc = json.loads(capsys.readouterr().out)
    assert cli(["auction", "topologies/library/local-first.yaml", "--mode", "poc", "--json"]) == 0
    single = json.loads(capsys.readouterr().out)
    assert poc["welfare"] == single["welfare"] == 11.0
    assert poc["floors_cost"] == single["floors_cost"] == "0.000000"
    assert (poc["served"], poc["served_kbps"], poc["backbone_kbps"], poc["neighbour_through_kbps"]) == \
        (4, 13000, 6000, 7000)
    assert (poc["poc_cost"], poc["poc_fees"], poc["balance"]) == ("7.200000", "7.199999", "0.000000")
    assert open_["poc_fees"] == "0.000000" and isinstance(poc["seconds"], float)
    assert poc["allocated"][0] == {"id": "ann-cy", "allocated_kbps": 4000}
    assert {"role": "poc", "pays": "7.200000", "receives": "7.199999"} in poc["by_role"]


LOCAL_FIRST_TABLE = [
    "                                                       open                  poc",
    "-----------------------------------------------------  --------------------  --------------------",
    "welfare                                                12.050000             11.000000",
    "demands served                                         4/4 (13Mbps)          4/4 (13Mbps)",
    "customers pay / receive                                3.350000 / 0.000000   9.800000 / 0.000000",
    "last miles pay / receive                               0.000000 / 19.000000  8.499999 / 11.100000",
    "backbone owners pay / receive                          0.000000 / 7.200000   0.000000 / 7.200000",
    "the POC pay / receive                                  -                     7.200000 / 7.199999",
    "POC's cost (its leases)                                -                     7.200000",
    "POC's fees collected                                   -                     7.199999",
    "POC's deficit (in its fees)                            -                     5.400000",
    "balance (operator, fund)                               -22.850000 (deficit)  0 (balanced)",
    "fund's top-ups (floors; POC: and tariffs above value)  0.000000              0.000000",
    "backbone capacity used                                 6Mbps                 6Mbps",
    "... by neighbours' traffic                             0                     0",
    "neighbours' traffic through the backbone               0                     7Mbps",
]


def test_the_whole_text_cell_by_cell():
    # local-first under VCG: every class but community members; four customers whose
    # payments add up (3.35 in the open market); the POC's deficit (what it paid the
    # backbone owners above their asks) inside its fees.
    s = load_scenario("topologies/library/local-first.yaml")
    rows = compare_designs(s)
    assert [line.rstrip() for line in render_designs(s, rows).splitlines()] == [
        "local-first: the two designs side by side (vcg, money per epoch)", "", *LOCAL_FIRST_TABLE, "",
        "demand  src -> dst  open   poc",
        "------  ----------  -----  -----",
        "ann-cy  h1 -> h3    4Mbps  4Mbps",
        "di-bo   h4 -> h2    3Mbps  3Mbps",
        "bo-ed   h2 -> h5    4Mbps  4Mbps",
        "ed-ann  h5 -> h1    2Mbps  2Mbps",
        "",
        "pay / receive: totals per class; backbone capacity: Mbps times the backbone owners' links crossed; "
        "neighbours: hosts of one access provider, or of two joined by a direct link; through the backbone: "
        "their Mbps on paths that cross a backbone switch or link"]
    md = markdown(s, rows).splitlines()
    assert md[0] == (f"`topologies/library/local-first.yaml` (4 demands, vcg; cleared in open {rows[0].seconds:.2f} s, "
                     f"poc {rows[1].seconds:.2f} s)")
    assert md[1:] == [
        "", "| | open | poc |", "|---|---|---|",
        *("| " + " | ".join(cell.strip() for cell in line.split("  ") if cell.strip()) + " |"
          for line in LOCAL_FIRST_TABLE[2:]),  # the same cells
        "", "| demand | src -> dst | open | poc |", "|---|---|---|---|",
        "| ann-cy | h1 -> h3 | 4Mbps | 4Mbps |", "| di-bo | h4 -> h2 | 3Mbps | 3Mbps |",
        "| bo-ed | h2 -> h5 | 4Mbps | 4Mbps |", "| ed-ann | h5 -> h1 | 2Mbps | 2Mbps |"]
    # Each class's totals are the sums over its members.
    for row, mode in zip(rows, ("open", "poc")):
        result = clear_market(replace(s, market=replace(s.market, mode=mode)))
        for role, pays, receives in row.by_role:
            members = [p for p in result.participants if p.role == role]
            assert (pays, receives) == (sum(p.pays for p in members), sum(p.receives for p in members)), (mode, role)
        assert row.poc_deficit == (result.poc.deficit if result.poc else 0)
    assert 0 < rows[0].seconds < 60 and 0 < rows[1].seconds < 60


def test_worlds_with_many_demands_show_their_totals_only():
    s = load_scenario("topologies/library/local-first.yaml")
    rows = compare_designs(s, "lmp")
    crowded = replace(s, demands=s.demands * 4)  # 16 demands: more than DEMANDS_SHOWN_UP_TO
    assert DEMANDS_SHOWN_UP_TO == 12
    md = markdown(crowded, rows)
    assert "(16 demands, lmp;" in md and "| demand |" not in md and md.endswith("| 0 | 7Mbps |")
    assert "| demand |" in markdown(replace(s, demands=s.demands * 3), [replace(r, allocated=r.allocated * 3) for r in rows])


def test_the_balance_says_which_way():
    assert [_balance(D(x)) for x in ("0", "0.000000", "0.5", "-0.5")] == \
        ["0 (balanced)", "0 (balanced)", "0.5 (surplus)", "-0.5 (deficit)"]


def test_compare_designs_passes_its_options_on():
    with pytest.raises(MarketError, match="unknown formulation"):
        compare_designs(load_scenario("topologies/library/local-first.yaml"), options={"formulation": "nope"})


def test_the_command_prints_each_scenario_in_turn_under_the_rule_asked(capsys):
    paths = ["topologies/library/local-first.yaml", "topologies/library/poc.yaml"]
    assert main(["--mechanism", "pay-as-bid", *paths]) == 0
    texts = [render_designs(s, compare_designs(s, "pay-as-bid")) for s in map(load_scenario, paths)]
    assert capsys.readouterr().out == texts[0] + "\n\n" + texts[1] + "\n"
    help_says(main, capsys, "SCENARIO [SCENARIO ...]", "the open market and the public option side by side, per scenario",
              "payment rule (default: each scenario's)", "markdown tables (as in docs/poc.md)")


def test_one_design_alone_and_a_summary_without_a_clock():
    s = load_scenario("topologies/library/local-first.yaml")
    rows = compare_designs(s, "lmp", modes=("poc",))
    assert render_designs(s, rows).startswith("local-first: the two designs side by side (lmp, money per epoch)")
    assert markdown(s, rows).startswith("`topologies/library/local-first.yaml` (4 demands, lmp; cleared in poc ")
    assert summarise(s, clear_market(s, "lmp")).seconds == 0.0
