r"""Every panel query of the Grafana dashboards, read from their JSON and evaluated against a Prometheus.

The dashboards are those ``grafana/dashboards/*.json`` holds (what Grafana
loads); their queries are filled in as Grafana would: each template variable
from its ``label_values(...)`` query over the time range (multi-value "All":
its ``allValue``, else every value as a regex alternation), ``$__interval``
from the step and ``$__rate_interval`` from it and the 1 s scrape interval.

>>> d = parse_dashboard({"uid": "u", "title": "T", "templating": {"list": [
...     {"name": "demand", "type": "query", "query": "label_values(m, demand)", "includeAll": True}]},
...     "panels": [{"type": "row", "title": "r"}, {"type": "timeseries", "title": "P", "targets": [
...     {"refId": "A", "expr": 'rate(x{demand=~"$demand"}[$__rate_interval])', "legendFormat": "{{demand}}"}]}]})
>>> [(p.title, [t.expr for t in p.targets]) for p in d.panels]
[('P', ['rate(x{demand=~"$demand"}[$__rate_interval])'])]
>>> interpolate(d.panels[0].targets[0].expr, {"demand": "(a\\\\.b|c)"}, step_s=2)
'rate(x{demand=~"(a\\\\.b|c)"}[4s])'
>>> regex_value(["a.b", "c"])
'(a\\\\.b|c)'
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DataplaneError

__all__ = ["DASHBOARDS_DIR", "Target", "Panel", "Variable", "Dashboard", "Series", "PanelData", "ReportError",
           "parse_dashboard", "load_dashboards", "interpolate", "regex_value", "variable_values", "evaluate",
           "step_for"]

DASHBOARDS_DIR = Path(__file__).resolve().parents[2] / "grafana" / "dashboards"
#: The runs' scrape interval, as the datasource declares it (``timeInterval``).
SCRAPE_S = 1
_VAR = re.compile(r"\$(?:\{(\w+)\}|(\w+))")
_LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(?P<metric>.+)\s*,\s*(?P<label>\w+)\s*\)\s*$", re.S)


class ReportError(DataplaneError):
    """A run's data could not be read back, or a dashboard could not be evaluated against it."""


@dataclass(frozen=True)
class Target:
    ref: str
    expr: str
    legend: str = ""


@dataclass(frozen=True)
class Panel:
    dashboard: str
    title: str
    kind: str
    unit: str
    description: str
    targets: tuple[Target, ...]

    @property
    def name(self) -> str:
        return f"{self.dashboard} / {self.title}"


@dataclass(frozen=True)
class Variable:
    name: str
    query: str
    include_all: bool
    all_value: str | None


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    variables: tuple[Variable, ...]
    panels: tuple[Panel, ...]


def parse_dashboard(data: dict) -> Dashboard:
    """The panels with queries and the template variables of one dashboard's JSON."""
    title = data.get("title", data.get("uid", "?"))
    variables = []
    for v in data.get("templating", {}).get("list", []):
        if v.get("type") != "query":
            raise ReportError(f"{title}: variable ${v.get('name')}: only query variables are evaluated")
        q = v.get("query")
        variables.append(Variable(v["name"], q["query"] if isinstance(q, dict) else q, bool(v.get("includeAll")),
                                  v.get("allValue")))
    panels = []
    flat = []
    for p in data.get("panels", []):
        flat += [p, *p.get("panels", [])]  # a collapsed row holds its panels
    for p in flat:
        if p.get("type") == "row":
            continue
        targets = tuple(Target(t.get("refId", "A"), t["expr"], t.get("legendFormat", ""))
                        for t in p.get("targets", []) if not t.get("hide") and t.get("expr"))
        if not targets:
            raise ReportError(f"{title} / {p.get('title')}: a panel with no query")
        unit = p.get("fieldConfig", {}).get("defaults", {}).get("unit", "none")
        panels.append(Panel(title, p.get("title", ""), p.get("type", ""), unit, p.get("description", ""), targets))
    return Dashboard(data.get("uid", ""), title, tuple(variables), tuple(panels))


def load_dashboards(names: list[str] | None = None, directory: str | Path | None = None) -> list[Dashboard]:
    """The dashboards ``directory/NAME.json`` (:data:`DASHBOARDS_DIR`; all of them when ``names`` is None)."""
    directory = Path(directory) if directory is not None else DASHBOARDS_DIR
    paths = [directory / f"{n}.json" for n in names] if names else sorted(directory.glob("*.json"))
    out = []
    for path in paths:
        try:
            out.append(parse_dashboard(json.loads(path.read_text())))
        except (OSError, ValueError, KeyError) as exc:
            raise ReportError(f"{path}: cannot read the dashboard: {exc}") from None
    if not out:
        raise ReportError(f"no dashboards in {directory} (python -m grafana.build writes them)")
    return out


