"""Which host pairs a run pings: all of a small world, a sample of a large one that still
covers every pair of switches and every host."""
from __future__ import annotations

import itertools

from dataplane.probes import ALL_PAIRS_UP_TO, _script, sample_pairs
from topologies.generate import generate_world, to_yaml
from topologies.loader import load_scenario, load_scenario_text


def test_a_small_world_is_checked_whole():
    s = load_scenario("topologies/default.yaml")
    assert sample_pairs(s) == [(a.name, b.name) for a in s.hosts for b in s.hosts if a is not b]


def test_a_large_world_is_sampled_over_every_switch_pair_and_every_host():
    # the 100-switch, 200-host world of the scale issue: 39,800 ordered pairs
    s = load_scenario_text(to_yaml(generate_world(backbones=2, backbone_switches=10, last_miles=40,
                                                  last_mile_switches=2, hosts_per_last_mile=5, content=0,
                                                  demands=50, seed=7)))
    n = len(s.hosts)
    pairs = sample_pairs(s)
    assert n * (n - 1) == 39_800 and len(pairs) == 80 * 79 + 80  # 80 switches with hosts, two hosts or more each
    assert len(set(pairs)) == len(pairs) and all(a != b for a, b in pairs)
    switch_of = {h.name: h.switch for h in s.hosts}
    with_hosts = sorted(set(switch_of.values()))
    covered = {(switch_of[a], switch_of[b]) for a, b in pairs}
    assert set(itertools.permutations(with_hosts, 2)) <= covered  # every ordered pair of switches
    assert {a for a, _ in pairs} == {b for _, b in pairs} == set(switch_of)  # every host, both ways
    assert len(sample_pairs(s, all_pairs=True)) == 39_800


def test_just_above_the_limit_a_world_is_sampled():
    s = load_scenario_text(to_yaml(generate_world(last_miles=5, hosts_per_last_mile=6, content=0, seed=1)))
    n = len(s.hosts)
    assert n * (n - 1) > ALL_PAIRS_UP_TO and len(sample_pairs(s)) < n * (n - 1)


def test_each_source_pings_its_targets_twice_at_most():
    script = _script(["198.18.0.2", "198.18.0.3"])
    assert script.startswith("for ip in 198.18.0.2 198.18.0.3; do")
    assert script.count("ping -c1 -W1 $ip") == 2 and "echo ok $ip" in script and "echo fail $ip" in script
