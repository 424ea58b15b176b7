"""``openisp report``: a run's Prometheus data read back and drawn as the Grafana dashboards' panels.

:mod:`.dashboards` reads the panel queries from ``grafana/dashboards/*.json`` and
evaluates them; :mod:`.database` serves a kept database for the time it takes;
:mod:`.render` draws each panel to PNG (matplotlib) and writes ``report.html``.
"""
from .dashboards import ReportError, evaluate, load_dashboards

__all__ = ["ReportError", "evaluate", "load_dashboards"]
