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
