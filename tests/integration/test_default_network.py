"""The default scenario on real OVS with the skeleton's shortest-path plan: reachability,
the path packets take, and what an overloaded link does."""
from __future__ import annotations

import re
import subprocess
import time

import pytest

pytestmark = pytest.mark.integration

#: ovs-vswitchd's revalidators push datapath counters into flow stats every
#: 500 ms or so; wait longer than that before reading them.
STATS_LAG_S = 1.5


def test_all_pairs_reach_each_other(running_default, default_scenario):
    from dataplane.probes import all_pairs_ping

    net, _, _ = running_default
    reach = all_pairs_ping(net, default_scenario)
    assert reach.failed == ()
    assert reach.reached == len(default_scenario.hosts) * (len(default_scenario.hosts) - 1)


def packets_by_cookie(switch: str) -> dict[int, int]:
    """Packets per cookie, the cookie's digest (low 16 bits) left out."""
    out = subprocess.run(["ovs-ofctl", "-O", "OpenFlow13", "dump-flows", switch],
                         capture_output=True, text=True, check=True).stdout
    counts: dict[int, int] = {}
    for line in out.splitlines():
        m = re.search(r"cookie=(0x[0-9a-f]+).*n_packets=(\d+)", line)
        if m:
            cookie = int(m.group(1), 16) & ~0xFFFF
            counts[cookie] = counts.get(cookie, 0) + int(m.group(2))
    return counts


@pytest.mark.parametrize("demand", ["ben-gus", "cdn-hana", "ana-dev"])
def test_packets_follow_the_planned_path(running_default, default_scenario, demand):
    """Send a known number of pings; only the planned switches count them."""
    from controller.shortest import host_route_cookie

    net, controller, status = running_default
    d = default_scenario.demand[demand]
    (planned,) = status["paths"][demand]
    cookie = host_route_cookie(default_scenario, d.dst)
    time.sleep(STATS_LAG_S)
    before = {s.name: packets_by_cookie(s.name).get(cookie, 0) for s in default_scenario.switches}
    out = net.get(d.src).cmd(f"ping -c 20 -i 0.05 -W 1 {default_scenario.host[d.dst].ip}")
    assert " 0% packet loss" in out, out
    time.sleep(STATS_LAG_S)
    after = {s.name: packets_by_cookie(s.name).get(cookie, 0) for s in default_scenario.switches}
    delta = {name: after[name] - before[name] for name in after}
    crossed = {name for name, n in delta.items() if n >= 20}
    assert crossed == set(planned), f"planned {planned}, counted {delta}"
    assert all(delta[name] == 0 for name in delta if name not in planned), delta


def test_an_overloaded_link_costs_only_the_flows_that_cross_it(running_default, default_scenario):
    """Shortest paths overload the 5 Mbps mn-lk link; flows elsewhere must not notice."""
    from dataplane.measure import measure_with_generators

    net, _, status = running_default
    results = measure_with_generators(net, default_scenario, {d.id: d.max_kbps for d in default_scenario.demands}, 2)
    assert set(results) == {d.id for d in default_scenario.demands}
    crossing = {d for d, (path,) in status["paths"].items() if any({a, b} == {"mn1", "lk1"} for a, b in zip(path, path[1:]))
                and path.index("lk1") == path.index("mn1") + 1}
    assert crossing, "the default scenario should overload mn-lk under shortest paths"
    for demand, r in results.items():
        assert r.received_kbps is not None and not r.error, r
        if demand not in crossing:
            assert r.loss_percent < 5, (demand, r)
    assert max(results[d].loss_percent for d in crossing) > 20  # the overload is real
