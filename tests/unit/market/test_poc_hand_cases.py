"""POC mode on worlds small enough to settle by hand: the POC's auction and its
break-even fees, neutral terms, tariffs, the paper's routing, the invoices."""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest

from controller.market import MarketError, clear_market
from controller.market.poc import poc_world
from controller.market.result import PocAccount
from topologies.errors import ScenarioError
from topologies.loader import load_scenario, load_scenario_text

from .pocworlds import check_books

#   (ha) a --ua-- k1 ==one (bp1, 0.2)== k2 --ub-- b (hb)
#                    ==two (bp2, 0.3)==
TWO_CORES = """
name: two-cores
participants:
  - {name: bp1, role: backbone}
  - {name: bp2, role: backbone}
  - {name: la, role: last_mile, prefix: 198.18.1.0/24}
  - {name: lb, role: last_mile, prefix: 198.18.2.0/24}
  - {name: ca, role: customer}
  - {name: cb, role: customer}
switches:
  - {name: k1, owner: bp1}
  - {name: k2, owner: bp1}
  - {name: a, owner: la}
  - {name: b, owner: lb}
hosts:
  - {name: ha, owner: ca, switch: a}
  - {name: hb, owner: cb, switch: b}
links:
  - {id: one, a: k1, b: k2, capacity: 10Mbps, owner: bp1}
  - {id: two, a: k1, b: k2, capacity: 10Mbps, owner: bp2}
  - {id: ua, a: a, b: k1, capacity: 10Mbps, owner: la}
  - {id: ub, a: b, b: k2, capacity: 10Mbps, owner: lb}
offers:
  - {link: one, ask_per_mbps: "0.2"}
  - {link: two, ask_per_mbps: "0.3"}
  - {link: ua, ask_per_mbps: "0"}
  - {link: ub, ask_per_mbps: "0"}
demands:
  - {id: d1, src: ha, dst: hb, max_rate: 5Mbps, value_per_mbps: "1.0"}
market: {mechanism: vcg, mode: poc}
"""


def poc(text: str, **market) -> object:
    s = load_scenario_text(text)
    return replace(s, market=replace(s.market, **market)) if market else s


def test_the_poc_leases_by_vcg_and_recovers_exactly_that_from_the_last_mile_whose_customer_used_it():
    s = poc(TWO_CORES)
    r = clear_market(s)
    assert r.demand("d1").paths[0].links == ("ua", "one", "ub")
    assert r.welfare == D("4.000000")  # 5 Mbps x (1.0 - 0.2)
    # VCG: bp1 gets its asks (1.0) and its contribution, W* 4.0 - W*-bp1 3.5 (the second core): 1.5.
    assert (r.poc.cost, r.poc.asks, r.poc.deficit) == (D("1.500000"), D("1.000000"), D("0.500000"))
    assert dict(r.poc.fees) == {"la": D("1.500000")}  # lb's customer bought nothing: no fee
    assert [(i.payer, i.payee, i.amount) for i in r.invoices] == [
        ("ca", "la", D("1.500000")),  # at cost: la's fee over the 5 Mbps its customer is served
        ("la", "poc", D("1.500000")),
        ("poc", "bp1", D("1.500000"))]
    assert r.budget_balance == 0 and r.participant("bp2").receives == 0
    check_books(s, r)


def test_vcg_measures_an_owner_that_also_buys_against_the_market_without_its_offers_alone():
    # bp1 also sends d2 (2 Mbps) from a host on its core switch.  W* = 7 Mbps x (1.0 - 0.2) = 5.6; without
    # bp1's offers both demands take the second core: 7 x (1.0 - 0.3) = 4.9.  The POC's reverse auction pays
    # bp1 its asks 1.4 plus 0.7, and bp1 pays its fee for d2 as any member.  (Taking d2 out of the
    # counterfactual too, as the open market's pivot does, paid 1.5: its purchase was charged twice.)
    text = TWO_CORES.replace("{name: bp1, role: backbone}", "{name: bp1, role: backbone, prefix: 198.18.7.0/24}")
    text = text.replace("  - {name: hb, owner: cb, switch: b}\n",
                        "  - {name: hb, owner: cb, switch: b}\n  - {name: hk, owner: bp1, switch: k1}\n")
    text = text.replace("market: {", '  - {id: d2, src: hk, dst: hb, max_rate: 2Mbps, value_per_mbps: "1.0"}\nmarket: {')
    s = poc(text)
    r = clear_market(s)
    assert r.welfare == D("5.600000") and (r.poc.cost, r.poc.asks) == (D("2.100000"), D("1.400000"))
    assert dict(r.poc.fees)["bp1"] == D("0.600000")  # 2 of the 7 Mbps through the core
    assert (r.participant("bp1").receives, r.participant("bp1").pays) == (D("2.100000"), D("0.600000"))
    check_books(s, r)


