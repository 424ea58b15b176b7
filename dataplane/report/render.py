"""The dashboards' panels drawn to PNG with matplotlib, and one ``report.html`` that shows them all.

Each panel is drawn from the series its queries returned (:class:`PanelData`),
one line per series with the panel's legend, its unit on the y axis, time on
the x axis (seconds since the first sample for a run, dates for benchmarks
spread over days).  The legend sits below the axes, so the axes area holds
only what was plotted: :func:`ink` counts its coloured pixels in the PNG, and
a panel whose image has none is reported as blank, just as one with no
points is reported as empty.
"""
from __future__ import annotations

import html
import math
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: files only
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import EngFormatter, PercentFormatter  # noqa: E402

from .dashboards import Dashboard, PanelData  # noqa: E402

__all__ = ["Rendered", "render_panel", "ink", "write_report", "grafana_link"]

#: tab10 without its grey, so every plotted line is coloured and :func:`ink` can tell it from the grid
COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf"]
UNITS = {"bps": EngFormatter(unit="bit/s"), "pps": EngFormatter(unit="pkt/s"), "s": EngFormatter(unit="s"),
         "percentunit": PercentFormatter(1.0)}
MAX_LEGEND = 12
DPI = 100


@dataclass
class Rendered:
    dashboard: str
    data: PanelData
    path: Path
    points: int  # finite points plotted
    bbox: tuple[int, int, int, int]  # the axes area in the PNG: left, top, right, bottom pixels
    ink: int = 0  # coloured pixels found there, read back from the file

    @property
    def problem(self) -> str | None:
        empty = self.data.empty()
        if empty:
            return "no data from " + "; ".join(f"{t.ref}: {self.data.queries[t.ref]}" for t in empty)
        if not self.points:
            return "no points plotted"
        if not self.ink:
            return f"nothing visible in {self.path.name}"
        return None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def ink(png: Path, bbox: tuple[int, int, int, int], saturation: float = 0.15) -> int:
    """Coloured pixels (not white, grey or black) inside ``bbox`` of the PNG ``png``."""
    image = plt.imread(png)[..., :3]
    left, top, right, bottom = bbox
    area = image[top:bottom, left:right]
    return int(((area.max(axis=2) - area.min(axis=2)) > saturation).sum())


def render_panel(data: PanelData, path: Path, start: float, end: float, dashboard: str = "") -> Rendered:
    """Draw one panel to ``path``; what was drawn, with its coloured pixels counted from the file."""
    dates = end - start > 3 * 3600
    fig, ax = plt.subplots(figsize=(9, 4.2), dpi=DPI)
    ax.set_prop_cycle(color=COLOURS)
    points = 0
    lines = []
    for target, style in zip(data.panel.targets, ["-", "--", ":", "-."] * 4):
        for s in data.series.get(target.ref, []):
            ys = [v if math.isfinite(v) else math.nan for v in s.values]
            xs = [datetime.fromtimestamp(t, timezone.utc) for t in s.times] if dates else [t - start for t in s.times]
            few = s.finite <= 40
            label = data.panel.title if s.legend == "value" else s.legend
            lines += ax.plot(xs, ys, marker="o" if few else None, markersize=3, linewidth=1.5, linestyle=style,
                             label=label)
            points += s.finite
    ax.set_title(data.panel.title, loc="left", fontsize=12)
    ax.grid(True, color="#dddddd", linewidth=0.6)
    if data.panel.unit in UNITS:
        ax.yaxis.set_major_formatter(UNITS[data.panel.unit])
    if dates:
        locator = mdates.AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        ax.set_xlabel("UTC")
    else:
        ax.set_xlabel(f"seconds since {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(start))} UTC")
    if not points:
        ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center", va="center", fontsize=14)
    if lines:
        shown = lines[:MAX_LEGEND]
        labels = [ln.get_label() for ln in shown]
        if len(lines) > MAX_LEGEND:
            labels[-1] += f" (and {len(lines) - MAX_LEGEND} more)"
        fig.legend(shown, labels, loc="lower center", ncol=min(4, len(shown)), fontsize=8, frameon=False)
        rows = math.ceil(len(shown) / min(4, len(shown)))
        fig.subplots_adjust(bottom=0.16 + 0.055 * rows, top=0.9, left=0.1, right=0.97)
    fig.canvas.draw()
    box = ax.get_window_extent()
    height = fig.canvas.get_width_height()[1]
    # inside the spines, in image rows from the top
    bbox = (math.ceil(box.x0) + 2, math.ceil(height - box.y1) + 2, math.floor(box.x1) - 2,
            math.floor(height - box.y0) - 2)
    path.parent.mkdir(parents=True, exist_ok=True)
    plt.imsave(path, np.asarray(fig.canvas.buffer_rgba()))  # what was drawn once, not drawn again by savefig
    plt.close(fig)
    return Rendered(dashboard, data, path, points, bbox, ink(path, bbox))


