"""Labelled paths and their link-disjoint backups, on worlds small enough to check by hand."""
from __future__ import annotations

from controller.pathing import (
    FIRST_LABEL, DemandPath, PathPlan, Route, backup_route, crosses_backbone, is_local_pair, local_first_violations,
    plan_paths,
)

from .tiny import result, scenario

# Not a local pair (a last mile and a content network): backups may cross the backbone.
#
#      s ----------- p (1 ms) ----------- t
#      |\                                /|
#      | q1 (1) - m1 - q2 (1) - m2 - q3 (1)
#       \                                /
#        r1 (5 ms) ------ v ------ r2 (5 ms)
#
WIDE = scenario(
    {"s": "west", "t": "cdn", "m1": "bb", "m2": "bb", "v": "bb"},
    [("p", "s", "t", 1), ("q1", "s", "m1", 1), ("q2", "m1", "m2", 1), ("q3", "m2", "t", 1),
     ("r1", "s", "v", 5), ("r2", "v", "t", 5)],
    {"west": "last_mile", "cdn": "content", "bb": "backbone"},
    hosts={"hs": "s", "ht": "t", "ht2": "t"},
    demands=[("d1", "hs", "ht", 1000), ("d2", "hs", "ht", 300), ("d3", "hs", "ht", 100), ("d4", "hs", "ht", 1),
             ("d5", "ht", "ht2", 500)])
OFFERED = frozenset(o.link for o in WIDE.offers)
DIRECT, LOW, SLOW = ("s", "t"), ("s", "m1", "m2", "t"), ("s", "v", "t")

# One last mile (a1, a2, a3) and a backbone switch x between a1 and a2:
#
#   a1 -- d (1 ms) -- a2        a1 -- b1 (1) -- x -- b2 (1) -- a2
#   a1 -- l1 (5 ms) -- a3 -- l2 (5 ms) -- a2
#
LOCAL = scenario(
    {"a1": "west", "a2": "west", "a3": "west", "x": "bb"},
    [("d", "a1", "a2", 1), ("b1", "a1", "x", 1), ("b2", "x", "a2", 1), ("l1", "a1", "a3", 5), ("l2", "a3", "a2", 5)],
    {"west": "last_mile", "bb": "backbone"},
    hosts={"h1": "a1", "h2": "a2", "hx": "x"},
    demands=[("near", "h1", "h2", 100), ("far", "h1", "hx", 100)])


def test_a_backup_is_the_lowest_latency_path_not_the_fewest_hops():
    assert backup_route(WIDE, OFFERED, ("p",), DIRECT, False) == (LOW, ("q1", "q2", "q3"))
    # and it never reuses a link of its primary
    assert backup_route(WIDE, OFFERED, ("q1", "q2", "q3"), LOW, False) == (DIRECT, ("p",))
    assert backup_route(WIDE, OFFERED, ("r1", "r2"), SLOW, False) == (DIRECT, ("p",))


def test_a_backup_uses_offered_links_only():
    assert backup_route(WIDE, OFFERED - {"q2"}, ("p",), DIRECT, False) == (SLOW, ("r1", "r2"))
    assert backup_route(WIDE, OFFERED - {"q2", "r2"}, ("p",), DIRECT, False) is None
    assert backup_route(WIDE, OFFERED, (), ("s",), False) is None  # no link, nothing to back up


def test_a_local_pair_gets_no_backup_through_a_backbone_switch():
    offered = frozenset(o.link for o in LOCAL.offers)
    assert backup_route(LOCAL, offered, ("d",), ("a1", "a2"), False) == (("a1", "x", "a2"), ("b1", "b2"))
    assert backup_route(LOCAL, offered, ("d",), ("a1", "a2"), True) == (("a1", "a3", "a2"), ("l1", "l2"))
    assert backup_route(LOCAL, offered - {"l2"}, ("d",), ("a1", "a2"), True) is None


def test_local_pairs_are_one_last_mile_or_two_joined_directly():
    s = scenario(
        {"a": "west", "a2": "west", "b": "east", "f": "far", "k": "home", "c": "cdn", "x": "bb"},
        [("ab", "a", "b", 1), ("ak", "a", "k", 1), ("ac", "a", "c", 1), ("ax", "a", "x", 1), ("fx", "f", "x", 1),
         ("aa", "a", "a2", 1), ("bx", "b", "x", 1)],
        {"west": "last_mile", "east": "last_mile", "far": "last_mile", "home": "community", "cdn": "content",
         "bb": "backbone"},
        hosts={"ha": "a", "ha2": "a2", "hb": "b", "hf": "f", "hk": "k", "hc": "c", "hx": "x", "hx2": "x"})
    local = {(a, b) for a in s.host for b in s.host if a != b and is_local_pair(s, a, b)}
    assert local == {("ha", "ha2"), ("ha2", "ha"), ("ha", "hb"), ("hb", "ha"), ("ha", "hk"), ("hk", "ha"),
                     ("ha2", "hb"), ("hb", "ha2"), ("ha2", "hk"), ("hk", "ha2"), ("hx", "hx2"), ("hx2", "hx")}
    assert crosses_backbone(s, ("a", "x", "f")) and not crosses_backbone(s, ("a", "b", "c"))


