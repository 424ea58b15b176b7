"""A kept Prometheus database served read-back: on a free loopback port, for as long as a ``with`` lasts.

The server's configuration and log go to a scratch directory (the database is
linked there), so reading a run back leaves the run's own ``prometheus.yml``
and ``prometheus.log`` as the run wrote them; the server is stopped, and
waited for, when the ``with`` ends, whatever happens inside it.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from ..prometheus import PrometheusServer
from .dashboards import ReportError

__all__ = ["find_database", "served", "serving", "time_range"]


def _is_database(path: Path) -> bool:
    return path.is_dir() and ((path / "wal").is_dir() or any(path.glob("*/meta.json")))


def find_database(run_dir: str | Path) -> Path:
    """``RUN_DIR/prometheus`` (what ``openisp run`` keeps), or ``RUN_DIR`` itself if it is a database."""
    run_dir = Path(run_dir)
    if not run_dir.exists():
        raise ReportError(f"{run_dir}: no such directory")
    for candidate in (run_dir / "prometheus", run_dir):
        if _is_database(candidate):
            return candidate
    raise ReportError(f"{run_dir}: no Prometheus database in it (`openisp run` keeps one in RUN_DIR/prometheus; "
                      f"a run with --no-prometheus has none)")


def serving(db_dir: str | Path) -> int | None:
    """The pid of a running ``prometheus`` whose ``--storage.tsdb.path`` is ``db_dir`` (or a link to it).

    Two servers on one database would corrupt it, and Debian's Prometheus takes no
    lock file by default, so the command lines tell.
    """
    target = Path(db_dir).resolve()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().decode(errors="replace").split("\0")
            if not argv[0].endswith("prometheus"):
                continue
            paths = [a.split("=", 1)[1] for a in argv if a.startswith("--storage.tsdb.path=")]
            if paths and (Path(os.readlink(proc / "cwd")) / paths[0]).resolve() == target:
                return int(proc.name)
        except OSError:
            continue
    return None


@contextmanager
def served(db_dir: str | Path, timeout_s: float = 30.0):
    """A :class:`PrometheusServer` reading ``db_dir`` (no scrape targets); stopped on leaving."""
    from ..controllerproc import free_port

    pid = serving(db_dir)
    if pid is not None:
        raise ReportError(f"{db_dir}: a Prometheus (pid {pid}) is serving it already (a run still going?): "
                          "query that one, or wait until it stops")
    scratch = Path(tempfile.mkdtemp(prefix="openisp-report-"))
    server = None
    try:
        (scratch / "prometheus").symlink_to(Path(db_dir).resolve(), target_is_directory=True)
        server = PrometheusServer(scratch / "prometheus", free_port(), run="report")
        server.start(timeout_s)
        yield server
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(scratch, ignore_errors=True)


def time_range(server: PrometheusServer, db_dir: str | Path) -> tuple[float, float] | None:
    """First and last sample times of the database (its blocks and its head), or None when it is empty."""
    spans = []
    for meta in Path(db_dir).glob("*/meta.json"):
        try:
            m = json.loads(meta.read_text())
            spans.append((m["minTime"], m["maxTime"]))
        except (OSError, ValueError, KeyError):
            continue
    try:
        with urllib.request.urlopen(f"{server.url}/api/v1/status/tsdb", timeout=30) as r:
            head = json.load(r)["data"].get("headStats", {})
    except (OSError, ValueError, KeyError) as exc:
        raise ReportError(f"prometheus on {db_dir} did not say what it holds: {exc}") from None
    if head.get("numSeries") and head.get("minTime", 1) <= head.get("maxTime", 0):
        spans.append((head["minTime"], head["maxTime"]))
    if not spans:
        return None
    return min(s for s, _ in spans) / 1000, max(e for _, e in spans) / 1000
