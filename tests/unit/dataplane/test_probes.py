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


class FakeHost:
    """A host whose ``popen`` runs nothing: it answers each address of the script as ``answer``
    says, and counts the rounds."""

    def __init__(self, name, answer, calls):
        self.name, self.answer, self.calls = name, answer, calls

    def popen(self, argv, text=True):
        script = argv[-1]
        ips = script.split("for ip in ", 1)[1].split(";", 1)[0].split()
        wait = int(script.split("-W", 1)[1].split()[0])
        self.calls.append((self.name, tuple(ips), wait))
        out = "".join(f"{'ok' if self.answer(self.name, ip, len(self.calls)) else 'fail'} {ip}\n" for ip in ips)
        return type("Done", (), {"communicate": lambda self: (out, None), "poll": lambda self: 0})()


class FakeNet:
    def __init__(self, answer):
        self.calls = []
        self.answer = answer

    def get(self, name):
        return FakeHost(name, self.answer, self.calls)


def test_pairs_that_lose_their_pings_are_tried_again_and_only_those_that_never_answer_fail():
    from dataplane.probes import RETRY_ROUNDS, check_reachability

    s = load_scenario("topologies/default.yaml")
    ip = {h.name: str(h.ip) for h in s.hosts}
    hosts = list(s.host)
    slow, dead = (hosts[0], ip[hosts[1]]), (hosts[2], ip[hosts[3]])
    net = FakeNet(lambda src, addr, call: not ((src, addr) == dead or ((src, addr) == slow and call <= len(hosts))))
    lines = []
    r = check_reachability(net, s, progress=lines.append)
    assert r.failed == ((hosts[2], hosts[3]),) and r.reached == r.pairs - 1 == 71
    first = [c for c in net.calls if c[2] == 1]
    again = [c for c in net.calls if c[2] == 2]
    assert len(first) == len(hosts) and sum(len(c[1]) for c in first) == 72
    # round 2: the slow pair and the dead one; round 3: the dead one alone
    assert again == [(hosts[0], (ip[hosts[1]],), 2), (hosts[2], (ip[hosts[3]],), 2), (hosts[2], (ip[hosts[3]],), 2)]
    assert RETRY_ROUNDS == 2 and "  ping: 2 pairs lost their pings; trying them again (1/2)" in lines
    quiet = FakeNet(lambda *a: True)
    assert check_reachability(quiet, s).failed == () and all(c[2] == 1 for c in quiet.calls)
