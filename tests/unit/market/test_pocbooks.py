"""The POC's books line by line: every invoice's words and amounts on the hand worlds of
``test_poc_hand_cases.py``, and the fee and lease rules on their own."""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest

from controller.market import clear_market
from controller.market.pocbooks import at_least_asks, break_even_fees
from topologies.loader import load_scenario, load_scenario_text

from .test_poc_hand_cases import NEUTRAL, TWO_CORES, poc


def lines(r):
    return [(i.payer, i.payee, str(i.amount), i.item) for i in r.invoices]


def test_every_invoice_of_a_neutral_world_says_what_it_is_for():
    # lx sells at a tariff of 2.0; ly at cost: its fee, its own link's asks and the carriage it
    # pays, over the 2 Mbps it serves (2.235 per Mbps), above what cy's 1.5 is worth: the fund pays the rest.
    r = clear_market(poc(NEUTRAL), "vcg")
    assert lines(r) == [
        ("cx", "lx", "4.000000", "tariff: 2Mbps at 2.000000 per Mbps"),
        ("cy", "ly", "3.000000", "tariff: 2Mbps at 2.235000 per Mbps"),
        ("universal-service fund", "ly", "1.470000", "for cy: the tariff above the value it is served"),
        ("lx", "cdn", "0.020000", "carriage: 2Mbps on its links for demands bought through lx, at its asks"),
        ("ly", "cdn", "0.020000", "carriage: 2Mbps on its links for demands bought through ly, at its asks"),
        ("lx", "poc", "4.410000", "access fee (usage): 2Mbps of demand through the core at 2.205000 per Mbps"),
        ("ly", "poc", "4.410000", "access fee (usage): 2Mbps of demand through the core at 2.205000 per Mbps"),
        ("poc", "bp", "8.820000", "lease (vcg): 4Mbps on its links, asking 0.400000")]
    account = r.poc
    assert (account.fee_per_mbps, account.cost, account.asks, account.rounding) == \
        (D("2.205000"), D("8.820000"), D("0.400000"), D("0.000000"))
    assert dict(account.tariffs) == {"lx": D("2.000000"), "ly": D("2.235000")}
    assert dict(account.basis_kbps) == {"lx": 2000, "ly": 2000}
    assert (r.participant("cy").funded, r.participant("cx").funded) == (D("1.470000"), 0)
    assert (r.participant("poc").pays, r.participant("poc").receives, r.participant("poc").funded) == \
        (D("8.820000"), D("8.820000"), 0)


def test_the_attachment_rule_says_so_on_every_fee_and_prices_each_mbps_of_port():
    s = poc(TWO_CORES, poc=replace(load_scenario_text(TWO_CORES).market.poc, fee="attachment"))
    r = clear_market(s, "vcg")
    assert lines(r) == [
        ("ca", "la", "0.750000", "tariff: 5Mbps at 0.150000 per Mbps"),
        ("la", "poc", "0.750000", "access fee (attachment): 10Mbps of attachment at 0.075000 per Mbps"),
        ("lb", "poc", "0.750000", "access fee (attachment): 10Mbps of attachment at 0.075000 per Mbps"),
        ("poc", "bp1", "1.500000", "lease (vcg): 5Mbps on its links, asking 1.000000")]
    assert dict(r.poc.tariffs) == {"la": D("0.150000")}


def test_break_even_fees_share_the_cost_by_basis_and_price_each_mbps():
    fees, price, notes = break_even_fees(D("1.5"), {"la": 4000, "lb": 1000}, ["la", "lb"])
    assert (fees, price, notes) == ({"la": D("1.200000"), "lb": D("0.300000")}, D("0.300000"), [])
    assert break_even_fees(D("0"), {"la": 4000}, ["la"]) == ({}, D("0.000000"), [])
    assert break_even_fees(D("0"), {}, ["la"]) == ({}, D("0.000000"), [])


def test_a_cost_no_demand_through_the_core_explains_is_shared_equally_and_said():
    fees, price, notes = break_even_fees(D("0.9"), {}, ["la", "lb", "lc"])
    assert fees == {"la": D("0.300000"), "lb": D("0.300000"), "lc": D("0.300000")} and price == D("0.000000")
    assert notes == ["no access provider's demand passed through the core: the POC's cost is shared equally"]


def test_no_lease_pays_below_its_asks_rounded_up_to_the_micro_unit():
    class Alloc:
        cost = {"bp1": D("0.1000001"), "bp2": D("0.2")}

    out, notes = at_least_asks({"bp1": D("0.1"), "bp2": D("0.2"), "bp3": D("0.05")}, Alloc())
    assert out == {"bp1": D("0.100001"), "bp2": D("0.200000"), "bp3": D("0.050000")}
    assert notes == ["the POC pays bp1 its asks, 0.100001: the rule paid 0.1 (floors force a loss)"]


