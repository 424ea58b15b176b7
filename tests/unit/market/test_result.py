"""A clearing's result as data and as the JSON of ``openisp auction --json``."""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

from controller.market.result import (DemandAllocation, InvoiceLine, LinkAllocation, MarketResult,
                                      ParticipantSettlement, PathFlow, PocAccount, money)


def a_result() -> MarketResult:
    """Every field with a value of its own, so a key that shows another field's value shows."""
    return MarketResult(
        "vcg", D("4.5"),
        (DemandAllocation("d1", "ha", "hb", 5000, (PathFlow(("l1", "l2"), ("a", "k", "b"), 3000),
                                                   PathFlow(("l3",), ("a", "b"), 2000)), D("1.25")),),
        (LinkAllocation("l1", "p1", 3000, D("0.2")),),
        (ParticipantSettlement("cha", "customer", D("1.25"), D("0"), D("0.05")),
         ParticipantSettlement("p1", "backbone", D("0"), D("3.5"))),
        D("-2.25"), floors_cost=D("0.05"))


def test_the_json_names_every_field_with_its_own_value():
    assert a_result().to_json_dict() == {
        "mechanism": "vcg", "welfare": 4.5,
        "demands": [{"id": "d1", "src": "ha", "dst": "hb", "allocated_kbps": 5000,
                     "paths": [{"links": ["l1", "l2"], "kbps": 3000}, {"links": ["l3"], "kbps": 2000}],
                     "pays": "1.25"}],
        "links": [{"id": "l1", "owner": "p1", "allocated_kbps": 3000, "price_per_mbps": "0.2"}],
        "participants": [{"name": "cha", "role": "customer", "pays": "1.25", "receives": "0", "funded": "0.05"},
                         {"name": "p1", "role": "backbone", "pays": "0", "receives": "3.5", "funded": "0"}],
        "budget_balance": "-2.25", "floors_cost": "0.05"}


def test_poc_mode_adds_its_books_and_invoices():
    account = PocAccount("poc", "vcg", "usage", D("3.5"), D("3"), D("0.7"), D("0"), (("lm", D("3.5")),),
                         (("lm", 5000),), (("lm", D("0.9")),))
    result = replace(a_result(), mode="poc", poc=account,
                     invoices=(InvoiceLine("cha", "lm", D("1.25"), "tariff"), InvoiceLine("lm", "poc", D("3.5"), "fee")))
    out = result.to_json_dict()
    assert (out["mode"], out["poc"]) == ("poc", account.to_json_dict())
    assert out["invoices"] == [{"payer": "cha", "payee": "lm", "amount": "1.25", "for": "tariff"},
                               {"payer": "lm", "payee": "poc", "amount": "3.5", "for": "fee"}]
    assert set(out) - set(a_result().to_json_dict()) == {"mode", "poc", "invoices"}
    assert replace(result, poc=None).to_json_dict()["poc"] is None


def test_totals_and_lookups():
    r = a_result()
    assert (r.collected, r.paid_out) == (D("1.25"), D("3.5"))
    assert r.demand("d1").allocated_kbps == 5000 and r.participant("p1").role == "backbone"
    assert money(0.1 + 0.2) == D("0.300000") and money(D("1.0000005")) == D("1.000000") and money(2) == D("2.000000")
    # A float is rounded as written, half to even, not as its binary value (2.50000000000000002e-06).
    assert money(2.5e-06) == D("0.000002") and money(4.5e-06) == D("0.000004")
