"""Random worlds for POC mode, with their ground truth written down as they are made
(which links are the core's, which each access provider owns, who hangs off whom),
so the tests judge the market's paths without the market's own reading of roles;
and a checker of the hierarchical invoices."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from decimal import Decimal

from hypothesis import strategies as st

from controller.market.allocation import arc_cost
from controller.market.network import market_from_scenario
from controller.market.result import FUND
from topologies.loader import build_scenario
from topologies.model import AT_COST

MONEY = Decimal("0.000001")
NOISE = Decimal("1e-18")  # Decimal's 28 digits, summed in another order


@dataclass
class Truth:
    core: set[str] = field(default_factory=set)                 # backbone owners' links
    own: dict[str, set[str]] = field(default_factory=dict)      # access provider -> the links it may use
    member: dict[str, str] = field(default_factory=dict)        # host -> its access provider
    direct: set[str] = field(default_factory=set)               # links between two last miles: never used
    local: dict[str, set[frozenset]] = field(default_factory=dict)  # provider -> switch pairs its own links join
    inside: dict[str, set[str]] = field(default_factory=dict)    # provider -> its links that do not reach the core

    def allowed(self, d, s) -> callable:
        """The rule of POC mode for demand ``d``, from the truth: a predicate on a path's links."""
        a, b = self.member[d.src], self.member[d.dst]
        own = self.own.get(a, set()) | self.own.get(b, set())
        src, dst = s.host[d.src].switch, s.host[d.dst].switch
        if a == b and (src == dst or frozenset((src, dst)) in self.local.get(a, set())):
            inside = self.inside.get(a, set())
            return lambda links: links <= inside  # local first: no hairpin through the core
        return lambda links: links <= own | self.core


ASKS = ["0", "0.05", "0.1", "0.2", "0.4"]
VALUES = ["0.3", "0.6", "1", "1.5", "2.5"]