def test_the_poc_leases_by_each_rule_and_its_invoices_say_which():
    # 15 Mbps through two cores of 10: one (bp1, 0.2) is full, two (bp2, 0.3) carries 5 and sets the price.
    text = (TWO_CORES.replace("{id: ua, a: a, b: k1, capacity: 10Mbps", "{id: ua, a: a, b: k1, capacity: 30Mbps")
            .replace("{id: ub, a: b, b: k2, capacity: 10Mbps", "{id: ub, a: b, b: k2, capacity: 30Mbps")
            .replace("max_rate: 5Mbps", "max_rate: 15Mbps"))
    leases = {  # VCG: the asks plus W* 11.5 less 7.0 without bp1, less 8.0 without bp2; LMP: 0.3 a Mbps
        "vcg": ("6.500000", "5.000000"), "lmp": ("3.000000", "1.500000"), "pay-as-bid": ("2.000000", "1.500000")}
    for mechanism, (bp1, bp2) in leases.items():
        r = clear_market(poc(text), mechanism)
        assert [line for line in lines(r) if line[0] == "poc"] == [
            ("poc", "bp1", bp1, f"lease ({mechanism}): 10Mbps on its links, asking 2.000000"),
            ("poc", "bp2", bp2, f"lease ({mechanism}): 5Mbps on its links, asking 1.500000")]
        assert r.poc.cost == D(bp1) + D(bp2) and r.poc.asks == D("3.500000")
        assert r.timings.get("re_solves") == (2 if mechanism == "vcg" else None)
        assert r.notes == ()


def test_a_customer_priced_out_by_a_tariff_keeps_its_floors_and_is_told_so():
    r = clear_market(load_scenario("topologies/library/poc.yaml"), "vcg")
    assert r.notes == ("demand ann-gus does not buy: its value 0.50 per Mbps is below alpha's tariff 0.70 "
                       "(it keeps its floors)",)


def test_a_backbone_without_which_the_floors_fail_is_measured_with_floors_relaxed_and_it_is_said():
    text = (TWO_CORES.replace("{id: ua, a: a, b: k1, capacity: 10Mbps", "{id: ua, a: a, b: k1, capacity: 30Mbps")
            .replace("{id: ub, a: b, b: k2, capacity: 10Mbps", "{id: ub, a: b, b: k2, capacity: 30Mbps")
            .replace("max_rate: 5Mbps", "max_rate: 15Mbps, floor: 12Mbps"))  # one core alone carries 10
    r = clear_market(poc(text), "vcg")
    assert r.notes == tuple(f"without {b} the floors cannot be met; its contribution is measured against the "
                            "market with floors relaxed" for b in ("bp1", "bp2"))
    assert (r.participant("bp1").receives, r.participant("bp2").receives) == (D("6.500000"), D("5.000000"))


@pytest.mark.parametrize("mode", ["open", "poc"])
@pytest.mark.parametrize("mechanism", ["vcg", "lmp", "pay-as-bid"])
def test_a_clearing_times_each_of_its_steps(mode, mechanism):
    # What `openisp auction` and the benchmarks print: build, solve and payments, within the total.
    s = poc(TWO_CORES)
    s = replace(s, market=replace(s.market, mode=mode))
    timings = clear_market(s, mechanism).timings
    steps = [timings[k] for k in ("build_s", "solve_s", "payments_s")]
    assert all(0 <= t for t in steps) and 0 < timings["total_s"] < 60
    assert sum(steps) <= timings["total_s"] + 1e-6
    assert timings["total_s"] - sum(steps) < 0.5  # nothing else of note in between



def test_a_customer_buying_through_two_access_providers_pays_both():
    # cx also has a host behind ly (at cost): it pays lx's tariff for x-cdn and ly's rate for x2-cdn.
    text = (NEUTRAL.replace("  - {name: hc, owner: cdn, switch: c}\n",
                            "  - {name: hc, owner: cdn, switch: c}\n  - {name: hx2, owner: cx, switch: y}\n")
            .replace("market:\n", '  - {id: x2-cdn, src: hx2, dst: hc, max_rate: 2Mbps, value_per_mbps: "1.0"}\n'
                                  "market:\n"))
    r = clear_market(poc(text), "vcg")
    tariffs = [line for line in lines(r) if line[0] == "cx"]
    assert tariffs == [("cx", "lx", "4.000000", "tariff: 2Mbps at 2.000000 per Mbps"),
                       ("cx", "ly", "2.000000", "tariff: 2Mbps at 1.823333 per Mbps")]
    cx = r.participant("cx")
    assert (cx.pays, cx.funded) == (D("6.000000"), D("1.646667"))  # x2-cdn's 3.646667 is above its value 2.0
    assert r.participant("ly").receives == D("3.000000") + D("0.646667") + D("2.000000") + D("1.646667")
