"""The one graph of a scenario: typed ports, and one shortest-path rule everywhere."""
from __future__ import annotations

import itertools

from topologies.graph import Port
from topologies.loader import load_scenario, load_scenario_text

SAME_NAME = """
name: same-name
participants:
  - {name: p, role: backbone}
  - {name: lm, role: last_mile, prefix: 198.18.0.0/24}
switches:
  - {name: a, owner: lm}
  - {name: b, owner: p}
hosts:
  - {name: up, owner: lm, switch: a}
  - {name: x, owner: lm, switch: b}
links:
  - {id: up, a: a, b: b, capacity: 1Mbps, owner: lm}
"""

# Two routes of 0.8 ms and two hops from s to t: via m1 (links l-b...) or via m2 (links l-a...).
# In floating point 0.1 + 0.7 < 0.3 + 0.5; in whole microseconds they tie.
TIE = """
name: tie
participants:
  - {name: p, role: backbone}
  - {name: lm, role: last_mile, prefix: 198.18.0.0/24}
switches:
  - {name: s, owner: lm}
  - {name: m1, owner: p}
  - {name: m2, owner: p}
  - {name: t, owner: lm}
hosts:
  - {name: hs, owner: lm, switch: s}
  - {name: ht, owner: lm, switch: t}
links:
  - {id: l-b1, a: s, b: m1, capacity: 1Mbps, latency_ms: 0.1, owner: p}
  - {id: l-b2, a: m1, b: t, capacity: 1Mbps, latency_ms: 0.7, owner: p}
  - {id: l-a1, a: s, b: m2, capacity: 1Mbps, latency_ms: 0.3, owner: p}
  - {id: l-a2, a: m2, b: t, capacity: 1Mbps, latency_ms: 0.5, owner: p}
"""


def test_a_host_and_a_link_of_one_name_get_their_own_ports():
    s = load_scenario_text(SAME_NAME)
    g = s.graph
    assert g.host_port("up") == Port("a", 1, "host", "up")
    assert g.link_port("a", "up") == Port("a", 2, "link", "up")
    assert g.port_at("a", 1).kind == "host" and g.port_at("a", 2).kind == "link"
    assert g.far_end(g.link_port("a", "up")) == ("b", 2)


def test_every_port_of_a_switch_is_numbered_once_hosts_first():
    s = load_scenario("topologies/default.yaml")
    for sw in s.switches:
        mine = [p for p in s.graph.ports() if p.switch == sw.name]
        assert sorted(p.number for p in mine) == list(range(1, len(mine) + 1))
        kinds = [p.kind for p in sorted(mine, key=lambda p: p.number)]
        assert kinds == sorted(kinds, key=["host", "link"].index)


def test_equal_latency_and_hops_break_ties_by_link_ids_from_the_destination():
    s = load_scenario_text(TIE)
    assert s.graph.shortest_path("s", "t") == (("s", "m2", "t"), ("l-a1", "l-a2"))
    assert s.graph.shortest_path("t", "s") == (("t", "m2", "s"), ("l-a2", "l-a1"))


def test_a_path_is_the_route_its_destination_tree_gives():
    s = load_scenario("topologies/library/abilene.yaml")
    g = s.graph
    for a, b in itertools.permutations([sw.name for sw in s.switches], 2):
        switches, links = g.shortest_path(a, b)
        towards = g.tree_towards(b)
        assert all(towards[u] == (l, v) for u, v, l in zip(switches, switches[1:], links))


def test_lower_latency_beats_fewer_hops_and_links_can_be_left_out():
    s = load_scenario("topologies/default.yaml")
    g = s.graph
    assert g.shortest_path("mn1", "lk1") == (("mn1", "lk1"), ("mn-lk",))
    up = {l.id for l in s.links} - {"mn-lk"}
    assert g.shortest_path("mn1", "lk1", up) == (("mn1", "at-nyc", "at-chi", "lk1"), ("mn-at", "at1", "lk-at"))
    assert g.shortest_path("mn1", "lk1", up, avoid={"at-nyc", "bo-nyc"}) is None
    assert g.reachable("vf1", links=[]) == {"vf1"}
