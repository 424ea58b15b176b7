"""The rules side by side, and the misreport probe, on a market solved by hand."""
from __future__ import annotations

from decimal import Decimal as D

from controller.market import clear_market
from controller.market.compare import compare_mechanisms, main, markdown, misreport, render_comparison, utility

from .helpers import build
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
