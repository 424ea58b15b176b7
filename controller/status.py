"""What the controller knows, shared between its core and its HTTP endpoint.

``GET /status`` on 127.0.0.1 returns it as JSON, so the data plane (a separate
process that never imports the controller) can wait until every switch is
connected and holds its rules, and read the counters by name: per demand and
path, per link and switch, per host.

>>> s = ControllerStatus(expected={1: "s1"})
>>> s.connected(1); s.acknowledged(1, rules=3); s.snapshot()["ready"]
True
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

#: Sections of ``counters`` in the snapshot, each keyed by a name from the scenario.
COUNTER_SECTIONS = ("demands", "links", "hosts", "flow_kinds")
#: How many past plans ``history`` keeps.
HISTORY = 500


class ControllerStatus:
    """Thread-safe record of switch connections, the current plan and named counters."""

    def __init__(self, expected: dict[int, str], clock=time.monotonic, paths: dict[str, list[list[str]]] | None = None,
                 allocated: dict[str, int] | None = None):
        self._lock = threading.Lock()
        self.paths = dict(paths or {})  # demand id -> the switch sequences its traffic takes
        self.allocated = dict(allocated or {})  # demand id -> kbps the market gave it (empty: no market)
        self.path_kbps: dict[str, list[int]] = {}
        self.source_port_slices = 0
        self.epoch = 0
        self.down: list[str] = []
        self._counters: dict[str, dict] = {section: {} for section in COUNTER_SECTIONS}
        self._clock = clock
        self._started = clock()
        self.expected = dict(expected)
        self._switches: dict[int, dict] = {}
        self.errors: list[str] = []
        self.notes: list[str] = []
        self.history: list[dict] = []
        self.api_url = ""  # the participants' API, when the market runs as an exchange
        self.bids: dict[str, int] = {}  # the closed loop's bids, when demand is measured

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

    def installing(self, dpid: int) -> None:
        """A new plan was sent; the switch holds it once its barrier is answered."""
        with self._lock:
            if dpid in self._switches:
                self._switches[dpid]["acknowledged"] = False

    def replanned(self, epoch: int, paths: dict, allocated: dict, down: list[str],
                  path_kbps: dict | None = None, source_port_slices: int = 0, reason: str = "",
                  at: float | None = None, attachments: dict | None = None) -> None:
        """A new plan; ``at`` is when it was made, on the machine's monotonic clock (a run's
        processes share it), kept in the history with the allocations, the reason and,
        for multihomed hosts' demands, the kbps through each attachment."""
        with self._lock:
            self.epoch, self.paths, self.allocated, self.down = epoch, dict(paths), dict(allocated), list(down)
            self.path_kbps, self.source_port_slices = dict(path_kbps or {}), source_port_slices
            self.history.append({"epoch": epoch, "at": at, "reason": reason, "allocated_kbps": dict(allocated),
                                 "links_down": list(down), "attachments_kbps": dict(attachments or {})})
            del self.history[:-HISTORY]

    def reconciled(self, dpid: int, unchanged: int, added: int, removed: int) -> None:
        """What a (re)connect did: flows kept as they were, installed, removed."""
        with self._lock:
            self._switches.setdefault(dpid, {}).update(unchanged=unchanged, added=added, removed=removed)

    def counters(self, section: str, name: str, part: str, data: dict) -> None:
        """The latest counters of one part of a named thing: ``section`` is one of
        :data:`COUNTER_SECTIONS`, e.g. ``("demands", "video", "path 0", {...})``."""
        with self._lock:
            self._counters[section].setdefault(name, {})[part] = data

    def error(self, message: str) -> None:
        """A switch refused something: the run cannot trust the plan is in place."""
        with self._lock:
            self.errors.append(message)
            del self.errors[:-50]  # keep the last few

    def note(self, message: str) -> None:
        """Something worth knowing that breaks nothing yet (a re-plan that could not clear, say)."""
        with self._lock:
            self.notes.append(message)
            del self.notes[:-50]

    def snapshot(self) -> dict:
        with self._lock:
            switches = {str(d): {"name": self.expected.get(d, "?"), **v} for d, v in self._switches.items()}
            ready = all(self._switches.get(d, {}).get("acknowledged") for d in self.expected)
            return {"ready": ready, "expected": len(self.expected),
                    "connected": sum(1 for v in self._switches.values() if v.get("connected")),
                    "acknowledged": sum(1 for v in self._switches.values() if v.get("acknowledged")),
                    "switches": switches, "errors": list(self.errors), "notes": list(self.notes),
                    "paths": self.paths, "allocated_kbps": self.allocated, "path_kbps": self.path_kbps,
                    "source_port_slices": self.source_port_slices,
                    "epoch": self.epoch, "links_down": self.down, "history": list(self.history),
                    "api": self.api_url, "bids_kbps": dict(self.bids),
                    "counters": json.loads(json.dumps(self._counters))}


MAX_BODY = 4096


def serve_status(status: ControllerStatus, port: int, host: str = "127.0.0.1",
                 actions: dict | None = None, metrics=None) -> ThreadingHTTPServer:
    """Serve ``GET /status`` in a daemon thread; returns the server (``shutdown()`` stops it).

    ``metrics`` (a function returning Prometheus' text format) is served on ``GET /metrics``.

    ``actions`` maps a path to a function of the posted JSON object returning a
    JSON object: ``POST /timeline {"start": t}`` tells the controller when the
    run's traffic starts, so it plays the timeline's market events on the run's clock;
    ``POST /epoch {}`` closes the epoch at the controller's next tick (``openisp run --cli``).
    """
    actions = dict(actions or {})

    class Handler(BaseHTTPRequestHandler):
        def _reply(self, code: int, payload: dict) -> None:
            body = json.dumps(payload).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):  # noqa: N802 (http.server's naming)
            path = self.path.split("?")[0].rstrip("/")
            if path == "/metrics" and metrics is not None:
                body = metrics()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            if path != "/status":
                self.send_error(404, "try /status" + (" or /metrics" if metrics is not None else ""))
                return
            self._reply(200, status.snapshot())

        def do_POST(self):  # noqa: N802
            action = actions.get(self.path.rstrip("/"))
            if action is None:
                self.send_error(404, f"no such action (known: {', '.join(sorted(actions)) or 'none'})")
                return
            length = int(self.headers.get("Content-Length") or 0)
            if not 0 < length <= MAX_BODY:
                self.send_error(400, f"a JSON object of at most {MAX_BODY} bytes, please")
                return
            try:
                payload = json.loads(self.rfile.read(length))
                if not isinstance(payload, dict):
                    raise ValueError("not an object")
                self._reply(200, action(payload))
            except (ValueError, TypeError, KeyError) as exc:
                self._reply(400, {"error": str(exc)})

        def log_message(self, *args):  # keep the controller's log for OpenFlow events
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="status-http", daemon=True).start()
    return server
