from decimal import Decimal

import pytest

from topologies.errors import ScenarioError
from topologies.loader import DEFAULT_ACCESS_KBPS, load_scenario, load_scenario_text
from topologies.model import MarketSettings
from topologies.units import parse_money, parse_rate_kbps


def test_default_world_has_what_the_design_asks():
    s = load_scenario("topologies/default.yaml")
    roles = [p.role for p in s.participants]
    assert roles.count("backbone") == 2 and roles.count("last_mile") == 3 and roles.count("content") == 1
    for bb in (p.name for p in s.participants if p.role == "backbone"):
        assert len({sw.city for sw in s.switches if sw.owner == bb}) >= 2
    assert len([h for h in s.hosts if s.participant[h.owner].role == "customer"]) >= 8
    lm = {p.name for p in s.participants if p.role == "last_mile"}
    assert any(s.switch[l.a].owner in lm and s.switch[l.b].owner in lm for l in s.links)
    assert all(str(h.ip).startswith("198.18.") or str(h.ip).startswith("198.19.") for h in s.hosts)
    assert len({p.prefix for p in s.participants if p.prefix}) == 4


def test_model_is_immutable():
    s = load_scenario("topologies/default.yaml")
    with pytest.raises(Exception):
        s.hosts[0].ip = "198.18.0.9"


BAD = """\
name: bad
participants:
  - {name: atlas, role: backbone, prefix: 10.0.0.0/8}
  - {name: x, role: wizard}
switches:
  - {name: s1, owner: atlas, colour: red}
hosts:
  - {name: h1, owner: x, switch: s9}
links:
  - {id: l1, a: s1, b: s2, capacity: -5, owner: atlas}
"""


def test_every_problem_is_reported_at_once_with_line_and_key_path():
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(BAD, "bad.yaml")
    found = {(p.line, p.path) for p in info.value.problems}
    assert (3, "participants[0].prefix") in found
    assert (4, "participants[1].role") in found
    assert (6, "switches[0].colour") in found
    assert (8, "hosts[0].switch") in found
    assert (10, "links[0].b") in found and (10, "links[0].capacity") in found
    assert all(p.file == "bad.yaml" for p in info.value.problems)


def test_missing_file_and_broken_yaml_are_scenario_errors(tmp_path):
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "nope.yaml")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario_text("a: [1, 2\n", "x.yaml")


def test_rates_and_money_are_exact():
    assert parse_rate_kbps("1.5Mbps") == 1500 and parse_rate_kbps("1Gbps") == 1_000_000 and parse_rate_kbps(64) == 64
    for bad in ("fast", 0, -1, "0.5kbps", True):
        with pytest.raises(ValueError):
            parse_rate_kbps(bad)
    assert parse_money("0.10") == Decimal("0.10")
    with pytest.raises(ValueError):
        parse_money(0.1)


def test_library_files_load():
    from pathlib import Path

    for path in Path("topologies/library").glob("*.yaml"):
        assert load_scenario(path).switches


def test_timeline_is_parsed_in_time_order_and_checked():
    s = load_scenario("topologies/library/failover.yaml")
    assert [(e.at_s, e.action, e.target) for e in s.timeline] == [(10.0, "link_down", "fast"), (20.0, "link_up", "fast")]
    bad = """\
name: t
participants:
  - {name: p, role: last_mile, prefix: 198.18.0.0/24}
switches:
  - {name: a, owner: p}
  - {name: b, owner: p}
hosts:
  - {name: x, owner: p, switch: a}
  - {name: y, owner: p, switch: b}
links:
  - {id: l, a: a, b: b, capacity: 1Mbps, owner: p}
offers:
  - {link: l, ask_per_mbps: "0.1"}
timeline:
  - {at_s: 5, action: link_down, link: nope}
  - {at_s: 6, action: offer_change, offer: offer-l, ask_per_mbps: "0.3", colour: red}
  - {at_s: 7, action: demand_add, demand: {id: d9, src: x, dst: zz, max_rate: 1Mbps, value_per_mbps: "1"}}
  - {at_s: 1, action: explode}
"""
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(bad, "t.yaml")
    found = {(p.line, p.path) for p in info.value.problems}
    assert found == {(15, "timeline[0].link"), (16, "timeline[1].colour"), (17, "timeline[2].demand.dst"),
                     (18, "timeline[3].action")}


DEFAULTS = """\
name: defaults
participants:
  - {name: lm, role: last_mile, prefix: 198.18.0.0/24}
  - {name: p2p, role: last_mile, prefix: 198.18.1.0/31}
  - {name: cu, role: customer}
  - {name: shop, role: customer}
switches:
  - {name: a, owner: lm}
  - {name: b, owner: p2p}
hosts:
  - {name: fixed, owner: cu, switch: a, ip: 198.18.0.7, access: 3Mbps}
  - {name: first, owner: cu, switch: b, ip: 198.18.1.0}
  - {name: second, owner: shop, switch: b, ip: 198.18.1.1}
  - name: eightchr
    owner: cu
    attach: [{switch: a, capacity: 1Mbps}, {switch: b, capacity: 2Mbps, latency_ms: 3}]
links:
  - {id: l1, a: a, b: b, capacity: 10Mbps, owner: lm}
  - {id: l2, a: a, b: b, capacity: 10Mbps, owner: lm}
offers:
  - {link: l1, ask_per_mbps: "0.1"}
  - id: cheap
    link: l2
    ask_per_mbps: "0.1"
    capacity: 5Mbps
    tiers: [{up_to: 2Mbps, ask_per_mbps: "0.05"}, {up_to: 5Mbps, ask_per_mbps: "0.2"}]
demands:
  - {src: fixed, dst: first, max_rate: 1Mbps, value_per_mbps: "1", floor: 1Mbps}
  - {src: second, dst: fixed, max_rate: 2Mbps, value_per_mbps: "1", max_latency_ms: 40}
  - {src: eightchr, dst: fixed, max_rate: 1Mbps, value_per_mbps: "1", buyer: shop}
timeline:
  - {at_s: 5, action: offer_change, offer: cheap, ask_per_mbps: "0.3"}
traffic:
  default: {packet_size: 600}
  demands:
    - {demand: d2, pattern: onoff, on_s: 2, off_s: 3}
    - {demand: d1, flows: 4, pattern: poisson, protocol: udp, start_s: 1, stop_s: 5, rate: 2Mbps}
"""


