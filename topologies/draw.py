"""Draw a scenario: switches shaped by their owner's role and coloured by owner,
hosts beside their switch, every link labelled with its id and capacity.

Parallel links (two links between the same switches) are drawn as separate
arcs, each with its own label, because the auction's output names links by id.
:func:`layout` computes the picture as data (tested); :func:`draw_scenario`
renders it with matplotlib's Agg backend (no screen).

>>> from topologies.loader import load_scenario
>>> d = layout(load_scenario("topologies/default.yaml"))
>>> sorted(c.label for c in d.links)[:2]
['at1 20Mbps', 'at2 20Mbps']
"""
from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from .model import Scenario
from .units import format_rate

#: Matplotlib markers of switches by their owner's role, and of hosts.
ROLE_SHAPES = {"backbone": "s", "last_mile": "o", "content": "D", "community": "^", "customer": "v"}
HOST_SHAPE = "h"
HOST_COLOUR = "#cccccc"
#: How far apart parallel links bow, as a fraction of their length.
ARC_STEP = 0.25
#: Up to this many links carry labels; beyond, the picture would be all text.
MAX_LABELLED_LINKS = 120
MAX_DRAWN_HOSTS = 60

Point = tuple[float, float]


@dataclass(frozen=True)
class Node:
    name: str
    xy: Point
    marker: str
    owner: str | None  # None for a host


@dataclass(frozen=True)
class Curve:
    """One link as a quadratic Bezier curve from ``start`` to ``end`` bent towards ``control``."""

    link: str
    start: Point
    control: Point
    end: Point
    label: str

    def at(self, t: float) -> Point:
        """The point a fraction ``t`` along the curve."""
        a, b, c = (1 - t) ** 2, 2 * t * (1 - t), t ** 2
        return (a * self.start[0] + b * self.control[0] + c * self.end[0],
                a * self.start[1] + b * self.control[1] + c * self.end[1])

    @property
    def middle(self) -> Point:
        """The curve's point half-way along (where its label goes)."""
        return self.at(0.5)


@dataclass(frozen=True)
class Drawing:
    nodes: tuple[Node, ...]
    links: tuple[Curve, ...]
    access: tuple[tuple[Point, Point], ...]  # host to switch
    legend: tuple[tuple[str, str, str | None], ...]  # (marker, label, owner or None for hosts)
    owners: tuple[str, ...]
    labelled: bool


def _curve(link_id: str, a: Point, b: Point, bend: float, label: str) -> Curve:
    (x0, y0), (x1, y1) = a, b
    mid = ((x0 + x1) / 2, (y0 + y1) / 2)
    # The normal of a -> b, scaled by the distance: the same bend on short and long links.
    control = (mid[0] - bend * (y1 - y0), mid[1] + bend * (x1 - x0))
    return Curve(link_id, a, control, b, label)


def layout(scenario: Scenario, seed: int = 1) -> Drawing:
    """Where everything goes: nodes, one curve per link (parallel ones bowed apart), the legend."""
    show_hosts = len(scenario.hosts) <= MAX_DRAWN_HOSTS
    g = nx.Graph()
    g.add_nodes_from(s.name for s in scenario.switches)
    g.add_edges_from((l.a, l.b) for l in scenario.links)
    if show_hosts:
        g.add_edges_from((h.name, h.switch) for h in scenario.hosts)
    pos = nx.kamada_kawai_layout(g) if 1 < len(g) <= 120 else nx.spring_layout(g, seed=seed)
    pos = {n: (float(x), float(y)) for n, (x, y) in pos.items()}
    role = {s.name: scenario.participant[s.owner].role for s in scenario.switches}
    nodes = [Node(s.name, pos[s.name], ROLE_SHAPES[role[s.name]], s.owner) for s in scenario.switches]
    if show_hosts:
        nodes += [Node(h.name, pos[h.name], HOST_SHAPE, None) for h in scenario.hosts]
    parallel: dict[frozenset, list] = {}
    for link in scenario.links:
        parallel.setdefault(frozenset((link.a, link.b)), []).append(link)
    curves = []
    for group in parallel.values():
        a = min(group[0].a, group[0].b)  # bend relative to one direction for the whole group
        b = group[0].b if a == group[0].a else group[0].a
        for i, link in enumerate(group):
            bend = (i - (len(group) - 1) / 2) * ARC_STEP
            curves.append(_curve(link.id, pos[a], pos[b], bend, f"{link.id} {format_rate(link.capacity_kbps)}"))
    owners = tuple(sorted({s.owner for s in scenario.switches}))
    legend = [(ROLE_SHAPES[scenario.participant[o].role], f"{o} ({scenario.participant[o].role})", o)
              for o in owners]
    if show_hosts:
        legend.append((HOST_SHAPE, "host", None))
    access = tuple((pos[h.name], pos[h.switch]) for h in scenario.hosts) if show_hosts else ()
    return Drawing(tuple(nodes), tuple(curves), access, tuple(legend), owners,
                   len(scenario.links) <= MAX_LABELLED_LINKS)


