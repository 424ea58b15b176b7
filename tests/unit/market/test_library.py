"""Every library scenario clears under every mechanism (the large one has its benchmark)."""
from __future__ import annotations

from pathlib import Path

import pytest

from controller.market import clear_market
from topologies.loader import load_scenario

SMALL = sorted(str(p) for p in [Path("topologies/default.yaml"), *Path("topologies/library").glob("*.yaml")]
               if p.name != "large.yaml")


@pytest.mark.parametrize("path", SMALL)
@pytest.mark.parametrize("mechanism", ["vcg", "lmp", "pay-as-bid"])
def test_library_scenario_clears(path, mechanism):
    s = load_scenario(path)
    r = clear_market(s, mechanism)
    assert r.welfare > 0
    assert any(d.allocated_kbps for d in r.demands)
    for d in r.demands:
        assert d.allocated_kbps >= s.demand[d.demand_id].floor_kbps
    assert r.budget_balance == r.collected - r.paid_out
    if mechanism == "lmp":  # balanced but for what the fund pays for the floors
        assert r.budget_balance == -r.floors_cost
    if mechanism == "pay-as-bid":
        assert r.budget_balance == r.welfare and r.floors_cost == 0
    for p in r.participants:
        assert p.funded >= 0 and (p.funded == 0 or s.market.universal_floor_kbps or any(d.floor_kbps for d in s.demands))


def test_local_first_neighbours_use_the_direct_link():
    r = clear_market(load_scenario("topologies/library/local-first.yaml"), "lmp")
    assert r.demand("ann-cy").paths[0].switches == ("nb1", "nb2")
    assert r.demand("di-bo").paths[0].switches == ("nb2", "nb1")


def test_community_neighbours_buy_the_rooftop_link():
    r = clear_market(load_scenario("topologies/library/community.yaml"), "vcg")
    assert r.demand("fred-gail").paths[0].links == ("mesh",)
    assert r.participant("dana").receives > 0
