"""Every kind of problem the scenario language promises to catch, with line and key path."""
from __future__ import annotations

import pytest

from topologies.errors import ScenarioError
from topologies.loader import load_scenario_text

GOOD = """\
name: t
participants:
  - {name: lm, role: last_mile, prefix: 198.18.0.0/24}
  - {name: bb, role: backbone}
  - {name: cu, role: customer}
switches:
  - {name: a, owner: lm}
  - {name: b, owner: bb}
hosts:
  - {name: x, owner: cu, switch: a}
  - {name: y, owner: cu, switch: a}
links:
  - {id: l1, a: a, b: b, capacity: 10Mbps, owner: bb}
offers:
  - {link: l1, ask_per_mbps: "0.1"}
demands:
  - {id: d1, src: x, dst: y, max_rate: 1Mbps, value_per_mbps: "1"}
"""

CASES = {
    "unknown key": ("  - {name: b, owner: bb}", "  - {name: b, owner: bb, colour: red}", 8, "switches[1].colour", "unknown key"),
    "unknown reference": ("  - {name: x, owner: cu, switch: a}", "  - {name: x, owner: cu, switch: q}", 10, "hosts[0].switch", "unknown switch"),
    "duplicate": ("  - {name: y, owner: cu, switch: a}", "  - {name: x, owner: cu, switch: a}", 11, "hosts[1].name", "duplicate host"),
    "non-positive capacity": ("capacity: 10Mbps", "capacity: 0Mbps", 13, "links[0].capacity", "positive"),
    "offer of a link not owned": ('  - {link: l1, ask_per_mbps: "0.1"}', '  - {link: l1, seller: lm, ask_per_mbps: "0.1"}', 15, "offers[0].seller", "belongs to 'bb'"),
    "demand between unknown hosts": ("src: x, dst: y", "src: x, dst: zz", 17, "demands[0].dst", "unknown host"),
    "address outside the range": ("prefix: 198.18.0.0/24", "prefix: 10.1.0.0/24", 3, "participants[0].prefix", "outside 198.18.0.0/15"),
    "overlapping prefixes": ("  - {name: bb, role: backbone}", "  - {name: bb, role: backbone, prefix: 198.18.0.128/25}", 4, "participants[1].prefix", "overlaps"),
    "offers selling more than the link": ('  - {link: l1, ask_per_mbps: "0.1"}', '  - {id: o1, link: l1, ask_per_mbps: "0.1", capacity: 6Mbps}\n  - {id: o2, link: l1, ask_per_mbps: "0.2", capacity: 6Mbps}', 16, "offers[1].capacity", "sell 12000 kbps in all"),
    "demand for an unknown buyer": ("src: x, dst: y", "src: x, dst: y, buyer: nobody", 17, "demands[0].buyer", "unknown participant 'nobody'"),
    "host that cannot reach another": ("  - {name: y, owner: cu, switch: a}", "  - {name: y, owner: cu, switch: c}\n  # c is an island", None, None, None),
}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_each_kind_of_problem_is_reported_where_it_is(kind):
    old, new, line, path, words = CASES[kind]
    assert old in GOOD
    text = GOOD.replace(old, new, 1)
    if kind == "host that cannot reach another":
        text = text.replace("  - {name: b, owner: bb}", "  - {name: b, owner: bb}\n  - {name: c, owner: lm}")
        line, path, words = 12, "hosts[1].switch", "cannot reach"
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(text, "t.yaml")
    assert any(p.line == line and p.path == path and words in p.message and p.file == "t.yaml"
               for p in info.value.problems), [str(p) for p in info.value.problems]


def test_the_good_file_is_good():
    assert load_scenario_text(GOOD, "t.yaml").name == "t"
