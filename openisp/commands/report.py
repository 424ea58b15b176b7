"""``openisp report RUN_DIR``: the Grafana dashboards' panels, drawn to PNG and one report.html, from a kept run.

Starts Prometheus on the run's database (``RUN_DIR/prometheus``) on a free
loopback port, evaluates every panel's queries over the data's time range,
stops it, then draws each panel (matplotlib) into ``RUN_DIR/report/``.  Exits
non-zero, naming each one, when a panel has no data or draws nothing visible.
"""
from __future__ import annotations

import math
import sys
import time
from pathlib import Path

HELP = "draw a run's Grafana panels to PNG and report.html from its Prometheus data (no Grafana needed)"

RUN_DASHBOARDS = "market,dataplane"


def add_arguments(parser) -> None:
    parser.add_argument("run_dir", metavar="RUN_DIR",
                        help="a run's directory (runs/<scenario>-<time>, holding prometheus/), or a database")
    parser.add_argument("--out", metavar="DIR", help="where to write the PNGs and report.html (RUN_DIR/report)")
    parser.add_argument("--dashboards", default=RUN_DASHBOARDS, metavar="NAMES",
                        help=f"comma-separated grafana/dashboards/NAME.json to draw (default {RUN_DASHBOARDS}; "
                             "benchmarks for bench/out, which bench/load.py fills)")
    parser.add_argument("--dashboards-dir", metavar="DIR", help="where the dashboards' JSON is (grafana/dashboards)")
    parser.add_argument("--grafana", default="http://127.0.0.1:3000", metavar="URL",
                        help="the Grafana the report links to, over the run's time range")


def run(args) -> int:
    from dataplane.report.dashboards import ReportError, evaluate, load_dashboards, step_for
    from dataplane.report.database import find_database, served, time_range
    from dataplane.report.render import grafana_link, write_report

    db = find_database(args.run_dir)
    names = [n.strip() for n in args.dashboards.split(",") if n.strip()]
    dashboards = load_dashboards(names, args.dashboards_dir)
    out = Path(args.out) if args.out else Path(args.run_dir) / "report"
    started = time.monotonic()
    with served(db) as server:
        span = time_range(server, db)
        if span is None:
            raise ReportError(f"{db}: the database holds no samples")
        start, end = span
        if end - start < 10:  # a moment (one benchmark run): room on both sides
            start, end = start - 5, end + 5
        step = step_for(start, end)
        start, end = math.floor(start / step) * step, math.ceil(end / step) * step  # as evaluate aligns them
        evaluated = [(d, evaluate(server, d, start, end, step)) for d in dashboards]
    rendered = write_report(evaluated, out, start, end, f"openisp report: {Path(args.run_dir).resolve().name}",
                            args.grafana)
    print(f"report: {out / 'report.html'}: {len(rendered)} panels of {', '.join(d.title for d in dashboards)}, "
          f"{end - start:.0f} s of data from {time.strftime('%H:%M:%S', time.gmtime(start))} UTC "
          f"({time.monotonic() - started:.1f} s)")
    for d, _ in evaluated:
        print(f"  grafana: {grafana_link(args.grafana, d.uid, start, end)}")
    broken = [r for r in rendered if r.problem]
    for r in broken:
        print(f"openisp report: {r.data.panel.name}: {r.problem}", file=sys.stderr)
    return 1 if broken else 0
