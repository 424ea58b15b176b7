"""The picture: parallel links apart, each labelled with its id and capacity; a legend that matches the shapes."""
from __future__ import annotations

import matplotlib
import pytest

matplotlib.use("Agg")

from matplotlib.collections import PathCollection  # noqa: E402

from topologies.draw import HOST_SHAPE, ROLE_SHAPES, figure, layout  # noqa: E402
from topologies.loader import load_scenario, load_scenario_text  # noqa: E402

PARALLEL = """\
name: parallel
participants:
  - {name: lm, role: last_mile, prefix: 198.18.0.0/24}
  - {name: bb, role: backbone}
switches:
  - {name: a, owner: lm}
  - {name: b, owner: bb}
hosts:
  - {name: x, owner: lm, switch: a}
links:
  - {id: l1, a: a, b: b, capacity: 10Mbps, owner: bb}
  - {id: l2, a: b, b: a, capacity: 5Mbps, owner: bb}
  - {id: l3, a: a, b: b, capacity: 1Gbps, owner: bb}
"""


def test_parallel_links_are_drawn_apart_each_with_its_id_and_capacity():
    d = layout(load_scenario_text(PARALLEL, "p.yaml"))
    assert sorted(c.label for c in d.links) == ["l1 10Mbps", "l2 5Mbps", "l3 1Gbps"]
    middles = [c.middle for c in d.links]
    assert len(set(middles)) == 3  # three labels in three places
    assert min(abs(p[0] - q[0]) + abs(p[1] - q[1]) for i, p in enumerate(middles) for q in middles[i + 1:]) > 0.05


def test_a_single_link_is_straight():
    d = layout(load_scenario("topologies/default.yaml"))
    mn_lk = next(c for c in d.links if c.link == "mn-lk")
    half_way = ((mn_lk.start[0] + mn_lk.end[0]) / 2, (mn_lk.start[1] + mn_lk.end[1]) / 2)
    assert mn_lk.middle == pytest.approx(half_way) and mn_lk.control == pytest.approx(half_way)


def test_the_legend_shows_each_owner_with_its_switches_shape_and_colour():
    s = load_scenario("topologies/default.yaml")
    d = layout(s)
    drawn = {n.owner: n.marker for n in d.nodes if n.owner}
    assert {owner: marker for marker, _, owner in d.legend if owner} == drawn
    assert all(drawn[o] == ROLE_SHAPES[s.participant[o].role] for o in drawn)
    assert (HOST_SHAPE, "host", None) in d.legend and {n.marker for n in d.nodes if not n.owner} == {HOST_SHAPE}
    fig = figure(s)
    try:
        ax = fig.axes[0]
        legend = {h.get_label(): (h.get_marker(), h.get_color()) for h in ax.get_legend().legend_handles}
        by_owner = {}
        for collection in ax.collections:  # one scatter per node (and one collection of all the links)
            if not isinstance(collection, PathCollection):
                continue
            (x, y), = collection.get_offsets()
            node = next(n for n in d.nodes if abs(n.xy[0] - x) < 1e-9 and abs(n.xy[1] - y) < 1e-9)
            by_owner[node.owner] = tuple(collection.get_facecolor()[0])
        for marker, label, owner in d.legend:
            assert legend[label][0] == marker
            assert tuple(matplotlib.colors.to_rgba(legend[label][1])) == by_owner[owner]
        texts = {t.get_text() for t in ax.texts}
        assert {"mn-lk 5Mbps", "at1 20Mbps"} <= texts
    finally:
        matplotlib.pyplot.close(fig)