def test_under_the_attachment_rule_every_attached_last_mile_pays_for_its_port():
    s = poc(TWO_CORES, poc=replace(load_scenario_text(TWO_CORES).market.poc, fee="attachment"))
    r = clear_market(s)
    assert dict(r.poc.fees) == {"la": D("0.750000"), "lb": D("0.750000")}  # 10 Mbps each
    assert r.participant("ca").pays == D("0.750000")  # la passes on its fee, at cost
    assert r.participant("lb").receives - r.participant("lb").pays == D("-0.750000")  # no customer to pass it to
    check_books(s, r)


#   (hx, cx 3.0) x --ux-- k1 ==core== k2 --uc-- c (hc, cdn)
#   (hy, cy 1.5) y --uy--/
NEUTRAL = """
name: neutral
participants:
  - {name: bp, role: backbone}
  - {name: lx, role: last_mile, prefix: 198.18.1.0/24}
  - {name: ly, role: last_mile, prefix: 198.18.2.0/24}
  - {name: cdn, role: content, prefix: 198.18.9.0/24}
  - {name: cx, role: customer}
  - {name: cy, role: customer}
switches:
  - {name: k1, owner: bp}
  - {name: k2, owner: bp}
  - {name: x, owner: lx}
  - {name: y, owner: ly}
  - {name: c, owner: cdn}
hosts:
  - {name: hx, owner: cx, switch: x}
  - {name: hy, owner: cy, switch: y}
  - {name: hc, owner: cdn, switch: c}
links:
  - {id: core, a: k1, b: k2, capacity: 20Mbps, owner: bp}
  - {id: ux, a: x, b: k1, capacity: 10Mbps, owner: lx}
  - {id: uy, a: y, b: k1, capacity: 20Mbps, owner: ly}
  - {id: uc, a: c, b: k2, capacity: 20Mbps, owner: cdn}
offers:
  - {link: core, ask_per_mbps: "0.1"}
  - {link: ux, ask_per_mbps: "0.05"}
  - {link: uy, ask_per_mbps: "0.02"}
  - {link: uc, ask_per_mbps: "0.01"}
demands:
  - {id: x-cdn, src: hx, dst: hc, max_rate: 2Mbps, value_per_mbps: "3.0"}
  - {id: y-cdn, src: hy, dst: hc, max_rate: 2Mbps, value_per_mbps: "1.5"}
market:
  mode: poc
  poc: {tariffs: [{provider: lx, tariff: "2.0"}]}
"""


@pytest.mark.parametrize("mechanism", ["vcg", "lmp", "pay-as-bid"])
def test_two_last_miles_with_identical_usage_pay_identical_fees(mechanism):
    # Everything else differs: their customers' values, their tariffs (fixed, at cost), their
    # attachments' capacities and asks, their names.  The fee follows the use alone.
    s = poc(NEUTRAL)
    r = clear_market(s, mechanism)
    fees = dict(r.poc.fees)
    assert fees["lx"] == fees["ly"] > 0 and dict(r.poc.basis_kbps) == {"lx": 2000, "ly": 2000}
    check_books(s, r)
    half = replace(s, demands=(s.demands[0], replace(s.demands[1], max_kbps=1000)))
    fees = dict(clear_market(half, mechanism).poc.fees)
    assert fees["lx"] == 2 * fees["ly"]  # half the use, half the fee


def test_equal_attachments_pay_equal_fees_under_the_attachment_rule():
    s = poc(NEUTRAL.replace("uy, a: y, b: k1, capacity: 20Mbps", "uy, a: y, b: k1, capacity: 10Mbps"),
            poc=replace(load_scenario_text(NEUTRAL).market.poc, fee="attachment"))
    fees = dict(clear_market(s).poc.fees)
    assert fees["lx"] == fees["ly"] and fees["cdn"] == 2 * fees["lx"]  # 10, 10 and 20 Mbps of attachment


def test_a_fixed_tariff_above_the_value_means_the_customer_does_not_buy():
    s = poc(NEUTRAL.replace('tariff: "2.0"', 'tariff: "3.5"'))
    r = clear_market(s)
    assert r.demand("x-cdn").allocated_kbps == 0 and r.demand("y-cdn").allocated_kbps == 2000
    assert r.notes == ("demand x-cdn does not buy: its value 3.0 per Mbps is below lx's tariff 3.5",)
    at_value = clear_market(poc(NEUTRAL.replace('tariff: "2.0"', 'tariff: "3.0"')))  # not below: it buys
    assert at_value.demand("x-cdn").allocated_kbps == 2000 and at_value.notes == ()
    # lx sells nothing at 3.5, and its tariff is still on the books, beside ly's rate at cost.
    assert dict(r.poc.tariffs) == {"lx": D("3.500000"), "ly": D("1.500000")}


