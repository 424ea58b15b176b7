"""Arc flows split into paths per demand (decompose.py), on flows drawn by hand."""
from __future__ import annotations

from types import SimpleNamespace

from controller.market.decompose import TOLERANCE_KBPS, decompose_source, whole_kbps

from ..controller.tiny import promptly


def decompose(*args):
    """decompose_source, failing rather than hanging if a cycle is never cancelled."""
    return promptly(decompose_source, *args, seconds=5)


def arcs(*spec):
    """``("l1", "a", "b"), ...`` -> arcs indexed in order."""
    return tuple(SimpleNamespace(index=i, link=link, tail=tail, head=head) for i, (link, tail, head) in enumerate(spec))


def test_two_sinks_share_the_first_arc_and_each_takes_its_own_branch():
    a = arcs(("l1", "a", "b"), ("l2", "b", "c"), ("l3", "b", "d"))
    paths = decompose("a", (8.0, 5.0, 3.0), {"c": [("d1", 5.0)], "d": [("d2", 3.0)]}, a)
    assert paths == {"d1": [(("l1", "l2"), ("a", "b", "c"), 5.0)], "d2": [(("l1", "l3"), ("a", "b", "d"), 3.0)]}


def test_two_demands_at_one_sink_fill_in_order_over_two_paths():
    # d1 wants 4: 3 over the wider path, 1 over the other; d2 gets the other's last 1.
    a = arcs(("l1", "a", "b"), ("l2", "b", "c"), ("l3", "a", "e"), ("l4", "e", "c"))
    paths = decompose("a", (3.0, 3.0, 2.0, 2.0), {"c": [("d1", 4.0), ("d2", 1.0)]}, a)
    assert paths == {"d1": [(("l1", "l2"), ("a", "b", "c"), 3.0), (("l3", "l4"), ("a", "e", "c"), 1.0)],
                     "d2": [(("l3", "l4"), ("a", "e", "c"), 1.0)]}


def test_a_cycle_on_the_way_is_cancelled_and_the_walk_goes_on():
    # b -> c -> b carries 7 (more than b -> d, so the walk takes it first): it carries
    # nothing anywhere and is cancelled; the walk resumes at b.
    a = arcs(("l1", "a", "b"), ("l2", "b", "c"), ("l3", "c", "b"), ("l4", "b", "d"))
    assert decompose("a", (5.0, 7.0, 7.0, 5.0), {"d": [("d1", 5.0)]}, a) == \
        {"d1": [(("l1", "l4"), ("a", "b", "d"), 5.0)]}


def test_a_cycle_through_the_source_is_cancelled_too():
    # a -> b -> a carries 6 of a -> b's 11; the other 5 reach d.
    a = arcs(("l1", "a", "b"), ("l2", "b", "a"), ("l3", "b", "d"))
    assert decompose("a", (11.0, 6.0, 5.0), {"d": [("d1", 5.0)]}, a) == \
        {"d1": [(("l1", "l3"), ("a", "b", "d"), 5.0)]}


def test_ties_go_to_the_first_arc_and_a_demand_may_take_two_paths():
    # At a, l1 and l3 both carry 2: the walk takes l1 (the first).  d1 takes 1.5 over it,
    # d2 1 over l3, d3 the last 1 of l3 and the 0.5 left on l1.
    a = arcs(("l1", "a", "b"), ("l2", "b", "c"), ("l3", "a", "c"))
    paths = decompose("a", (2.0, 2.0, 2.0), {"c": [("d1", 1.5), ("d2", 1.0), ("d3", 1.5)]}, a)
    assert paths == {"d1": [(("l1", "l2"), ("a", "b", "c"), 1.5)],
                     "d2": [(("l3",), ("a", "c"), 1.0)],
                     "d3": [(("l3",), ("a", "c"), 1.0), (("l1", "l2"), ("a", "b", "c"), 0.5)]}


def test_residue_below_the_tolerance_is_neither_a_demand_nor_a_path():
    a = arcs(("l1", "a", "b"))
    # A demand of exactly the tolerance is not served; an arc of exactly the tolerance carries nothing.
    assert decompose("a", (5.0,), {"b": [("d1", TOLERANCE_KBPS), ("d2", 5.0)]}, a) == \
        {"d2": [(("l1",), ("a", "b"), 5.0)]}
    assert decompose("a", (TOLERANCE_KBPS,), {"b": [("d1", 5.0)]}, a) == {}


def test_flow_that_reaches_no_wanting_sink_ends_the_walk_with_what_was_found():
    # c absorbs 1 of the 2 that reach it; the rest dead-ends there, and d2's flow is
    # behind it: what was found is returned, no error.
    a = arcs(("l1", "a", "b"), ("l2", "b", "c"), ("l3", "b", "d"))
    assert decompose("a", (3.0, 2.0, 1.0), {"c": [("d1", 1.0)], "d": [("d2", 5.0)]}, a) == \
        {"d1": [(("l1", "l2"), ("a", "b", "c"), 1.0)]}
    # More wanted than flows: the flow is all there is.
    assert decompose("a", (3.0,), {"b": [("d1", 5.0)]}, arcs(("l1", "a", "b"))) == \
        {"d1": [(("l1",), ("a", "b"), 3.0)]}


def test_whole_kbps_rounds_down_forgiving_the_tolerance():
    assert [whole_kbps(x) for x in (2.9995, 2.998, 2.5, 3.0, -0.2, 0.0)] == [3, 2, 2, 3, 0, 0]


def test_two_cycles_in_one_walk_and_then_one_through_the_source():
    # b -> c -> b (9) then b -> e -> b (7) are cancelled in turn, each found from where
    # the walk stood after the last.
    a = arcs(("l1", "a", "b"), ("l2", "b", "c"), ("l3", "c", "b"), ("l4", "b", "e"), ("l5", "e", "b"),
             ("l6", "b", "d"))
    assert decompose("a", (5.0, 9.0, 9.0, 7.0, 7.0, 5.0), {"d": [("d1", 5.0)]}, a) == \
        {"d1": [(("l1", "l6"), ("a", "b", "d"), 5.0)]}
    # b -> c -> b (9) is cancelled, then a -> b -> a (6): the walk starts again at a.
    a = arcs(("l1", "a", "b"), ("l2", "b", "c"), ("l3", "c", "b"), ("l4", "b", "a"), ("l6", "b", "d"))
    assert decompose("a", (11.0, 9.0, 9.0, 6.0, 5.0), {"d": [("d1", 5.0)]}, a) == \
        {"d1": [(("l1", "l6"), ("a", "b", "d"), 5.0)]}


def test_a_demand_left_with_just_the_tolerance_is_served():
    # d1 gets the 0.002 of l1 and is left 0.001 short: served, so l2's 0.0015 goes to d2.
    a = arcs(("l1", "a", "b"), ("l2", "a", "b"))
    assert decompose("a", (0.002, 0.0015), {"b": [("d1", 0.003), ("d2", 5.0)]}, a) == \
        {"d1": [(("l1",), ("a", "b"), 0.002)], "d2": [(("l2",), ("a", "b"), 0.0015)]}
