"""Multihomed hosts in the scenario language: ``attach:`` gives a host its own device
switch and one link per attachment, owned by the provider it reaches; the device is an
end of paths, never a hop; every misuse is a clear problem."""
from __future__ import annotations

import copy

import pytest
import yaml

from controller.pathing import is_local_pair
from topologies import crosscheck
from topologies.errors import ScenarioError
from topologies.loader import load_scenario, load_scenario_text

LIBRARY = "topologies/library/multihomed.yaml"
BASE = yaml.safe_load(open(LIBRARY))


def load(change) -> object:
    data = copy.deepcopy(BASE)
    change(data)
    return load_scenario_text(yaml.safe_dump(data, sort_keys=False), "m.yaml")


def problems(change) -> str:
    with pytest.raises(ScenarioError) as info:
        load(change)
    return str(info.value)


def phone(data) -> dict:
    return next(h for h in data["hosts"] if h["name"] == "phone")


def test_attach_gives_the_host_a_device_switch_and_one_link_per_attachment_sold_by_its_provider():
    s = load_scenario(LIBRARY)
    host = s.host["phone"]
    assert host.switch == "phone-d" and host.attachments == ("ph-cell", "ph-home")
    device = s.switch["phone-d"]
    assert device.device_of == "phone" and device.owner == "pat" and device.dpid == 5
    assert [(s.link[l].a, s.link[l].b, s.link[l].owner, s.link[l].capacity_kbps, s.link[l].latency_ms)
            for l in host.attachments] == [("phone-d", "cell", "mobile", 8000, 5.0), ("phone-d", "home", "dana", 8000, 2.0)]
    assert str(host.ip) == "198.18.50.1"  # pat has no prefix: numbered from its first attachment's provider
    assert s.graph.host_port("phone").switch == "phone-d"
    assert s.multihomed == (host,) and s.attachment_links == frozenset(host.attachments)
    assert s.access_switches("phone") == ("cell", "home") and s.access_switches("web") == ("dc",)


def test_an_attachment_id_defaults_to_host_and_switch_and_dpids_stay_unique():
    def change(data):
        for a in phone(data)["attach"]:
            del a["id"]
        data["switches"][0]["dpid"] = 40
        data["offers"] = [o for o in data["offers"] if not o["link"].startswith("ph-")]
        data["timeline"] = []
    s = load(change)
    assert s.host["phone"].attachments == ("phone-cell", "phone-home")
    assert s.switch["phone-d"].dpid == 41


@pytest.mark.parametrize("change, message", [
    (lambda d: phone(d).update(switch="cell"), "either switch (one access provider) or attach (several), not both"),
    (lambda d: phone(d).pop("attach"), "not neither"),
    (lambda d: phone(d)["attach"].pop(), "attach lists two or more"),
    (lambda d: phone(d).update(name="phonebook"), "a multihomed host's name has at most 8 characters"),
    (lambda d: phone(d)["attach"][1].update(switch="cell", id="ph-2"), "phone attaches to cell twice"),
    (lambda d: phone(d)["attach"][1].update(switch="moon"), "unknown switch 'moon'"),
    (lambda d: phone(d)["attach"][1].pop("capacity"), "missing key 'capacity'"),
    (lambda d: d["switches"].append({"name": "phone-d", "owner": "mobile"}), "but a node has that name"),
    (lambda d: d["links"].append({"id": "ph-cell", "a": "cell", "b": "dc", "capacity": "1Mbps", "owner": "mobile"}),
     "duplicate link 'ph-cell'"),
    (lambda d: d["offers"].append({"link": "ph-cell", "seller": "dana", "ask_per_mbps": "1", "capacity": "1Mbps",
                                   "id": "x"}), "'dana' cannot offer link 'ph-cell': it belongs to 'mobile'"),
])
def test_every_misuse_of_attach_is_a_problem_that_says_what_to_do(change, message):
    assert message in problems(change)