def figure(scenario: Scenario, seed: int = 1):
    """A matplotlib figure of ``scenario`` (the caller closes it)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    d = layout(scenario, seed)
    cmap = plt.get_cmap("tab20", max(len(d.owners), 1))
    colour = {o: cmap(i) for i, o in enumerate(d.owners)}
    big = len(d.nodes) > 60
    size = 24 if big else 14
    fig, ax = plt.subplots(figsize=(size, size * 0.7))
    for start, end in d.access:
        ax.plot([start[0], end[0]], [start[1], end[1]], color="#dddddd", linewidth=1, zorder=1)
    # One collection of polylines: thousands of links draw in a second, not one patch each.
    steps = [i / 16 for i in range(17)]
    ax.add_collection(LineCollection([[c.at(t) for t in steps] for c in d.links], colors="#999999", linewidths=1.2,
                                     zorder=1))
    for c in d.links:
        if d.labelled:
            ax.text(*c.middle, c.label, fontsize=7, ha="center", va="center", zorder=3,
                    bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"})
    for n in d.nodes:
        ax.scatter([n.xy[0]], [n.xy[1]], marker=n.marker, s=(120 if big else 700) if n.owner else 250,
                   color=colour[n.owner] if n.owner else HOST_COLOUR, edgecolors="#555555", zorder=2)
        if not big or n.owner is None:
            ax.text(*n.xy, n.name, fontsize=8, ha="center", va="center", zorder=4)
    handles = [Line2D([], [], marker=marker, linestyle="", markersize=10, markeredgecolor="#555555",
                      color=colour[owner] if owner else HOST_COLOUR, label=label)
               for marker, label, owner in d.legend]
    ax.legend(handles=handles, loc="upper left", fontsize=8, framealpha=1, ncol=1 if len(handles) < 12 else 4)
    ax.set_title(f"{scenario.name}: {len(scenario.switches)} switches, {len(scenario.hosts)} hosts, "
                 f"{len(scenario.links)} links")
    ax.autoscale_view()
    ax.set_aspect("equal", adjustable="datalim")
    ax.axis("off")
    fig.tight_layout()
    return fig


def draw_scenario(scenario: Scenario, out_path: str, seed: int = 1) -> None:
    """Write a picture of ``scenario`` to ``out_path``; its suffix picks the format (png, svg, pdf, ...)."""
    import matplotlib.pyplot as plt

    fig = figure(scenario, seed)
    try:
        fig.savefig(out_path, dpi=90)
    finally:
        plt.close(fig)


def supported_formats() -> set[str]:
    """File suffixes matplotlib can write here (not ``pgf``, which needs LaTeX)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backend_bases import FigureCanvasBase

    return set(FigureCanvasBase.get_supported_filetypes()) - {"pgf"}


def load_widths(loads: dict[str, dict[str, int]], thinnest: float = 0.6, thickest: float = 9.0) -> dict:
    """Line widths per plan and link: proportional to the link's load, on one scale for every
    plan (the busiest link of any plan is ``thickest``); an unused link is ``thinnest``.

    >>> load_widths({"a": {"x": 100, "y": 0}, "b": {"x": 50}})
    {'a': {'x': 9.0, 'y': 0.6}, 'b': {'x': 4.8}}
    """
    top = max((v for plan in loads.values() for v in plan.values()), default=0)
    return {plan: {link: (thinnest + (thickest - thinnest) * v / top if top and v > 0 else thinnest)
                   for link, v in links.items()} for plan, links in loads.items()}


def draw_loads(scenario: Scenario, loads: dict[str, dict[str, int]], out_path: str, seed: int = 1) -> None:
    """One panel per plan, side by side: the topology with each link drawn by the bytes it
    carried under that plan (``loads``: plan -> link id -> bytes), on one scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    d = layout(scenario, seed)
    widths = load_widths(loads)
    cmap = plt.get_cmap("tab20", max(len(d.owners), 1))
    colour = {o: cmap(i) for i, o in enumerate(d.owners)}
    steps = [i / 16 for i in range(17)]
    fig, axes = plt.subplots(1, max(len(loads), 1), figsize=(6 * max(len(loads), 1), 5), squeeze=False)
    try:
        for ax, (plan, links) in zip(axes[0], loads.items()):
            for start, end in d.access:
                ax.plot([start[0], end[0]], [start[1], end[1]], color="#dddddd", linewidth=1, zorder=1)
            for c in d.links:
                used = links.get(c.link, 0) > 0
                xs, ys = zip(*(c.at(t) for t in steps))
                ax.plot(xs, ys, color="#d62728" if used else "#bbbbbb", linewidth=widths[plan].get(c.link, 0.6),
                        zorder=1, solid_capstyle="round")
                if d.labelled and used:
                    ax.text(*c.middle, format_bytes(links[c.link]), fontsize=7, ha="center", va="center", zorder=3,
                            bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"})
            for n in d.nodes:
                ax.scatter([n.xy[0]], [n.xy[1]], marker=n.marker, s=300 if n.owner else 120,
                           color=colour[n.owner] if n.owner else HOST_COLOUR, edgecolors="#555555", zorder=2)
                ax.text(*n.xy, n.name, fontsize=7, ha="center", va="center", zorder=4)
            ax.set_title(f"{plan}: {format_bytes(sum(links.values()))} over links")
            ax.autoscale_view()
            ax.set_aspect("equal", adjustable="datalim")
            ax.axis("off")
        fig.suptitle(f"{scenario.name}: bytes per link under each plan (the same traffic)")
        fig.tight_layout()
        fig.savefig(out_path, dpi=80)
    finally:
        plt.close(fig)


def format_bytes(n: int) -> str:
    """Bytes in B, kB, MB or GB (powers of ten).

    >>> format_bytes(999), format_bytes(1500), format_bytes(2_500_000)
    ('999 B', '1.5 kB', '2.5 MB')
    """
    for unit, size in (("GB", 10 ** 9), ("MB", 10 ** 6), ("kB", 10 ** 3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"
