"""A real Prometheus server per run (Debian's ``prometheus``), its database kept in the run's directory.

``openisp run`` starts one that scrapes the controller (``/metrics`` beside
``/status``) and the receivers' exporter (:mod:`dataplane.exporter`) every second
on 127.0.0.1; its configuration is generated and checked with ``promtool check
config`` first.  ``openisp report`` starts one on a kept database to read it back.

>>> print(scrape_config({"controller": "127.0.0.1:8661"}, run="default"))  # doctest: +NORMALIZE_WHITESPACE
global:
  scrape_interval: 1s
  evaluation_interval: 1s
  external_labels:
    run: default
scrape_configs:
- job_name: controller
  static_configs:
  - targets:
    - 127.0.0.1:8661
    labels:
      run: default
"""
from __future__ import annotations

import json
import os
import signal
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import yaml

from .errors import DataplaneError

__all__ = ["PrometheusServer", "scrape_config", "SCRAPE_S"]

SCRAPE_S = 1


def scrape_config(targets: dict[str, str], run: str, scrape_s: int = SCRAPE_S) -> str:
    """Prometheus' configuration: one job per target (``job -> host:port``), every ``scrape_s``."""
    config = {"global": {"scrape_interval": f"{scrape_s}s", "evaluation_interval": f"{scrape_s}s",
                         "external_labels": {"run": run}},
              # The run's name as a label of every series (external labels are not stored), so
              # dashboards can tell runs apart in one Prometheus.
              "scrape_configs": [{"job_name": job, "static_configs": [{"targets": [target], "labels": {"run": run}}]}
                                 for job, target in sorted(targets.items())]}
    return yaml.safe_dump(config, sort_keys=False)


class PrometheusServer:
    """``prometheus`` on 127.0.0.1:``port`` with its database in ``data_dir``; :meth:`stop` ends it."""

    def __init__(self, data_dir: str | Path, port: int, targets: dict[str, str] | None = None, run: str = "openisp",
                 binary: str = "prometheus"):
        self.data_dir, self.port, self.targets, self.run = Path(data_dir), port, dict(targets or {}), run
        self.binary = shutil.which(binary) or binary
        self.config = self.data_dir.parent / f"{self.data_dir.name}.yml"
        self.log = self.data_dir.parent / f"{self.data_dir.name}.log"
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 30.0) -> "PrometheusServer":
        if shutil.which(self.binary) is None:
            raise DataplaneError("prometheus is not installed: run `make setup` (Debian's prometheus package)")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.config.write_text(scrape_config(self.targets, self.run))
        check = subprocess.run(["promtool", "check", "config", str(self.config)], capture_output=True, text=True)
        if check.returncode != 0:
            raise DataplaneError(f"promtool refused {self.config}: {(check.stdout + check.stderr).strip()[-300:]}")
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [self.binary, f"--config.file={self.config}", f"--storage.tsdb.path={self.data_dir}",
                 f"--web.listen-address=127.0.0.1:{self.port}", "--storage.tsdb.retention.time=3650d",
                 "--web.enable-admin-api", "--log.level=warn"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise DataplaneError(f"prometheus exited with {self.proc.returncode}; see {self.log}")
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        self.stop()
        raise DataplaneError(f"prometheus not ready after {timeout_s:.0f} s; see {self.log}")

    def query(self, expr: str, at: float | None = None) -> list[dict]:
        """An instant query: the result vector (``[{"metric": {...}, "value": [t, "v"]}]``)."""
        params = {"query": expr, **({"time": f"{at:.3f}"} if at is not None else {})}
        return self._get("/api/v1/query", params)["result"]

    def query_range(self, expr: str, start: float, end: float, step: float = 1.0) -> list[dict]:
        """A range query: ``[{"metric": {...}, "values": [[t, "v"], ...]}]``."""
        return self._get("/api/v1/query_range", {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}",
                                                 "step": f"{step:g}"})["result"]

    def _get(self, path: str, params: dict) -> dict:
        url = f"{self.url}{path}?{urllib.parse.urlencode(params)}"
        try:
            with urllib.request.urlopen(url, timeout=30) as r:
                body = json.load(r)
        except urllib.error.HTTPError as exc:
            body = json.loads(exc.read() or b"{}")
            raise DataplaneError(f"prometheus refused {params.get('query')!r}: {body.get('error', exc)}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise DataplaneError(f"prometheus did not answer {path}: {exc}") from None
        if body.get("status") != "success":
            raise DataplaneError(f"prometheus: {body.get('error', body)}")
        return body["data"]

    def stop(self, timeout_s: float = 15.0) -> None:
        """SIGTERM (it writes its head block out), then SIGKILL if it lingers."""
        if self.proc is None or self.proc.poll() is not None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.proc.wait(timeout=timeout_s)
                return
            except subprocess.TimeoutExpired:
                continue