@st.composite
def poc_worlds(draw):
    """``(scenario data, truth)``: 1-2 backbones of two switches (west, east) and a trunk,
    joined in the west; 2-3 last miles with one switch, attached to 1-2 backbone switches,
    the first two sometimes joined directly; sometimes a content provider attached to the
    core, a host of the first backbone on its own core switch (its owner then buys as well
    as sells), and a small one behind the first last mile; 1-5 demands with now and then a
    floor, a latency bound; tariffs at cost or fixed; a fee rule; a universal floor."""
    t = Truth()
    parts, switches, hosts, links, offers = [], [], [], [], []

    def link(lid, a, b, owner, capacity=None, latency=None, ask=None):
        links.append({"id": lid, "a": a, "b": b, "owner": owner,
                      "capacity": capacity or draw(st.sampled_from([1000, 2000, 4000, 8000])),
                      "latency_ms": latency if latency is not None else draw(st.sampled_from([1, 2, 5, 10]))})
        offers.append({"link": lid, "ask_per_mbps": ask or draw(st.sampled_from(ASKS))})

    core_switches = []
    for i in range(draw(st.integers(1, 2))):
        parts.append({"name": f"bb{i}", "role": "backbone"})
        switches += [{"name": f"b{i}w", "owner": f"bb{i}"}, {"name": f"b{i}e", "owner": f"bb{i}"}]
        core_switches += [f"b{i}w", f"b{i}e"]
        link(f"t{i}", f"b{i}w", f"b{i}e", f"bb{i}")
        t.core.add(f"t{i}")
    if len(core_switches) == 4:
        link("xw", "b0w", "b1w", "bb0", latency=1)
        t.core.add("xw")
    lms = [f"lm{j}" for j in range(draw(st.integers(2, 3)))]
    host_names = []
    for j, lm in enumerate(lms):
        parts.append({"name": lm, "role": "last_mile", "prefix": f"198.18.{j}.0/24"})
        switches.append({"name": f"l{j}", "owner": lm})
        t.own[lm] = set()
        for k, up in enumerate(draw(st.lists(st.sampled_from(core_switches), min_size=1, max_size=2, unique=True))):
            link(f"u{j}{k}", f"l{j}", up, lm)
            t.own[lm].add(f"u{j}{k}")
        for k in range(draw(st.integers(1, 2))):
            parts.append({"name": f"c{j}{k}", "role": "customer"})
            hosts.append({"name": f"h{j}{k}", "owner": f"c{j}{k}", "switch": f"l{j}"})
            t.member[f"h{j}{k}"] = lm
            host_names.append(f"h{j}{k}")
    if draw(st.booleans()):
        link("direct", "l0", "l1", "lm0")
        t.direct.add("direct")
    if draw(st.booleans()):  # a content provider attached to the core
        parts.append({"name": "cdn", "role": "content", "prefix": "198.18.9.0/24"})
        switches.append({"name": "cd", "owner": "cdn"})
        link("cd-up", "cd", draw(st.sampled_from(core_switches)), "cdn")
        t.own["cdn"] = {"cd-up"}
        hosts.append({"name": "cdnh", "owner": "cdn", "switch": "cd"})
        t.member["cdnh"] = "cdn"
        host_names.append("cdnh")
    if draw(st.booleans()):  # bb0 hosts a server on its core switch: a member that also leases
        parts[0]["prefix"] = "198.18.7.0/24"
        hosts.append({"name": "bbh", "owner": "bb0", "switch": "b0e"})
        t.member["bbh"] = "bb0"
        host_names.append("bbh")
    if draw(st.booleans()):  # a small one behind lm0, on lm0's line
        parts.append({"name": "small", "role": "content", "prefix": "198.18.8.0/24"})
        switches.append({"name": "sm", "owner": "small"})
        link("sm-l0", "sm", "l0", "lm0")
        t.own["lm0"].add("sm-l0")
        t.local["lm0"] = {frozenset(("sm", "l0"))}
        t.inside["lm0"] = {"sm-l0"}
        hosts.append({"name": "smh", "owner": "small", "switch": "sm"})
        t.member["smh"] = "lm0"
        host_names.append("smh")
    demands = []
    for i, (src, dst) in enumerate(draw(st.lists(st.sampled_from(list(itertools.permutations(host_names, 2))),
                                                 min_size=1, max_size=5))):
        top = draw(st.sampled_from([500, 1000, 3000]))
        d = {"id": f"d{i}", "src": src, "dst": dst, "max_rate": top, "value_per_mbps": draw(st.sampled_from(VALUES))}
        floor = draw(st.sampled_from([0, 0, 0, 200, top]))
        if floor:
            d["floor"] = floor
        bound = draw(st.sampled_from([None, None, None, 5, 12, 30]))
        if bound:
            d["max_latency_ms"] = bound
        demands.append(d)
    tariffs = [{"provider": lm, "tariff": tariff} for lm in lms
               if (tariff := draw(st.sampled_from(["at_cost", "at_cost", "0.1", "0.5", "1.5"]))) != "at_cost"]
    market = {"mechanism": draw(st.sampled_from(["vcg", "lmp", "pay-as-bid"])), "mode": "poc",
              "universal_floor": draw(st.sampled_from([0, 0, 100, 400])),
              "poc": {"fee": draw(st.sampled_from(["usage", "attachment"])), "tariffs": tariffs}}
    data = {"name": "gen", "participants": parts, "switches": switches, "hosts": hosts, "links": links,
            "offers": offers, "demands": demands, "market": market}
    return build_scenario(data, {}, "gen.yaml"), t


def zeroed(s, truth):
    """The scenario as the POC's LP sees it: a customer whose value is below its last
    mile's fixed tariff does not buy (worth 0 beyond its floors)."""
    out, members = [], set(truth.member.values())
    for d in s.demands:
        member = truth.member.get(d.src) if s.host[d.src].owner == d.buyer else truth.member.get(d.dst)
        tariff = s.market.poc.tariff_of(member) if d.buyer not in members else "at_cost"
        out.append(replace(d, value_per_mbps=Decimal(0)) if tariff != "at_cost" and d.value_per_mbps < tariff else d)
    return replace(s, demands=tuple(out))