def test_at_cost_a_last_mile_earns_exactly_the_asks_of_its_own_links():
    s = poc(NEUTRAL)
    r = clear_market(s)
    ly = r.participant("ly")
    assert ly.receives - ly.pays == D("0.040000")  # uy carries 2 Mbps at 0.02
    lx = r.participant("lx")
    assert lx.receives == D("4.000000")  # its fixed tariff, 2 Mbps at 2.0; its fee is what it is
    assert r.participant("cx").pays == D("4.000000")


def test_the_default_world_in_poc_mode_crosses_the_core_between_last_miles():
    s = load_scenario("topologies/default.yaml")
    r = clear_market(replace(s, market=replace(s.market, mode="poc")))
    assert r.demand("ana-dev").paths[0].switches == ("mn1", "at-nyc", "at-chi", "lk1")  # not mn-lk
    assert r.demand("chloe-ben").paths[0].links == ()  # one last mile, one switch: local
    assert next(l for l in r.links if l.link_id == "mn-lk").allocated_kbps == 0
    assert r.notes == ("POC mode: link mn-lk carries nothing: it joins metro and lakeside directly: in POC mode "
                       "last miles reach each other through the core",)
    assert r.participant("poc").role == "poc" and r.poc.name == "poc"
    # valley's links carry metro's, lakeside's and streamco's demands into valley: they pay their asks
    # (carriage), and valley's customer gus pays only for his own, no longer above his value.
    assert {i.payer for i in r.invoices if i.payee == "valley" and i.item.startswith("carriage")} == \
        {"metro", "lakeside", "streamco"}
    # Carriage invoices in the scenario's order of participants, payer then payee (not by name).
    assert [(i.payer, i.payee) for i in r.invoices if i.item.startswith("carriage")] == [
        ("metro", "lakeside"), ("metro", "valley"), ("lakeside", "valley"), ("valley", "metro"),
        ("streamco", "lakeside"), ("streamco", "valley")]
    assert r.participant("gus").funded == 0 and r.floors_cost == 0
    assert "poc" in r.to_json_dict() and r.to_json_dict()["mode"] == "poc"


def test_a_community_home_hangs_off_its_last_mile_and_its_rooftop_link_sells_nothing():
    s = load_scenario("topologies/library/community.yaml")
    w = poc_world(s)
    assert w.members == ("bigisp",) and w.host_member["fred1"] == "bigisp" and "mesh" in w.idle
    r = clear_market(replace(s, market=replace(s.market, mode="poc")))
    assert r.demand("fred-gail").paths[0].switches == ("home1", "acc1", "isp-core", "acc2", "home2")
    assert r.participant("dana").receives == 0 and r.participant("fred").pays > 0
    assert r.notes == ("POC mode: link mesh carries nothing: dana owns it, neither a backbone nor the access "
                       "provider of its switches: in POC mode only the POC buys capacity, from backbone owners",)


def test_a_content_provider_behind_a_last_mile_pays_its_tariff_not_a_fee():
    r = clear_market(load_scenario("topologies/library/poc.yaml"))
    assert any(i.payer == "indie" and i.payee == "beta" and i.item.startswith("tariff") for i in r.invoices)
    assert "indie" not in dict(r.poc.fees) and "flix" in dict(r.poc.fees)


def test_a_host_on_a_core_switch_makes_its_owner_a_member():
    text = NEUTRAL.replace("{name: hc, owner: cdn, switch: c}", "{name: hc, owner: cdn, switch: k2}")
    s = poc(text)
    w = poc_world(s)
    assert w.host_member["hc"] == "cdn" and "cdn" in w.members
    check_books(s, clear_market(s))
    # Its attachment: its link to the core (uc, 20 Mbps) and each of its hosts' access links on the core.
    two = text.replace("  - {name: hy, owner: cy, switch: y}\n",
                       "  - {name: hy, owner: cy, switch: y}\n  - {name: hc2, owner: cdn, switch: k1}\n")
    assert dict(poc_world(poc(two)).attachment_kbps) == {"lx": 10_000, "ly": 20_000, "cdn": 220_000}