def test_a_device_is_never_a_hop_so_two_networks_joined_only_by_a_phone_do_not_reach_each_other():
    def change(data):  # home loses its link to the core: only the phone joins it to the rest
        data["links"] = [l for l in data["links"] if l["id"] != "home-core"]
        data["offers"] = [o for o in data["offers"] if o["link"] != "home-core"]
        data["hosts"].append({"name": "dana1", "owner": "dana", "switch": "home"})
    assert "host dana1 on home cannot reach web on dc" in problems(change)
    s = load(lambda data: [a.update(latency_ms=0.5) for a in phone(data)["attach"]])
    tree = s.graph.tree_towards("home")
    assert tree["phone-d"] == ("ph-home", "home")            # the device is reached...
    assert tree["cell"] == ("cell-core", "core")               # ...never crossed, though cell > phone-d > home is 1 ms
    assert s.graph.shortest_path("cell", "home") == (("cell", "core", "home"), ("cell-core", "home-core"))
    assert s.graph.shortest_path("phone-d", "home") == (("phone-d", "home"), ("ph-home",))


def test_a_demand_is_unservable_only_when_no_offered_attachment_reaches_the_other_end():
    def change(data):
        data["offers"] = [o for o in data["offers"] if o["link"] not in ("ph-cell", "home-core")]
        data["timeline"] = []
    s = load(change)  # phone reaches home (offered), home no longer reaches the core
    assert [d.id for d in crosscheck.unservable_demands(s)] == ["video", "upload"]
    assert crosscheck.unservable_demands(load_scenario(LIBRARY)) == []


def test_a_multihomed_host_is_a_neighbour_of_the_hosts_of_each_provider_it_attaches_to():
    def change(data):
        data["hosts"] += [{"name": "dana1", "owner": "dana", "switch": "home"},
                          {"name": "m1", "owner": "mobile", "switch": "cell"}]
    s = load(change)
    assert is_local_pair(s, "phone", "dana1") and is_local_pair(s, "m1", "phone")
    assert not is_local_pair(s, "phone", "web") and not is_local_pair(s, "dana1", "m1")


def test_two_multihomed_hosts_that_share_no_network_do_not_reach_each_other():
    def change(data):  # tab attaches to home and to a new network joined to nothing but tab
        data["participants"].append({"name": "isle", "role": "last_mile", "prefix": "198.18.53.0/24"})
        data["switches"].append({"name": "isle1", "owner": "isle"})
        data["links"] = [l for l in data["links"] if l["id"] != "home-core"]
        data["offers"] = [o for o in data["offers"] if o["link"] != "home-core"]
        data["hosts"].append({"name": "tab", "owner": "pat", "attach": [{"switch": "home", "capacity": "1Mbps"},
                                                                        {"switch": "isle1", "capacity": "1Mbps"}]})
    # phone reaches web through cell, tab reaches phone through home, but tab never reaches web
    assert "host tab on tab-d cannot reach web on dc" in problems(change)


def test_generate_multihomed_attaches_hosts_to_a_second_last_mile_and_keeps_the_rest_of_the_seed_s_world():
    from topologies.generate import generate_world
    from topologies.loader import build_scenario

    plain = generate_world(seed=3, demands=6)
    data = generate_world(seed=3, demands=6, multihomed=2)
    s = build_scenario(data, {}, "<generated>")
    assert len(s.multihomed) == 2
    for h in s.multihomed:
        owners = [s.switch[sw].owner for sw in s.access_switches(h.name)]
        assert len(set(owners)) == 2 and all(o.startswith("lm") for o in owners)
        assert {o.link for o in s.offers} >= set(h.attachments)
    assert data["demands"] == plain["demands"] and data["links"] == plain["links"]
    for bad, message in ((dict(multihomed=10, last_miles=3, hosts_per_last_mile=3), "cannot exceed"),
                         (dict(multihomed=1, last_miles=1), "at least two last miles")):
        with pytest.raises(ValueError, match=message):
            generate_world(**bad)
