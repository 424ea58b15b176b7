"""The market's rule plan, as the core installs it, walked through fake switches on
every library scenario: paths, meters, isolation of split demands, failover,
anti-spoofing, floors, epochs and ids."""
from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path

import pytest

from controller import cookies, ops as o
from controller.fakeoftable import FakeOFTable
from controller.marketplan import SPLIT_BITS, IdAllocator, market_plan, slice_blocks, slice_counts
from controller.market import clear_market
from controller.pathing import local_first_violations, plan_paths
from controller.planner import make_planner
from topologies.loader import load_scenario

from .fakeworld import FakeWorld, apply

FILES = sorted(str(p) for p in [Path("topologies/default.yaml"), *Path("topologies/library").glob("*.yaml")]
               if p.name != "large.yaml")
SLICES = 1 << SPLIT_BITS


@pytest.fixture(scope="module", params=FILES)
def world(request):
    return FakeWorld(load_scenario(request.param))


def path_plan(s):
    return plan_paths(s, clear_market(s, "lmp"))


def path_kbps(world, demand_id) -> list[int]:
    return world.core.current.path_kbps.get(demand_id, [])


def test_every_packet_of_a_demand_is_metered_at_the_rate_of_the_path_it_takes(world):
    """Isolation: whatever its protocol and source port, a demand's packet meets, at its
    ingress, a meter no faster than the market's allocation on the path it then takes."""
    s = world.scenario
    routes = world.core.current.paths
    for d in s.demands:
        allocated = world.core.current.allocated_kbps[d.id]
        if not allocated:
            continue
        kbps = path_kbps(world, d.id) or [allocated]
        ingress = s.switch[s.host[d.src].switch].dpid
        taken = Counter()
        for proto, field in ((17, "udp_src"), (6, "tcp_src")):
            for port in range(40000, 40000 + SLICES):
                t = world.walk(d.src, world.packet(d.src, d.dst, ip_proto=proto, **{field: port}))
                assert t.outcome == f"delivered:{d.dst}", (d.id, port, t.outcome)
                (meter,) = [m for dpid, m in t.meters if dpid == ingress]
                j = routes[d.id].index(list(world.switch_names(t)))
                assert world.tables[ingress].meters[meter].rate == s.emulation.emulated_kbps(kbps[j]), (d.id, port)
                assert cookies.describe(t.cookies[1]).startswith(f"demand epoch=0 index={list(s.demand).index(d.id)}")
                taken[j] += proto == 17
        # Source ports spread over the paths in proportion to their rates.
        assert [taken[j] for j in range(len(kbps))] == (slice_counts(kbps) if len(kbps) > 1 else [SLICES])
        other = world.walk(d.src, world.packet(d.src, d.dst, ip_proto=1))  # ICMP: the largest path
        assert list(world.switch_names(other)) == routes[d.id][max(range(len(kbps)), key=lambda j: (kbps[j], -j))]


def test_each_path_carries_its_own_label_pushed_once_and_popped_at_the_end(world):
    s = world.scenario
    for demand_id, routes in path_plan(s).demands.items():
        d = s.demand[demand_id]
        for p in routes:
            t = world.walk(d.src, world.packet(d.src, d.dst, ip_proto=17, udp_src=port_on(world, d, list(p.primary.switches))))
            assert t.labels == [p.primary.label] and t.packet["eth_type"] == 0x0800


def test_spoofed_sources_and_macs_are_dropped_and_counted(world):
    s = world.scenario
    a, b = s.hosts[0], s.hosts[1]
    for forged in ({"ipv4_src": "198.19.255.1"}, {"eth_src": "02:00:00:ff:ff:ff"}):
        t = world.walk(a.name, world.packet(a.name, b.name, **forged))
        assert t.outcome.startswith(f"dropped:{s.switch[a.switch].dpid}:")
        assert cookies.kind_of(t.cookies[-1]) == "spoof"


def test_every_host_reaches_every_other_through_a_meter(world):
    s = world.scenario
    for src, dst in itertools.permutations(s.host, 2):
        t = world.walk(src, world.packet(src, dst, ip_proto=1))
        assert t.outcome == f"delivered:{dst}", (src, dst, t.outcome)
        assert t.meters, "every packet from a host is metered at its ingress"


def port_on(world, d, switches: list[str]) -> int:
    """A UDP source port of demand ``d`` whose packets take the path ``switches``."""
    return next(p for p in range(40000, 40000 + SLICES) if list(world.switch_names(
        world.walk(d.src, world.packet(d.src, d.dst, ip_proto=17, udp_src=p)))) == switches)