def regex_value(values: list[str]) -> str:
    """Grafana's Prometheus formatting of several values: escaped for a regex in a PromQL string."""
    escaped = [re.sub(r"([\\^$*+?.()|{}\[\]])", r"\\\\\1", v) for v in values]
    return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


def step_for(start: float, end: float, points: int = 300) -> int:
    """Seconds between points: about ``points`` over the range, at least 1 s."""
    return max(1, math.ceil((end - start) / points))


def interpolate(expr: str, values: dict[str, str], step_s: int, range_s: float | None = None) -> str:
    """``expr`` with Grafana's built-ins and the variables' ``values`` filled in; an unknown variable is an error."""
    builtins = {"__interval": f"{step_s}s", "__rate_interval": f"{max(step_s + SCRAPE_S, 4 * SCRAPE_S)}s",
                "__range": f"{int(range_s or step_s)}s"}

    def fill(m: re.Match) -> str:
        name = m.group(1) or m.group(2)
        if name in builtins:
            return builtins[name]
        if name not in values:
            raise ReportError(f"${name} is used in {expr!r} but no variable defines it")
        return values[name]
    return _VAR.sub(fill, expr)


def variable_values(server, dashboard: Dashboard, start: float, end: float) -> dict[str, str]:
    """Each variable at "All": its ``allValue``, else its values over ``[start, end]`` (as :func:`regex_value`)."""
    values: dict[str, str] = {}
    for v in dashboard.variables:
        m = _LABEL_VALUES.match(v.query)
        if m is None:
            raise ReportError(f"{dashboard.title}: ${v.name}: cannot evaluate {v.query!r} (only label_values)")
        metric = interpolate(m["metric"], values, 1)
        window = max(1, math.ceil(end - start) + 1)
        found = sorted({s["metric"].get(m["label"], "") for s in server.query(
            f"group by ({m['label']}) (last_over_time({metric}[{window}s]))", at=end)} - {""})
        if v.include_all and v.all_value is not None:
            values[v.name] = v.all_value
        elif found:
            values[v.name] = regex_value(found)
        else:
            raise ReportError(f"{dashboard.title}: ${v.name} has no values ({v.query}) in this data")
    return values


@dataclass
class Series:
    legend: str
    labels: dict
    times: list[float]
    values: list[float]

    @property
    def finite(self) -> int:
        return sum(1 for v in self.values if math.isfinite(v))


@dataclass
class PanelData:
    panel: Panel
    queries: dict[str, str]  # refId -> the PromQL sent
    series: dict[str, list[Series]] = field(default_factory=dict)  # refId -> what came back

    def empty(self) -> list[Target]:
        """The targets that returned no series with a finite value."""
        return [t for t in self.panel.targets if not any(s.finite for s in self.series.get(t.ref, []))]


def legend(fmt: str, labels: dict) -> str:
    """``{{label}}`` filled from ``labels``; with no format, the labels themselves.

    >>> legend("{{demand}} received", {"demand": "d1"}), legend("", {"__name__": "m", "job": "j"})
    ('d1 received', 'value')
    """
    if fmt:
        return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: str(labels.get(m.group(1), "")), fmt)
    shown = {k: v for k, v in labels.items() if k not in ("job", "instance", "__name__")}
    return "{" + ", ".join(f"{k}={v}" for k, v in sorted(shown.items())) + "}" if shown else "value"


def evaluate(server, dashboard: Dashboard, start: float, end: float, step_s: int | None = None) -> list[PanelData]:
    """Every panel of ``dashboard`` over ``[start, end]``: each query's series, as Grafana would draw them."""
    step = step_s or step_for(start, end)
    start, end = math.floor(start / step) * step, math.ceil(end / step) * step  # aligned, as Grafana aligns
    values = variable_values(server, dashboard, start, end)
    out = []
    for panel in dashboard.panels:
        data = PanelData(panel, {t.ref: interpolate(t.expr, values, step, end - start) for t in panel.targets})
        for t in panel.targets:
            rows = server.query_range(data.queries[t.ref], start, end, step)
            data.series[t.ref] = [Series(legend(t.legend, r["metric"]), r["metric"],
                                         [float(ts) for ts, _ in r["values"]], [float(v) for _, v in r["values"]])
                                  for r in rows]
        out.append(data)
    return out