def test_every_switch_sequence_gets_one_label_in_order_of_first_use():
    plan = plan_paths(WIDE, result(
        ("d1", "hs", "ht", 1000, [(600, DIRECT, ("p",)), (400, LOW, ("q1", "q2", "q3"))]),
        ("d2", "hs", "ht", 300, [(300, DIRECT, ("p",))]),
        ("d3", "hs", "ht", 1, [(0, LOW, ("q1", "q2", "q3")), (1, SLOW, ("r1", "r2"))]),
        ("d4", "hs", "ht", 0, []),
        ("d5", "ht", "ht2", 500, [(500, ("t",), ())])))
    direct, low, slow = (Route(DIRECT, ("p",), 16), Route(LOW, ("q1", "q2", "q3"), 17), Route(SLOW, ("r1", "r2"), 18))
    assert FIRST_LABEL == 16 and plan.labels == {DIRECT: 16, LOW: 17, SLOW: 18}
    assert plan.demands == {
        "d1": (DemandPath("d1", 600, direct, low), DemandPath("d1", 400, low, direct)),
        "d2": (DemandPath("d2", 300, direct, low),),
        "d3": (DemandPath("d3", 1, slow, direct),),  # a path the market gave nothing is no path
        "d4": (),
        "d5": (),  # neighbours on one switch: no labelled path
    }
    assert plan.allocated_kbps == {"d1": 1000, "d2": 300, "d3": 1, "d4": 0, "d5": 500}
    assert plan.routes() == [direct, low, slow]


def test_a_path_without_a_backup_has_none_and_routes_skip_it():
    s = scenario({"s": "west", "t": "cdn"}, [("p", "s", "t", 1)], {"west": "last_mile", "cdn": "content"},
                 hosts={"hs": "s", "ht": "t"}, demands=[("d", "hs", "ht", 10)])
    plan = plan_paths(s, result(("d", "hs", "ht", 10, [(10, DIRECT, ("p",))])))
    assert plan.demands["d"] == (DemandPath("d", 10, Route(DIRECT, ("p",), 16), None),)
    assert plan.routes() == [Route(DIRECT, ("p",), 16)]


def test_the_routes_of_a_plan_are_sorted_by_label_whoever_uses_them_first():
    a, b, c = Route(("x", "y"), ("l",), 18), Route(("y", "x"), ("l",), 16), Route(("x", "z"), ("m",), 17)
    plan = PathPlan({"one": (DemandPath("one", 1, a, b),), "two": (DemandPath("two", 1, c, a),)}, {"one": 1, "two": 1})
    assert plan.routes() == [b, c, a]
    assert PathPlan({}, {}).labels == {} and PathPlan({}, {}).routes() == []


def test_plan_paths_keeps_a_local_pair_off_the_backbone():
    plan = plan_paths(LOCAL, result(("near", "h1", "h2", 100, [(100, ("a1", "a2"), ("d",))]),
                                    ("far", "h1", "hx", 100, [(100, ("a1", "x"), ("b1",))])))
    (near,) = plan.demands["near"]
    assert near.backup == Route(("a1", "a3", "a2"), ("l1", "l2"), 17)
    (far,) = plan.demands["far"]
    assert far.backup == Route(("a1", "a2", "x"), ("d", "b2"), 19)
    assert local_first_violations(LOCAL, plan) == []


def test_local_first_violations_name_the_demand_and_the_route():
    via_x, direct, around = (Route(("a1", "x", "a2"), ("b1", "b2"), 16), Route(("a1", "a2"), ("d",), 17),
                             Route(("a1", "a3", "a2"), ("l1", "l2"), 18))
    plan = PathPlan({"far": (DemandPath("far", 100, Route(("a1", "x"), ("b1",), 19), via_x),),  # not local
                     "near": (DemandPath("near", 50, via_x, around), DemandPath("near", 50, direct, via_x),
                              DemandPath("near", 1, around, None))},
                    {"near": 100, "far": 100})
    assert local_first_violations(LOCAL, plan) == ["near: a1 > x > a2", "near: a1 > x > a2"]