def test_fast_failover_takes_the_backup_when_the_first_hop_fails(world):
    s = world.scenario
    for demand_id, routes in path_plan(s).demands.items():
        d = s.demand[demand_id]
        for p in routes:
            if p.backup is None:
                continue
            packet = world.packet(d.src, d.dst, ip_proto=17, udp_src=port_on(world, d, list(p.primary.switches)))
            t = world.walk(d.src, packet, down_links={p.primary.links[0]})
            assert t.outcome == f"delivered:{d.dst}", (demand_id, t.outcome)
            assert world.switch_names(t) == p.backup.switches and t.labels == [p.backup.label]
            assert not set(p.backup.links) & set(p.primary.links)


def test_local_pairs_never_cross_a_backbone(world):
    assert local_first_violations(world.scenario, path_plan(world.scenario)) == []


def test_a_transition_keeps_every_flow_of_the_new_plan_in_place():
    """Make before break on the fake switches: nothing of the new plan is missing at the end, and no
    message refers to what is not there (the fake table refuses it as OVS would)."""
    s = load_scenario("topologies/library/split.yaml")
    world = FakeWorld(s)
    moved = world.core._replan("test")
    world.deliver(moved)
    for sw in s.switches:
        held = {(f.table_id, f.priority, tuple(sorted(f.match.items())), f.cookie) for f in world.tables[sw.dpid].flows}
        want = world.core.current.rules.for_switch(sw.dpid)
        assert len(held) == len(want.flows)
        assert {m.meter_id for m in want.meters} == set(world.tables[sw.dpid].meters)
        assert {g.group_id for g in want.groups} == set(world.tables[sw.dpid].groups)


def test_epochs_use_disjoint_meter_and_group_ids():
    s = load_scenario("topologies/default.yaml")
    planner = make_planner(s, "market", "lmp")
    even, odd = planner(2, frozenset()).rules, planner(3, frozenset()).rules
    for dpid in {m.dpid for m in even.meters}:
        assert not {m.meter_id for m in even.for_switch(dpid).meters} & {m.meter_id for m in odd.for_switch(dpid).meters}
        assert not {g.group_id for g in even.for_switch(dpid).groups} & {g.group_id for g in odd.for_switch(dpid).groups}


def test_ids_are_allocated_per_switch_from_one():
    ids = IdAllocator(epoch=0)
    assert [ids.meter(1), ids.meter(1), ids.meter(2), ids.group(1)] == [1, 2, 1, 1]


def test_ids_are_unique_per_switch_on_the_thousand_demand_market():
    """The fake table refuses a second meter or group of one id on a switch, as OVS does."""
    s = load_scenario("topologies/library/large.yaml")
    plan = make_planner(s, "market", "lmp")(1001, frozenset()).rules
    for sw in s.switches:
        mine = plan.for_switch(sw.dpid)
        apply(FakeOFTable(sw.dpid), o.install_ops(mine, token=1))
        assert len({g.group_id for g in mine.groups}) == len(mine.groups)


def test_meters_are_scaled_like_the_links():
    s = load_scenario("topologies/library/abilene.yaml")
    plan = make_planner(s, "market", "lmp")(0, frozenset())
    ingress = s.switch[s.host["uw1"].switch].dpid
    rates = sorted(m.rate_kbps for m in plan.rules.meters if m.dpid == ingress
                   and plan.rules.meter_owners[(m.dpid, m.meter_id)][0] == "demand")
    wanted = sorted(round(k * s.emulation.scale) for d in ("uw-nyu", "uw-cu") for k in plan.path_kbps.get(d, []))
    assert rates == wanted and max(rates) <= 10_000


def test_slices_are_shared_out_by_rate_and_tile_the_port_space():
    assert slice_counts([3700, 300, 3000]) == [34, 3, 27]
    assert slice_counts([10**6, 1, 1]) == [62, 1, 1]  # every path keeps at least one slice
    for counts in ([34, 3, 27], [1, 63], [32, 32], [1] * 64):
        blocks = slice_blocks(counts)
        owner = {}
        for port in range(SLICES):
            (path,) = [j for j, value, mask in blocks if port & mask == value]
            owner[port] = path
        assert Counter(owner.values()) == {j: c for j, c in enumerate(counts)}
        assert sum(c.bit_count() for c in counts) == len(blocks)  # fewest flows


def test_a_plan_knows_whose_meter_is_whose():
    s = load_scenario("topologies/library/split.yaml")
    plan = market_plan(s, path_plan(s))
    owners = Counter(kind for kind, _, _ in plan.meter_owners.values())
    assert owners == {"floor": len(s.hosts), "demand": 3 + 1 + 2}  # video 3 paths, call 1, upload 2
    assert set(plan.meter_owners) == {(m.dpid, m.meter_id) for m in plan.meters}