def test_what_a_file_leaves_out_is_filled_in_as_the_language_says():
    s = load_scenario_text(DEFAULTS, "defaults.yaml")
    # addresses as written, both of a /31 included; an unnamed demand is d and its place
    assert [(h.name, str(h.ip)) for h in s.hosts[:3]] == [("fixed", "198.18.0.7"), ("first", "198.18.1.0"),
                                                          ("second", "198.18.1.1")]
    assert [h.access_kbps for h in s.hosts[:2]] == [3000, DEFAULT_ACCESS_KBPS]  # an access link as given, or the default
    d1, d2, d3 = s.demands
    assert [d.id for d in s.demands] == ["d1", "d2", "d3"]
    # a floor equal to max_rate is kept; the buyer is the source host's owner unless named
    assert (d1.floor_kbps, d1.max_kbps, d1.buyer, d1.max_latency_ms) == (1000, 1000, "cu", None)
    assert (d2.buyer, d2.max_latency_ms) == ("shop", 40)
    assert d3.buyer == "shop"
    # an offer sells the whole link under the id offer-LINK
    whole, cheap = s.offers
    assert (whole.id, whole.seller, whole.capacity_kbps, whole.tiers) == ("offer-l1", "lm", 10_000, ())
    assert (cheap.id, cheap.capacity_kbps) == ("cheap", 5000)
    assert [(t.up_to_kbps, t.ask_per_mbps) for t in cheap.tiers] == [(2000, Decimal("0.05")), (5000, Decimal("0.2"))]
    # the timeline knows it, and an event keeps what it changes, nothing else
    assert [(e.at_s, e.action, e.target, e.params) for e in s.timeline] == [
        (5, "offer_change", "cheap", {"ask_per_mbps": Decimal("0.3")})]
    # the traffic's default, and a demand's own pattern over it
    assert s.traffic_default.packet_bytes == 600 and list(s.traffic) == ["d2", "d1"]
    d1_traffic = s.traffic["d1"]
    assert (d1_traffic.flows, d1_traffic.pattern, d1_traffic.protocol, d1_traffic.start_s, d1_traffic.stop_s,
            d1_traffic.rate_kbps, d1_traffic.packet_bytes) == (4, "poisson", "udp", 1, 5, 2000, 600)
    assert s.market == MarketSettings()  # no market section: VCG every 30 s, no floor, declared bids, open
    assert s.emulation.scale == 1.0  # no emulation section: real rates
    # links: 1 ms unless said
    assert [(l.id, l.latency_ms) for l in s.links if l.id in ("l1", "l2")] == [("l1", 1.0), ("l2", 1.0)]
    assert (s.traffic["d2"].pattern, s.traffic["d2"].on_s, s.traffic["d2"].off_s, s.traffic["d2"].packet_bytes) == (
        "onoff", 2, 3, 600)
    assert [sw.city for sw in s.switches][:2] == ["", ""]  # no city given
    # a multihomed host's attachments: links HOST-SWITCH, 1 ms unless said
    attach = {l.id: (l.capacity_kbps, l.latency_ms) for l in s.links if l.id.startswith("eightchr-")}
    assert attach == {"eightchr-a": (1000, 1.0), "eightchr-b": (2000, 3)}


def test_hosts_are_numbered_in_order_past_one_byte_of_mac():
    hosts = "\n".join(f"  - {{name: h{i}, owner: cu, switch: a}}" for i in range(1, 301))
    text = f"""\
name: many
participants:
  - {{name: lm, role: last_mile, prefix: 198.18.0.0/16}}
  - {{name: cu, role: customer}}
switches:
  - {{name: a, owner: lm}}
  - {{name: b, owner: lm}}
hosts:
{hosts}
links:
  - {{id: l1, a: a, b: b, capacity: 10Mbps, owner: lm}}
offers:
  - {{link: l1, ask_per_mbps: "0.1"}}
demands: []
"""
    s = load_scenario_text(text, "many.yaml")
    assert len({h.mac for h in s.hosts}) == 300
    assert [(h.mac, str(h.ip)) for h in (s.hosts[0], s.hosts[255], s.hosts[299])] == [
        ("02:00:00:00:00:01", "198.18.0.1"), ("02:00:00:00:01:00", "198.18.1.0"), ("02:00:00:00:01:2c", "198.18.1.44")]


def test_a_market_section_sets_each_of_its_settings():
    text = DEFAULTS.split("timeline:")[0] + (
        "market: {mechanism: lmp, epoch_s: 12, universal_floor: 64kbps, demand_estimation: measured, "
        "mode: poc}\n")
    m = load_scenario_text(text, "market.yaml").market
    assert (m.mechanism, m.epoch_s, m.universal_floor_kbps, m.demand_estimation, m.mode) == (
        "lmp", 12, 64, "measured", "poc")