def test_each_link_to_the_core_counts_in_an_attachment_and_a_link_may_be_written_either_way_round():
    text = open("topologies/library/poc.yaml").read()
    w = poc_world(load_scenario_text(text))
    assert dict(w.attachment_kbps) == {"alpha": 20_000, "beta": 20_000, "gamma": 20_000, "flix": 40_000}  # fx-n, fx-s
    assert w.domain["in1"] == "beta" and w.host_member["ind"] == "beta"  # indie sits behind beta's line
    turned = poc_world(load_scenario_text(text.replace("{id: in-b, a: in1, b: be1", "{id: in-b, a: be1, b: in1")))
    assert turned.domain["in1"] == "beta" and turned.host_member["ind"] == "beta"
    assert turned.members == w.members == ("alpha", "beta", "gamma", "flix")


def test_without_a_backbone_last_miles_cannot_reach_each_other():
    s = load_scenario("topologies/library/closedloop.yaml")
    r = clear_market(replace(s, market=replace(s.market, mode="poc")))
    assert all(d.allocated_kbps == 0 for d in r.demands) and r.welfare == 0
    assert r.notes == (
        "POC mode: link shared carries nothing: it joins westnet and eastnet directly: in POC mode last miles "
        "reach each other through the core",
        "demand video cannot be served in POC mode: no path it may use joins its hosts",
        "demand bulk cannot be served in POC mode: no path it may use joins its hosts (its floor is dropped)",
        "host w1: POC mode drops its universal floor: no demand it sends has a path it may use",
        "host w2: POC mode drops its universal floor: no demand it sends has a path it may use")


def test_the_pocs_name_may_not_be_a_participants():
    s = poc(TWO_CORES)
    with pytest.raises(MarketError, match="named 'la', like a participant"):
        clear_market(replace(s, market=replace(s.market, poc=replace(s.market.poc, name="la"))))
    with pytest.raises(ScenarioError, match="market.poc.name: the public option is named 'la'"):
        load_scenario_text(TWO_CORES.replace("mode: poc}", "mode: poc, poc: {name: la}}"))


def test_poc_mode_needs_the_path_formulation():
    with pytest.raises(MarketError, match=r"^POC mode restricts each demand's links: only the path formulation "
                                          r"\(the default\) can$"):
        clear_market(poc(TWO_CORES), options={"formulation": "arcs"})


def test_the_data_plane_takes_a_poc_plan_as_it_is():
    from controller.planner import build_plan

    s = load_scenario("topologies/library/poc.yaml")
    plan = build_plan(s, "market")
    assert plan.result.mode == "poc" and plan.allocated_kbps["game"] == 2000
    assert plan.paths["game"] == [["al1", "nb-w", "nb-e", "ga1"]]


def test_a_poc_clearing_settles_in_the_ledger(tmp_path):
    from controller.ledger import Ledger, verify

    s = load_scenario("topologies/library/poc.yaml")
    r = clear_market(s)
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        assert ledger.settle(1, r, s)
        invoices = {i.participant: i for i in ledger.invoices(epoch=1)}
    assert invoices["poc"].pays == r.poc.cost and invoices["northbone"].receives > 0
    assert verify(tmp_path / "ledger.sqlite").ok


#   (h1 h2) a --ua-- k1 --ub-- b (hb)         k1 ==t (bp, 1 Mbps)== k2 --uc-- c (hc)
FLOORS = """
name: floors
participants:
  - {name: bp, role: backbone}
  - {name: la, role: last_mile, prefix: 198.18.1.0/24}
  - {name: lb, role: last_mile, prefix: 198.18.2.0/24}
  - {name: lc, role: last_mile, prefix: 198.18.3.0/24}
  - {name: c1, role: customer}
  - {name: c2, role: customer}
  - {name: cb, role: customer}
  - {name: cc, role: customer}
switches:
  - {name: k1, owner: bp}
  - {name: k2, owner: bp}
  - {name: a, owner: la}
  - {name: b, owner: lb}
  - {name: c, owner: lc}
hosts:
  - {name: h1, owner: c1, switch: a}
  - {name: h2, owner: c2, switch: a}
  - {name: hb, owner: cb, switch: b}
  - {name: hc, owner: cc, switch: c}
links:
  - {id: t, a: k1, b: k2, capacity: 1Mbps, owner: bp}
  - {id: ua, a: a, b: k1, capacity: 1Mbps, owner: la}
  - {id: ub, a: b, b: k1, capacity: 1Mbps, owner: lb}
  - {id: uc, a: c, b: k2, capacity: 1Mbps, owner: lc}
offers:
  - {link: t, ask_per_mbps: "0"}
  - {link: ua, ask_per_mbps: "0"}
  - {link: ub, ask_per_mbps: "0"}
  - {link: uc, ask_per_mbps: "0"}
demands:
  - {id: dA, src: h1, dst: hb, max_rate: 1Mbps, value_per_mbps: "0.3"}
  - {id: dB, src: h2, dst: hb, max_rate: 1Mbps, value_per_mbps: "0.6"}
  - {id: dC, src: hb, dst: hc, max_rate: 500kbps, value_per_mbps: "0.3"}
market: {mechanism: vcg, mode: poc, universal_floor: 100kbps}
"""


