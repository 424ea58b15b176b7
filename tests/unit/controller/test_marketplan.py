"""The market's rule plan walked through the fake flow table, on every library scenario."""
from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from controller import cookies
from controller.flowsim import FakeNetwork, ipv4_packet, walk
from controller.market import clear_market
from controller.marketplan import emulated_kbps, market_plan
from controller.pathing import local_first_violations, plan_paths
from topologies.loader import load_scenario

FILES = sorted(str(p) for p in [Path("topologies/default.yaml"), *Path("topologies/library").glob("*.yaml")]
               if p.name != "large.yaml")


@pytest.fixture(scope="module", params=FILES)
def planned(request):
    s = load_scenario(request.param)
    paths = plan_paths(s, clear_market(s, "lmp"))
    plan = market_plan(s, paths, epoch=1)
    return s, paths, plan, FakeNetwork(s, plan)


def test_every_demand_follows_each_of_its_paths_through_its_meter(planned):
    s, paths, plan, net = planned
    meters = {(m.dpid, m.meter_id): m for m in plan.meters}
    for d in s.demands:
        allocated = paths.allocated_kbps[d.id]
        if allocated == 0:
            continue
        routes = paths.demands[d.id] or [None]
        for j, p in enumerate(routes):
            t = walk(s, net, d.src, ipv4_packet(s, d.src, d.dst), select=j)
            assert t.outcome == f"delivered:{d.dst}", (d.id, t.outcome)
            if p is not None:
                assert tuple(t.switches) == p.primary.switches and t.labels == [p.primary.label]
            ingress = s.host[d.src].switch
            (meter_at,) = [m for m in t.meters if m[0] == ingress]
            assert meters[(s.switch[ingress].dpid, meter_at[1])].rate_kbps == emulated_kbps(s, allocated)
            assert cookies.describe(t.flows[1].cookie) == f"demand epoch=1 index={list(s.demand).index(d.id)}"


def test_spoofed_sources_and_macs_are_dropped_and_counted(planned):
    s, _, _, net = planned
    a, b = s.hosts[0], s.hosts[1]
    for forged in ({"ipv4_src": "198.19.255.1"}, {"eth_src": "02:00:00:ff:ff:ff"}):
        t = walk(s, net, a.name, ipv4_packet(s, a.name, b.name, **forged))
        assert t.outcome == f"dropped:{a.switch}"
        assert cookies.kind_of(t.flows[-1].cookie) == "spoof"


def test_every_host_reaches_every_other_at_least_at_the_floor(planned):
    s, _, _, net = planned
    for src, dst in itertools.permutations(s.host, 2):
        t = walk(s, net, src, ipv4_packet(s, src, dst))
        assert t.outcome == f"delivered:{dst}", (src, dst, t.outcome)
        assert t.meters, "every packet from a host is metered at its ingress"


def test_fast_failover_takes_the_backup_when_the_first_hop_fails(planned):
    s, paths, _, net = planned
    for demand_id, routes in paths.demands.items():
        d = s.demand[demand_id]
        for j, p in enumerate(routes):
            if p.backup is None:
                continue
            t = walk(s, net, d.src, ipv4_packet(s, d.src, d.dst), down_links={p.primary.links[0]}, select=j)
            assert t.outcome == f"delivered:{d.dst}"
            assert tuple(t.switches) == p.backup.switches and t.labels == [p.backup.label]
            assert not set(p.backup.links) & set(p.primary.links)


def test_local_pairs_never_cross_a_backbone(planned):
    s, paths, _, _ = planned
    assert local_first_violations(s, paths) == []


def test_labels_are_shared_by_paths_not_demands():
    s = load_scenario("topologies/library/community.yaml")
    paths = plan_paths(s, clear_market(s, "lmp"))
    # gail-fred and eli-dana both go home2 > home1: one label for both.
    assert paths.demands["gail-fred"][0].primary.label == paths.demands["eli-dana"][0].primary.label


def test_epochs_use_disjoint_meter_and_group_ids():
    s = load_scenario("topologies/default.yaml")
    paths = plan_paths(s, clear_market(s, "lmp"))
    even, odd = market_plan(s, paths, 2), market_plan(s, paths, 3)
    assert not {m.meter_id for m in even.meters} & {m.meter_id for m in odd.meters}
    assert not {g.group_id for g in even.groups} & {g.group_id for g in odd.groups}


def test_meters_are_scaled_like_the_links():
    s = load_scenario("topologies/library/abilene.yaml")
    paths = plan_paths(s, clear_market(s, "lmp"))
    plan = market_plan(s, paths)
    ingress = s.switch[s.host["uw1"].switch].dpid
    rates = sorted(m.rate_kbps for m in plan.meters if m.dpid == ingress and m.meter_id < 50_000)
    wanted = sorted(round(paths.allocated_kbps[d] * s.emulation.scale) for d in ("uw-nyu", "uw-cu")
                    if paths.allocated_kbps[d])
    assert rates == wanted and max(rates) <= 10_000