def grafana_link(grafana: str, uid: str, start: float, end: float) -> str:
    """The dashboard in a Grafana, over the data's time range (Grafana takes milliseconds)."""
    return f"{grafana.rstrip('/')}/d/{uid}?from={int(start * 1000)}&to={int(end * 1000) + 1000}"


def write_report(evaluated: list[tuple[Dashboard, list[PanelData]]], out: Path, start: float, end: float,
                 title: str, grafana: str = "http://127.0.0.1:3000") -> list[Rendered]:
    """Every panel to ``out/<dashboard>-<nn>-<title>.png`` and ``out/report.html`` showing them."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):
        old.unlink()
    rendered = []
    for dashboard, panels in evaluated:
        for n, data in enumerate(panels, start=1):
            png = out / f"{dashboard.uid}-{n:02d}-{_slug(data.panel.title)}.png"
            rendered.append(render_panel(data, png, start, end, dashboard.title))
    (out / "report.html").write_text(_html(evaluated, rendered, start, end, title, grafana))
    return rendered


def _html(evaluated, rendered: list[Rendered], start: float, end: float, title: str, grafana: str) -> str:
    e = html.escape
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(start))
    problems = [f"<li>{e(r.data.panel.name)}: {e(r.problem)}</li>" for r in rendered if r.problem]
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{e(title)}</title><style>"
             "body{font-family:sans-serif;max-width:960px;margin:auto;padding:1em}"
             "figure{margin:1.5em 0}img{max-width:100%}code{font-size:.8em;word-break:break-all}"
             ".bad{color:#b00}</style></head><body>",
             f"<h1>{e(title)}</h1><p>From {when} UTC, {end - start:.0f} s of data; "
             f"{len(rendered)} panels of {len(evaluated)} dashboards, the same as Grafana shows "
             f"(grafana/dashboards).</p>"]
    if problems:
        parts.append(f"<div class='bad'><p>Panels without data:</p><ul>{''.join(problems)}</ul></div>")
    by_panel = {id(r.data): r for r in rendered}
    for dashboard, panels in evaluated:
        link = grafana_link(grafana, dashboard.uid, start, end)
        parts.append(f"<h2>{e(dashboard.title)}</h2><p>In Grafana: <a href='{e(link)}'>{e(link)}</a></p>")
        for data in panels:
            r = by_panel[id(data)]
            queries = "<br>".join(f"{e(ref)}: <code>{e(q)}</code>" for ref, q in data.queries.items())
            bad = f"<p class='bad'>{e(r.problem)}</p>" if r.problem else ""
            parts.append(f"<figure><img src='{e(r.path.name)}' alt='{e(data.panel.title)}'>"
                         f"<figcaption><b>{e(data.panel.title)}</b>: {e(data.panel.description)}{bad}"
                         f"<br>{queries}</figcaption></figure>")
    parts.append("</body></html>\n")
    return "\n".join(parts)
