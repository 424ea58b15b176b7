from decimal import Decimal

import pytest

from topologies.errors import ScenarioError
from topologies.loader import load_scenario, load_scenario_text
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
