"""The two designs side by side (``openisp auction --mode all``, docs/poc.md's tables)."""
from __future__ import annotations

import json
from decimal import Decimal

from controller.market.compare import header
from controller.market.designs import compare_designs, main, markdown, render_designs, table
from openisp.cli import main as cli
from topologies.loader import load_scenario


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
