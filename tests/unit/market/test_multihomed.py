"""The market chooses a multihomed host's attachment per demand: the cheaper one, the other
one when its provider raises its ask or its link fails, and never a path through another
host's device.  In POC mode the host reaches the core through its first attachment."""
from __future__ import annotations

import copy

import yaml

from controller.market.poc import poc_world
from controller.planner import attachment_kbps, build_plan
from topologies.loader import load_scenario, load_scenario_text
from topologies.timeline import apply_market_event, market_events

LIBRARY = "topologies/library/multihomed.yaml"


def attachments(scenario, down=frozenset()) -> dict:
    return attachment_kbps(scenario, build_plan(scenario, down=down))


def test_each_demand_leaves_through_the_cheaper_attachment():
    s = load_scenario(LIBRARY)
    plan = build_plan(s)
    assert plan.paths == {"video": [["dc", "core", "cell", "phone-d"]], "upload": [["phone-d", "cell", "core", "dc"]]}
    assert attachment_kbps(s, plan) == {"video": {"ph-cell": 4000}, "upload": {"ph-cell": 2000}}


def test_a_dearer_ask_moves_the_demands_to_the_other_attachment_and_a_failure_moves_them_back():
    s = load_scenario(LIBRARY)
    dearer = apply_market_event(s, market_events(s)[0])  # mobile asks 0.40 for ph-cell, dana 0.20 for ph-home
    assert attachments(dearer) == {"video": {"ph-home": 4000}, "upload": {"ph-home": 2000}}
    assert attachments(dearer, down=frozenset({"ph-home"})) == {"video": {"ph-cell": 4000},
                                                                "upload": {"ph-cell": 2000}}
    assert attachments(s, down=frozenset({"ph-cell"})) == {"video": {"ph-home": 4000}, "upload": {"ph-home": 2000}}


def test_a_demand_is_split_over_both_attachments_when_neither_alone_can_carry_it():
    data = yaml.safe_load(open(LIBRARY))
    for a in data["hosts"][0]["attach"]:
        a["capacity"] = "3Mbps"
    s = load_scenario_text(yaml.safe_dump(data), "m.yaml")
    got = attachments(s)
    assert got["video"] == {"ph-cell": 3000, "ph-home": 1000}, got  # cell is cheaper: filled first
    assert got["upload"] == {"ph-cell": 2000}, got


def transit_world():
    """Mobile's and dana's networks joined by a dear core and by a cheap phone."""
    data = yaml.safe_load(open(LIBRARY))
    data["hosts"] += [{"name": "m1", "owner": "mobile", "switch": "cell"},
                      {"name": "dana1", "owner": "dana", "switch": "home"}]
    for o in data["offers"]:
        o["ask_per_mbps"] = "0.01" if o["link"].startswith("ph-") else "0.30"
    data["demands"] = [{"id": "m-d", "src": "m1", "dst": "dana1", "max_rate": "2Mbps", "value_per_mbps": "1.00"},
                       {"id": "up", "src": "phone", "dst": "web", "max_rate": "1Mbps", "value_per_mbps": "1.00"}]
    data["timeline"] = []
    return load_scenario_text(yaml.safe_dump(data), "t.yaml")


def test_no_demand_crosses_another_host_s_device_however_cheap():
    s = transit_world()
    plan = build_plan(s)
    assert plan.paths["m-d"] == [["cell", "core", "home"]], plan.paths  # not cell > phone-d > home at 0.02
    assert plan.allocated_kbps["m-d"] == 2000
    assert list(attachment_kbps(s, plan)) == ["up"]  # only the phone's own demand uses its attachments
    assert s.foreign_attachments(s.demand["m-d"]) == frozenset({"ph-cell", "ph-home"})
    assert s.foreign_attachments(s.demand["up"]) == frozenset()


