"""What the controller knows, shared between the os-ken app and its HTTP endpoint.

``GET /status`` on 127.0.0.1 returns it as JSON, so the data plane (a separate
process that never imports the controller) can wait until every switch is
connected and holds its rules.

>>> s = ControllerStatus(expected={1: "s1"})
>>> s.connected(1); s.acknowledged(1, rules=3); s.snapshot()["ready"]
True
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ControllerStatus:
    """Thread-safe record of switch connections and plan acknowledgements."""

    def __init__(self, expected: dict[int, str], clock=time.monotonic, paths: dict[str, list[list[str]]] | None = None,
                 allocated: dict[str, int] | None = None):
        self._lock = threading.Lock()
        self.paths = dict(paths or {})  # demand id -> the switch sequences its traffic takes
        self.allocated = dict(allocated or {})  # demand id -> kbps the market gave it (empty: no market)
        self.epoch = 0
        self.down: list[str] = []
        self._stats: dict[str, dict] = {}
        self._clock = clock
        self._started = clock()
        self.expected = dict(expected)
        self._switches: dict[int, dict] = {}
        self.errors: list[str] = []

    def connected(self, dpid: int) -> None:
        with self._lock:
            self._switches[dpid] = {"connected": True, "acknowledged": False, "rules": 0,
                                    "connected_at": round(self._clock() - self._started, 4)}

    def disconnected(self, dpid: int) -> None:
        with self._lock:
            if dpid in self._switches:
                self._switches[dpid].update(connected=False, acknowledged=False)

    def acknowledged(self, dpid: int, rules: int) -> None:
        with self._lock:
            entry = self._switches.setdefault(dpid, {"connected": True})
            entry.update(acknowledged=True, rules=rules, at=round(self._clock() - self._started, 4))

    def replanned(self, epoch: int, paths: dict, allocated: dict, down: list[str]) -> None:
        with self._lock:
            self.epoch, self.paths, self.allocated, self.down = epoch, dict(paths), dict(allocated), list(down)

    def reconciled(self, dpid: int, unchanged: int, added: int, removed: int) -> None:
        """What a (re)connect did: flows kept as they were, installed, removed."""
        with self._lock:
            self._switches.setdefault(dpid, {}).update(unchanged=unchanged, added=added, removed=removed)

    def stats(self, dpid: int, kind: str, data: dict) -> None:
        """The latest counters of one kind (``ports``, ``meters``, ``flow_packets``) from one switch."""
        with self._lock:
            self._stats.setdefault(str(dpid), {})[kind] = data

    def error(self, message: str) -> None:
        with self._lock:
            self.errors.append(message)
            del self.errors[:-50]  # keep the last few

    def snapshot(self) -> dict:
        with self._lock:
            switches = {str(d): {"name": self.expected.get(d, "?"), **v} for d, v in self._switches.items()}
            ready = all(self._switches.get(d, {}).get("acknowledged") for d in self.expected)
            return {"ready": ready, "expected": len(self.expected),
                    "connected": sum(1 for v in self._switches.values() if v.get("connected")),
                    "acknowledged": sum(1 for v in self._switches.values() if v.get("acknowledged")),
                    "switches": switches, "errors": list(self.errors), "paths": self.paths,
                    "allocated_kbps": self.allocated, "epoch": self.epoch, "links_down": self.down,
                    "stats": self._stats}


def serve_status(status: ControllerStatus, port: int, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """Serve ``GET /status`` in a daemon thread; returns the server (``shutdown()`` stops it)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            if self.path.rstrip("/") != "/status":
                self.send_error(404, "try /status")
                return
            body = json.dumps(status.snapshot()).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):  # keep the controller's log for OpenFlow events
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="status-http", daemon=True).start()
    return server