def carried_asks(s, r, provider_of) -> dict[tuple[str, str], Decimal]:
    """Per (the member a demand is bought through, the owner of a link it crosses), the
    exact asks of what the owner's links carry for it, read off the result's paths: an
    arc's asks shared among the demands on it by kbps.  Backbone owners' links included."""
    arcs = {(a.link, a.tail): a for a in market_from_scenario(s).arcs}
    load: dict[tuple[str, str], int] = {}
    mine: dict[tuple[str, str], dict[str, int]] = {}
    for d in r.demands:
        member = provider_of(s.demand[d.demand_id].buyer)
        for p in d.paths:
            for hop in zip(p.links, p.switches):
                load[hop] = load.get(hop, 0) + p.kbps
                mine.setdefault(hop, {})[member] = mine.setdefault(hop, {}).get(member, 0) + p.kbps
    out: dict[tuple[str, str], Decimal] = {}
    for hop, by_member in mine.items():
        asks = arc_cost(arcs[hop], load[hop])
        for member, kbps in by_member.items():
            key = (member, arcs[hop].seller)
            out[key] = out.get(key, Decimal(0)) + asks * kbps / load[hop]
    return out


def check_books(s, r) -> None:
    """The hierarchical invoices balance: customer -> access provider (-> other access
    providers) -> POC -> backbone owners; and every link owner receives the asks of what
    it carries.

    Every line is one of five kinds, read off its payer, payee and item: a customer's tariff
    to its access provider, the fund's top-up of a tariff, an access provider's carriage to
    another whose links its demands crossed, an access provider's fee to the POC, the POC's
    lease to a backbone owner.  Margins are reckoned from the lines (an owner with a host on
    its core switch is an access provider too: its lease is no margin)."""
    poc = r.poc
    by_name = {p.name: p for p in r.participants}
    members = {m for m, _ in poc.fees} | {m for m, _ in poc.tariffs}
    for p in r.participants:  # every total is its invoice lines
        assert p.pays == sum((i.amount for i in r.invoices if i.payer == p.name), Decimal(0)), p
        assert p.receives == sum((i.amount for i in r.invoices if i.payee == p.name), Decimal(0)), p
    assert all(i.amount > 0 for i in r.invoices)
    kinds = {"tariff": [], "fund": [], "carriage": [], "fee": [], "lease": []}
    for i in r.invoices:
        kind = ("fund" if i.payer == FUND else "lease" if i.payer == poc.name else
                "fee" if i.payee == poc.name else "carriage" if i.item.startswith("carriage:") else "tariff")
        kinds[kind].append(i)
    buyers = {d.buyer for d in s.demands}
    assert all(s.participant[i.payee].role == "backbone" for i in kinds["lease"])
    assert all(i.payer in buyers and i.payee not in (poc.name, FUND) for i in kinds["tariff"])
    assert all(s.participant[i.payee].role != "backbone" for i in kinds["carriage"])
    total = lambda lines: sum((i.amount for i in lines), Decimal(0))  # noqa: E731
    customers_pay, fund, fees, owners = (total(kinds[k]) for k in ("tariff", "fund", "fee", "lease"))
    providers = ({i.payee for i in kinds["tariff"] + kinds["fund"]} | {i.payer for i in kinds["fee"]}
                 | {i.payer for i in kinds["carriage"]} | {i.payee for i in kinds["carriage"]})
    margin = {m: total(i for i in kinds["tariff"] + kinds["fund"] + kinds["carriage"] if i.payee == m)
              - total(i for i in kinds["fee"] + kinds["carriage"] if i.payer == m) for m in providers}
    # The POC pays the owners its cost, their asks plus its deficit, and its fees recover it:
    # it nets its rounding, half a micro-unit per fee at most.
    assert owners == poc.cost == poc.asks + poc.deficit == by_name[poc.name].pays
    assert fees == by_name[poc.name].receives == poc.cost + poc.rounding
    assert abs(poc.rounding) <= MONEY / 2 * len(poc.fees)
    assert {m: f for m, f in poc.fees if f} == {i.payer: i.amount for i in kinds["fee"]}
    # Through the chain: what customers pay, and the fund for them, reaches the backbone
    # owners as their asks plus the POC's deficit, less the POC's rounding, plus what the
    # access providers keep (tariffs and carriage received less fees and carriage paid).
    assert customers_pay + fund == poc.asks + poc.deficit + poc.rounding + sum(margin.values(), Decimal(0))
    assert fund == r.floors_cost == -r.budget_balance
    assert r.budget_balance == r.collected - r.paid_out
    # Every link owner receives the asks of what it carries: a backbone owner from the POC,
    # an access provider from the provider each demand on its links is bought through
    # (carriage, rounded up), and at cost from its own customers (below).
    provider = {}
    for i in kinds["tariff"] + kinds["fund"]:
        buyer = i.payer if i.payer != FUND else i.item.split(":", 1)[0].removeprefix("for ")
        assert provider.setdefault(buyer, i.payee) == i.payee, buyer
    asks = carried_asks(s, r, lambda buyer: provider.get(buyer, buyer))
    for owner in {o for _, o in asks if s.participant[o].role == "backbone"}:
        owed = sum((a for (_, o), a in asks.items() if o == owner), Decimal(0))
        assert total(i for i in kinds["lease"] if i.payee == owner) >= owed, owner
    for (member, owner), owed in asks.items():
        if member != owner and s.participant[owner].role != "backbone":
            paid = total(i for i in kinds["carriage"] if (i.payer, i.payee) == (member, owner))
            assert owed - NOISE <= paid < owed + MONEY + NOISE, (member, owner, paid, owed)  # rounded up
    # At cost, a provider's customers pay its fee, its carriage and its own links' asks for
    # them, each demand's share rounded up: what its links carry for them is paid in full,
    # and nothing its links carry for others' demands.
    for m in providers & members:
        if s.market.poc.tariff_of(m) == AT_COST and any(i.payee == m for i in kinds["tariff"] + kinds["fund"]):
            own = asks.get((m, m), Decimal(0))
            shares = sum(1 for d in r.demands if d.allocated_kbps and provider.get(s.demand[d.demand_id].buyer) == m)
            kept = (total(i for i in kinds["tariff"] + kinds["fund"] if i.payee == m)
                    - total(i for i in kinds["fee"] + kinds["carriage"] if i.payer == m) - own)
            assert 0 <= kept < MONEY * shares + NOISE, (m, kept, own)
    # No customer pays more than the value it is served, and its demands' payments add up
    # to what it pays; no owner leases below its asks.
    for name in {i.payer for i in kinds["tariff"]}:
        mine = [d for d in r.demands if s.demand[d.demand_id].buyer == name]
        served = sum((s.demand[d.demand_id].value_per_mbps * d.allocated_kbps / 1000 for d in mine), Decimal(0))
        assert by_name[name].pays <= served, name
        if name not in members:
            assert sum((d.pays for d in mine), Decimal(0)) == by_name[name].pays, name
    for i in kinds["lease"]:
        leased = Decimal(i.item.rsplit("asking ", 1)[1])
        assert i.amount >= leased, i


def check_owners_paid(s, r) -> None:
    """The promise of README's "The market", in POC mode with every tariff at cost: no link
    owner receives less than the asks of the capacity allocated on its links (but what they
    carry for demands it buys itself, its own use).  A backbone owner is paid in its lease; an
    access provider by the providers whose demands its links carry (carriage) and, for its own
    customers' demands, by their tariffs, net of what it passes on (its fee, its carriage)."""
    asks = carried_asks(s, r, lambda buyer: buyer)
    sells = {i.payee for i in r.invoices if i.item.startswith("tariff:") or i.payer == FUND}
    for owner in {o for _, o in asks}:
        owed = sum((a for (buyer, o), a in asks.items() if o == owner and buyer != owner), Decimal(0))
        p = r.participant(owner)
        earned = p.receives - (p.pays if owner in sells else 0)
        assert earned >= owed, (owner, earned, owed)
