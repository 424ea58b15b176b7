"""Draw a scenario: switches coloured by provider, hosts beside their switch,
links labelled with their capacity.  Matplotlib with the Agg backend: no screen.
"""
from __future__ import annotations

import networkx as nx

from .model import Scenario
from .units import format_rate

ROLE_SHAPES = {"backbone": "s", "last_mile": "o", "content": "D", "community": "^", "customer": "."}


def draw_scenario(scenario: Scenario, out_path: str, seed: int = 1) -> None:
    """Write a PNG of ``scenario`` to ``out_path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    g = nx.MultiGraph()
    for s in scenario.switches:
        g.add_node(s.name, kind="switch")
    for l in scenario.links:
        g.add_edge(l.a, l.b, key=l.id)
    small = len(scenario.hosts) <= 60
    if small:
        for h in scenario.hosts:
            g.add_node(h.name, kind="host")
            g.add_edge(h.name, h.switch, key=f"access-{h.name}")
    pos = nx.kamada_kawai_layout(nx.Graph(g)) if len(g) <= 120 else nx.spring_layout(nx.Graph(g), seed=seed)
    owners = sorted({s.owner for s in scenario.switches})
    cmap = plt.get_cmap("tab20", max(len(owners), 1))
    colour = {o: cmap(i) for i, o in enumerate(owners)}
    size = 14 if len(g) <= 60 else 24
    fig, ax = plt.subplots(figsize=(size, size * 0.7))
    nx.draw_networkx_edges(nx.Graph(g), pos, ax=ax, edge_color="#bbbbbb", width=1.2)
    for role, shape in ROLE_SHAPES.items():
        nodes = [s.name for s in scenario.switches if scenario.participant[s.owner].role == role]
        if nodes:
            nx.draw_networkx_nodes(g, pos, nodelist=nodes, node_shape=shape, ax=ax, node_size=700 if small else 120,
                                   node_color=[colour[scenario.switch[n].owner] for n in nodes])
    if small:
        hosts = [h.name for h in scenario.hosts]
        nx.draw_networkx_nodes(g, pos, nodelist=hosts, node_color="#dddddd", node_size=250, ax=ax)
        nx.draw_networkx_labels(g, pos, font_size=8, ax=ax)
        labels = {(l.a, l.b): format_rate(l.capacity_kbps) for l in scenario.links}
        nx.draw_networkx_edge_labels(nx.Graph(g), pos, edge_labels=labels, font_size=7, ax=ax)
    for owner in owners:
        ax.scatter([], [], color=colour[owner], label=f"{owner} ({scenario.participant[owner].role})")
    ax.legend(loc="upper left", fontsize=8, ncol=1 if len(owners) < 12 else 4)
    ax.set_title(f"{scenario.name}: {len(scenario.switches)} switches, {len(scenario.hosts)} hosts, "
                 f"{len(scenario.links)} links")
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(out_path, dpi=90)
    plt.close(fig)