def test_vcg_measures_a_backbone_owner_against_the_poc_market_without_it():
    # W* = dB 0.9 Mbps x 0.6 + dA at h1's floor 0.1 x 0.3 + dC 0.5 x 0.3 = 0.72.  Without bp, dC has no
    # path: POC mode drops hb's universal floor and keeps h1's, so W*-bp = 0.57 and bp earns 0.15.
    # (Relaxing every floor instead would give 0.6, and 0.12.)
    r = clear_market(load_scenario_text(FLOORS))
    assert r.welfare == D("0.720000") and r.participant("bp").receives == D("0.150000")


def test_the_poc_never_leases_below_the_asks():
    # A floor forces 500 kbps over t at 0.5 per Mbps for a demand worth 0.1: VCG alone would pay bp
    # its asks 0.25 less the welfare the floor destroys, 0.2.  The POC pays the asks.
    text = FLOORS.replace('{link: t, ask_per_mbps: "0"}', '{link: t, ask_per_mbps: "0.5"}').replace(
        'value_per_mbps: "0.3"}\nmarket', 'value_per_mbps: "0.1", floor: 500kbps}\nmarket')
    s = load_scenario_text(text)
    r = clear_market(s)
    assert r.participant("bp").receives == D("0.250000") and r.poc.deficit == 0
    assert any(n.startswith("the POC pays bp its asks, 0.250000: the rule paid 0.050000") for n in r.notes)
    check_books(s, r)


def test_one_last_mile_keeps_its_own_traffic_even_when_its_core_attachments_are_cheaper():
    # la has two switches joined by its own link (0.5 per Mbps) and both attached to the core at no cost:
    # in the paper, a last mile carries its own customers' traffic; it does not hairpin through the POC.
    text = FLOORS.replace("  - {name: c, owner: lc}\n", "  - {name: c, owner: lc}\n  - {name: a2, owner: la}\n").replace(
        "  - {id: uc, a: c, b: k2, capacity: 1Mbps, owner: lc}\n",
        "  - {id: uc, a: c, b: k2, capacity: 1Mbps, owner: lc}\n  - {id: own, a: a, b: a2, capacity: 1Mbps, owner: la}\n"
        "  - {id: ua2, a: a2, b: k1, capacity: 1Mbps, owner: la}\n").replace(
        '  - {link: uc, ask_per_mbps: "0"}\n',
        '  - {link: uc, ask_per_mbps: "0"}\n  - {link: own, ask_per_mbps: "0.5"}\n  - {link: ua2, ask_per_mbps: "0"}\n').replace(
        "  - {name: hc, owner: cc, switch: c}\n", "  - {name: hc, owner: cc, switch: c}\n  - {name: h3, owner: cc, switch: a2}\n")
    text = text.replace("demands:\n", "demands:\n  - {id: local, src: h3, dst: h1, max_rate: 500kbps, value_per_mbps: \"1\"}\n")
    s = load_scenario_text(text)
    assert clear_market(s).demand("local").paths[0].links == ("own",)
    opened = clear_market(replace(s, market=replace(s.market, mode="open")))
    assert opened.demand("local").paths[0].links == ("ua2", "ua")  # the open market takes the cheaper way


def test_the_pocs_books_in_json_name_every_field():
    account = PocAccount("poc", "lmp", "attachment", D("7.2"), D("1.8"), D("0.55"), D("-0.000001"),
                         (("north", D("4.4")), ("south", D("2.799999"))), (("north", 8000), ("south", 5000)),
                         (("north", D("0.75")), ("south", D("0.8"))))
    assert account.to_json_dict() == {
        "name": "poc", "mechanism": "lmp", "fee_rule": "attachment", "cost": "7.2", "asks": "1.8",
        "deficit": "5.4", "fee_per_mbps": "0.55", "rounding": "-0.000001",
        "fees": {"north": "4.4", "south": "2.799999"}, "basis_kbps": {"north": 8000, "south": 5000},
        "tariffs": {"north": "0.75", "south": "0.8"}}
