"""The universal-service fund's top-ups (fund.py), settled by hand."""
from __future__ import annotations

from decimal import Decimal as D

from controller.market.fund import fund_shortfalls


def test_a_customer_charged_above_its_value_pays_its_value():
    out, funded = fund_shortfalls({"cha": (D("0.717"), D(0))}, {"cha": D("0.474")}, {})
    assert out == {"cha": (D("0.474000"), D("0.000000"))} and funded == {"cha": D("0.243000")}


def test_a_provider_paid_below_its_asks_receives_its_asks():
    out, funded = fund_shortfalls({"p1": (D(0), D("0.5"))}, {}, {"p1": D("1.0")})
    assert out == {"p1": (D("0.000000"), D("1.000000"))} and funded == {"p1": D("0.500000")}


def test_a_party_that_buys_and_sells_first_pays_less_then_receives_more():
    # It pays 0.3 and receives 0.1 for 0.2 of value served and 0.4 of asks sold: it needs a net
    # 0.2 and has -0.2, so 0.4 short: its 0.3 payment goes, then 0.1 more is received.
    out, funded = fund_shortfalls({"lm": (D("0.3"), D("0.1"))}, {"lm": D("0.2")}, {"lm": D("0.4")})
    assert out == {"lm": (D("0.000000"), D("0.200000"))} and funded == {"lm": D("0.400000")}


def test_nobody_whole_already_is_topped_up_and_everyone_is_reported():
    transfers = {"cha": (D("0.4"), D(0)), "p1": (D(0), D("1.2"))}
    out, funded = fund_shortfalls(transfers, {"cha": D("0.4"), "chb": D("0.1")}, {"p1": D("1.2"), "p2": D(0)})
    assert funded == {}
    # A participant the rule gave nothing is still in the books, at zero; names are sorted.
    assert list(out) == ["cha", "chb", "p1", "p2"]
    assert out["chb"] == out["p2"] == (D("0.000000"), D("0.000000")) and out["p1"] == (D("0.000000"), D("1.200000"))


def test_a_top_up_is_rounded_up_to_the_money_unit():
    # 0.0000001 short is a millionth topped up, not nothing: the guarantee holds exactly.
    out, funded = fund_shortfalls({"cha": (D("0.5000001"), D(0))}, {"cha": D("0.5")}, {})
    assert funded == {"cha": D("0.000001")} and out["cha"] == (D("0.499999"), D("0.000000"))  # at most its value