def test_in_poc_mode_a_multihomed_host_reaches_the_core_through_its_first_attachment():
    data = yaml.safe_load(open(LIBRARY))
    data["market"]["mode"] = "poc"
    s = load_scenario_text(yaml.safe_dump(data), "p.yaml")
    w = poc_world(s)
    assert w.host_member["phone"] == "mobile" and "ph-home" in w.idle and "ph-cell" not in w.idle
    assert w.idle["ph-home"] == ("it is a later attachment of multihomed host phone: in POC mode a host reaches "
                                 "the core through one access provider, that of its first (ph-cell)")
    assert attachments(s) == {"video": {"ph-cell": 4000}, "upload": {"ph-cell": 2000}}
    swapped = copy.deepcopy(data)
    swapped["hosts"][0]["attach"].reverse()
    s2 = load_scenario_text(yaml.safe_dump(swapped), "p.yaml")
    assert poc_world(s2).host_member["phone"] == "dana"
    assert attachments(s2) == {"video": {"ph-home": 4000}, "upload": {"ph-home": 2000}}


def test_on_generated_worlds_no_path_crosses_a_device_and_each_multihomed_demand_leaves_by_its_attachments():
    """Worlds of ``openisp generate --multihomed``: every path touches a device switch only
    at its ends, and what a multihomed host's demand sends through its attachments adds
    up to its allocation; every best-effort route is free of foreign devices too."""
    from controller.shortest import planned_path
    from topologies.generate import generate_world
    from topologies.loader import build_scenario

    moved = 0
    for seed in range(6):
        s = build_scenario(generate_world(last_miles=4, hosts_per_last_mile=2, demands=16, seed=seed, multihomed=3),
                           {}, f"<seed {seed}>")
        devices = {h.switch for h in s.multihomed}
        assert len(devices) == 3
        plan = build_plan(s)
        chosen = attachment_kbps(s, plan)
        for d in s.demands:
            for path in plan.paths.get(d.id, []):
                assert not devices & set(path[1:-1]), (seed, d.id, path)
            for host in (d.src, d.dst):
                if s.host[host].attachments and plan.allocated_kbps.get(d.id):
                    mine = {l: k for l, k in chosen[d.id].items() if l in s.host[host].attachments}
                    assert sum(mine.values()) == plan.allocated_kbps[d.id], (seed, d.id, chosen[d.id])
                    moved += any(l != s.host[host].attachments[0] for l in mine)
            path = planned_path(s, d.src, d.dst, frozenset())
            assert not devices & set(path[1:-1]), (seed, d.id, path)
    assert moved > 0  # some demand left through a host's second attachment: the choice is real


def core_first() -> dict:
    """The library world with the phone first attached to the backbone switch ``core``
    itself (``ph-core``, sold by transit at 0.30), then to cell and home as before."""
    data = yaml.safe_load(open(LIBRARY))
    data["participants"][0]["prefix"] = "198.18.53.0/24"  # transit numbers nothing else: it may
    data["hosts"][0]["attach"].insert(0, {"switch": "core", "id": "ph-core", "capacity": "8Mbps", "latency_ms": 1})
    data["offers"].insert(0, {"link": "ph-core", "ask_per_mbps": "0.30"})
    return data


def test_a_device_first_attached_to_a_backbone_switch_in_the_market_and_in_poc_mode():
    """The market still takes the cheapest attachment, and moves with the asks and the
    failures; in POC mode the phone reaches the core directly, a member of its own
    (the hierarchy's part: ``test_hierarchical.py``)."""
    data = core_first()
    s = load_scenario_text(yaml.safe_dump(data), "core-first.yaml")
    assert s.host["phone"].attachments == ("ph-core", "ph-cell", "ph-home")
    assert attachments(s) == {"video": {"ph-cell": 4000}, "upload": {"ph-cell": 2000}}  # 0.15 beats 0.30
    events = dict((e.at_s, e) for e in market_events(s))
    later = apply_market_event(s, events[8])  # mobile asks 0.40: dana's 0.25 is cheapest, then core's 0.30
    assert attachments(later) == {"video": {"ph-home": 4000}, "upload": {"ph-home": 2000}}
    assert attachments(later, down=frozenset({"ph-home"})) == {"video": {"ph-core": 4000}, "upload": {"ph-core": 2000}}
    data["market"]["mode"] = "poc"
    p = load_scenario_text(yaml.safe_dump(data), "core-first.yaml")
    w = poc_world(p)
    assert w.host_member["phone"] == "pat" and set(w.idle) == {"ph-cell", "ph-home"}  # on the core: a member itself
    assert attachments(p) == {"video": {"ph-core": 4000}, "upload": {"ph-core": 2000}}
