"""The controller as a separate process, reached over HTTP: start, wait, stop.

The data plane never imports the controller: it runs ``openisp controller``
with free loopback ports and polls ``GET /status`` until every switch holds
its rules.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable

from .errors import DataplaneError


_handed_out: set[int] = set()  # ports free_port gave this process: never given twice


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now, and that this process
    was not given before (a controller's OpenFlow and status ports, then Prometheus's, are
    picked before any of them listens: the kernel could hand the same free port out twice)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port


def switches_view(ofp_port: int) -> str:
    """What Open vSwitch says of its connections to a controller on ``ofp_port``
    (``ovs-vsctl list controller``), in one line; empty when it cannot say."""
    try:
        out = subprocess.run(["ovs-vsctl", "--timeout=5", "--format=json", "--columns=target,is_connected,status",
                              "list", "controller"], capture_output=True, text=True, timeout=10, check=True).stdout
        rows = json.loads(out)["data"]
    except (OSError, subprocess.SubprocessError, ValueError, KeyError):
        return ""
    return summarize_connections(rows, f"tcp:127.0.0.1:{ofp_port}")


def summarize_connections(rows: list, target: str) -> str:
    """``ovs-vsctl --format=json list controller`` rows (target, is_connected, status) of
    ``target`` in one line: how many bridges point at it, how many are connected, and
    each state and last error seen with how many bridges.

    >>> rows = [["tcp:127.0.0.1:7", False, ["map", [["last_error", "Connection refused"], ["state", "BACKOFF"]]]],
    ...         ["tcp:127.0.0.1:7", True, ["map", [["state", "ACTIVE"]]]],
    ...         ["tcp:127.0.0.1:8", False, ["map", []]]]
    >>> summarize_connections(rows, "tcp:127.0.0.1:7")
    '2 bridges point at tcp:127.0.0.1:7, 1 connected; state ACTIVE (1), BACKOFF (1); last error Connection refused (1)'
    >>> summarize_connections(rows, "tcp:127.0.0.1:9")
    'no bridge points at tcp:127.0.0.1:9'
    """
    mine = [(connected, dict(status[1]) if isinstance(status, list) and status[:1] == ["map"] else {})
            for tgt, connected, status in rows if tgt == target]
    if not mine:
        return f"no bridge points at {target}"
    n = len(mine)
    up = sum(c is True for c, _ in mine)
    said = f"{n} {'bridge points' if n == 1 else 'bridges point'} at {target}, {up} connected"
    for key, label in (("state", "state"), ("last_error", "last error")):
        seen: dict[str, int] = {}
        for _, status in mine:
            if key in status:
                seen[status[key]] = seen.get(status[key], 0) + 1
        if seen:
            said += f"; {label} " + ", ".join(f"{value} ({count})" for value, count in sorted(seen.items()))
    return said


class ControllerProcess:
    """``openisp controller SCENARIO`` in its own process group, logging to a file."""

    def __init__(self, scenario_path: str, log_path: Path, ofp_port: int | None = None,
                 status_port: int | None = None, plan: str = "market", extra_args: tuple[str, ...] = ()):
        self.scenario_path = scenario_path
        self.plan = plan
        self.extra_args = tuple(extra_args)
        self.log_path = Path(log_path)
        self.ofp_port = ofp_port or free_port()
        self.status_port = status_port or free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def status_url(self) -> str:
        return f"http://127.0.0.1:{self.status_port}/status"

    def start(self) -> "ControllerProcess":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        cmd = [sys.executable, "-m", "openisp.cli", "controller", self.scenario_path,
               "--ofp-port", str(self.ofp_port), "--status-port", str(self.status_port), "--plan", self.plan,
               *self.extra_args]
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        log.close()
        return self

    def status(self) -> dict | None:
        try:
            with urllib.request.urlopen(self.status_url, timeout=2) as response:
                return json.load(response)
        except (urllib.error.URLError, OSError, ValueError):
            return None

    def post(self, path: str, body: dict) -> dict:
        """POST a JSON object to one of the controller's actions (``/timeline``)."""
        url = f"http://127.0.0.1:{self.status_port}{path}"
        request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return json.load(response)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise DataplaneError(f"the controller did not take {path}: {exc}") from None

    def wait_ready(self, timeout_s: float, progress: Callable[[str], None] = lambda _: None,
                   clock: Callable[[], float] = time.monotonic) -> dict:
        """Block until every switch is connected and has acknowledged its plan."""
        deadline, last = clock() + timeout_s, None
        while clock() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                said = self.last_words()
                raise DataplaneError(f"the controller exited with {self.proc.returncode}"
                                     + (f" ({said})" if said else "") + f"; see {self.log_path}")
            status = self.status()
            if status:
                expected = status["expected"]
                line = (f"switches connected {status['connected']}/{expected}, "
                        f"holding rules {status['acknowledged']}/{expected}")
                if line != last:
                    progress(line)
                    last = line
                if status["errors"]:
                    raise DataplaneError(f"a switch refused the controller's rules: {status['errors'][0]}")
                if status["ready"]:
                    return status
            time.sleep(0.2)
        seen = switches_view(self.ofp_port)
        dumped = self.dump_threads()
        raise DataplaneError(f"switches not ready after {timeout_s:.0f} s ({last or 'controller not answering'})"
                             + (f"; Open vSwitch says: {seen}" if seen else "")
                             + ("; the controller's threads are dumped in its log" if dumped else "")
                             + f"; see {self.log_path}")

    def dump_threads(self, settle_s: float = 0.5) -> bool:
        """Ask the running controller to write every thread's stack to its log (SIGUSR1, see
        :func:`controller.launch.run_controller`): what it was stuck on, when it did not get ready."""
        if self.proc is None or self.proc.poll() is not None:
            return False
        try:
            os.kill(self.proc.pid, signal.SIGUSR1)
        except ProcessLookupError:
            return False
        time.sleep(settle_s)
        return True

    def last_words(self) -> str:
        """The last line the controller wrote to its log (its error, when it stopped on one)."""
        try:
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return lines[-1].strip() if lines else ""

    def stop(self, timeout_s: float = 5.0) -> None:
        """SIGTERM the process group, then SIGKILL if it lingers."""
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
