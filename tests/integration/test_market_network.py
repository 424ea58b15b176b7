"""The market's allocation enforced on real OVS: meters, labels, anti-spoofing, floors."""
from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest

from controller import cookies

pytestmark = pytest.mark.integration

STATS_LAG_S = 1.5  # revalidators push datapath counters into flow stats about every 500 ms


def packets_by_kind(switch: str, kind: str) -> int:
    out = subprocess.run(["ovs-ofctl", "-O", "OpenFlow13", "dump-flows", switch],
                         capture_output=True, text=True, check=True).stdout
    total = 0
    for line in out.splitlines():
        m = re.search(r"cookie=(0x[0-9a-f]+).*n_packets=(\d+)", line)
        if m and cookies.kind_of(int(m.group(1), 16)) == kind:
            total += int(m.group(2))
    return total


def test_all_pairs_reach_each_other_over_demands_and_floors(running_market, default_scenario):
    from dataplane.probes import all_pairs_ping

    net, _, _ = running_market
    assert all_pairs_ping(net, default_scenario).failed == ()


def test_twice_the_allocation_offered_gets_the_allocation_within_five_percent(running_market, default_scenario):
    from dataplane.measure import measure_with_generators

    net, _, status = running_market
    allocated = status["allocated_kbps"]
    assert allocated and all(allocated[d.id] > 0 for d in default_scenario.demands)
    results = measure_with_generators(net, default_scenario, {d: 2 * k for d, k in allocated.items()}, 3,
                                      flows_for=lambda d: 64)
    assert set(results) == set(allocated)
    for demand, r in results.items():
        assert r.received_kbps is not None and not r.error, r
        assert 0.95 <= r.received_kbps / allocated[demand] <= 1.05, (demand, r, allocated[demand])


def test_labelled_packets_cross_exactly_the_auctioned_path(running_market, default_scenario):
    net, _, status = running_market
    d = default_scenario.demand["ben-gus"]
    (path,) = status["paths"]["ben-gus"]
    time.sleep(STATS_LAG_S)
    before = {s.name: packets_by_kind(s.name, "label") for s in default_scenario.switches}
    out = net.get(d.src).cmd(f"ping -c 30 -i 0.02 -W 1 {default_scenario.host[d.dst].ip}")
    assert " 0% packet loss" in out, out
    time.sleep(STATS_LAG_S)
    delta = {s.name: packets_by_kind(s.name, "label") - before[s.name] for s in default_scenario.switches}
    # The ingress pushes the label in table 1; every later switch matches it in table 2.
    assert {n for n, k in delta.items() if k >= 30} == set(path[1:]), (path, delta)
    assert all(delta[n] == 0 for n in delta if n not in path), delta


def test_spoofed_packets_are_dropped_and_counted(running_market, default_scenario):
    net, _, _ = running_market
    h1, h7 = default_scenario.host["h1"], default_scenario.host["h7"]
    time.sleep(STATS_LAG_S)
    before = packets_by_kind(h1.switch, "spoof")
    assert before == 0, "the hosts' own traffic hit the anti-spoofing drop"
    forge = ("from scapy.all import Ether, IP, UDP, sendp; "
             f"sendp(Ether(src='{h1.mac}', dst='{h7.mac}')/IP(src='198.18.1.200', dst='{h7.ip}')/UDP(dport=9)/b'x',"
             " iface='h1-eth0', count=20, verbose=False)")
    net.get("h1").cmd(f"{sys.executable} -c \"{forge}\"")
    time.sleep(STATS_LAG_S)
    assert packets_by_kind(h1.switch, "spoof") - before == 20
