"""The receiver of one host: counts every flow sent to it, prints one JSON report.

    python -m dataplane.traffic.receiver PLAN.json

``PLAN.json`` is a :class:`~dataplane.traffic.spec.HostPlan` of the flows whose
destination is this host.  The receiver binds one UDP socket per address and
port the flows use (and one TCP listener per TCP port), on the host's own
address, then says it is ready (a line ``ready`` on stderr, and the plan's
``ready_file`` created).  It counts until the plan's deadline, SIGTERM or
SIGINT, or until its parent dies, then prints one JSON object on stdout::

    {"role": "receiver", "host": "h4", "stopped_by": "signal", "error": "",
     "unknown_packets": 0, "tcp_connections": 0,
     "flows": [{"flow_id": 1, "demand": "ana-dev", "protocol": "udp", "packets": 2083,
                "bytes": 2499600, "distinct": 2083, "first_s": 0.0003, "last_s": 1.9995,
                "lost": 0, "reordered": 0, "duplicates": 0, "invalid": 0,
                "delay_ms": {"mean": 0.05, "p50": 0.045, "p99": 0.21, "max": 0.9},
                "jitter_ms": 0.01, "delay_hist_us": [[45, 1800], ...],
                "bins": {"packets": [1042, 1041, 0], "bytes": [...]}}]}

``bytes`` are whole frame bytes (the Ethernet, IPv4 and UDP headers the kernel
stripped are added back), so rates compare with the flows' ``rate_kbps``; a
TCP record counts as one frame of its flow's ``frame_bytes``.  Bins: one per
second since the common start up to the plan's ``seconds``, and a last one
collecting whatever arrives later.  See :mod:`dataplane.traffic.accounting`
for what each count means.

Example
-------
>>> from dataplane.traffic.receiver import bind_points
>>> from dataplane.traffic.spec import FlowSpec
>>> f = FlowSpec(flow_id=1, demand="d", src_host="h1", dst_host="h2", src_ip="198.18.0.1",
...              dst_ip="198.18.0.2", src_mac="00:00:00:00:00:01", dst_mac="00:00:00:00:00:02",
...              src_port=20000, dst_port=5001, rate_kbps=1000, stop_s=1.0, interface="h1-eth0")
>>> bind_points([f])
[('udp', '198.18.0.2', 5001)]
"""
from __future__ import annotations

import json
import math
import os
import selectors
import socket
import sys
import time
from pathlib import Path

from .accounting import FlowAccount, late_after_ns
from .packet import HEADER, MAGIC
from .procs import StopFlag, parse_plan_argument
from .schedule import packet_bound
from .spec import UDP_OVERHEAD, FlowSpec, HostPlan

__all__ = ["Receiver", "bind_points", "main"]

RCVBUF = 16 << 20
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)  # Linux; absent from Python's socket module
_BURST = 256  # datagrams read from one socket before looking at the others and the clock
_POLL_S = 0.05
PROGRESS_S = 1.0  # how often the report so far is written to the plan's progress_file


def bind_points(flows) -> list[tuple[str, str, int]]:
    """``(protocol, address, port)`` to bind for ``flows``, sorted, each once."""
    return sorted({(f.protocol, f.dst_ip, f.dst_port) for f in flows})


class _Connection:
    __slots__ = ("sock", "data", "account", "flow")

    def __init__(self, sock: socket.socket):
        self.sock, self.data, self.account, self.flow = sock, bytearray(), None, None


class Receiver:
    """Sockets and accounts of one receiving host; :meth:`run` counts until stopped."""

    def __init__(self, plan: HostPlan, clock=time.monotonic_ns):
        self.plan, self.clock = plan, clock
        bins = math.ceil(plan.seconds) + 1
        self.flows: dict[int, FlowSpec] = {f.flow_id: f for f in plan.flows}
        self.accounts = {f.flow_id: FlowAccount(plan.start_ns, bins, packet_bound(f),
                                                until_ns=late_after_ns(plan.start_ns, f.stop_s, f.protocol))
                         for f in plan.flows}
        self.buf = bytearray(65536)
        self.unknown = 0
        self.tcp_connections = 0
        self.selector = selectors.DefaultSelector()
        self.sockets: list[socket.socket] = []

    def bind(self) -> None:
        """Bind every socket the flows need; raises ``OSError`` naming the address."""
        for protocol, address, port in bind_points(self.plan.flows):
            kind = socket.SOCK_DGRAM if protocol == "udp" else socket.SOCK_STREAM
            sock = socket.socket(socket.AF_INET, kind)
            self.sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            _big_buffer(sock)
            try:
                sock.bind((address, port))
            except OSError as exc:
                raise OSError(exc.errno, f"cannot bind {protocol} {address}:{port}: {exc.strerror}") from None
            if protocol == "tcp":
                sock.listen(64)
            sock.setblocking(False)
            self.selector.register(sock, selectors.EVENT_READ, self._drain_udp if protocol == "udp" else self._accept)

    def run(self, stop: StopFlag) -> str:
        """Count arrivals until the deadline, a signal or the parent's death; returns which."""
        select, deadline = self.selector.select, self.plan.deadline_ns
        next_progress = self.clock()
        while True:
            now = self.clock()
            if now >= deadline:
                return "deadline"
            if stop.why():
                return stop.why()
            if self.plan.progress_file and now >= next_progress:
                self.write_progress()
                next_progress = now + int(PROGRESS_S * 1e9)
            for key, _ in select(min(_POLL_S, (deadline - now) / 1e9)):
                key.data(key.fileobj)

    def write_progress(self) -> None:
        """The report so far, replaced atomically (a reader never sees half of it)."""
        tmp = Path(self.plan.progress_file + ".tmp")
        tmp.write_text(json.dumps(self.report("running")))
        tmp.rename(self.plan.progress_file)

    def _drain_udp(self, sock: socket.socket) -> None:
        # The per-packet path: one syscall, one clock read, one unpack, one add.
        recv_into, buf, clock, unpack, accounts = sock.recv_into, self.buf, self.clock, HEADER.unpack_from, self.accounts
        for _ in range(_BURST):
            try:
                n = recv_into(buf)
            except BlockingIOError:
                return
            now = clock()
            if n < 22:
                self.unknown += 1
                continue
            magic, flow_id, seq, sent = unpack(buf)
            account = accounts.get(flow_id)
            if account is None or magic != MAGIC:
                self.unknown += 1
                continue
            account.add(n + UDP_OVERHEAD, seq, sent, now)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                sock, _ = listener.accept()
            except BlockingIOError:
                return
            sock.setblocking(False)
            self.tcp_connections += 1
            self.sockets.append(sock)
            conn = _Connection(sock)
            self.selector.register(sock, selectors.EVENT_READ, lambda _s, c=conn: self._read_stream(c))

    def _read_stream(self, conn: _Connection) -> None:
        try:
            chunk = conn.sock.recv(1 << 18)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        now = self.clock()
        if not chunk:
            self._close(conn)
            return
        data = conn.data
        data += chunk
        pos, unpack = 0, HEADER.unpack_from
        while len(data) - pos >= HEADER.size:
            magic, flow_id, seq, sent = unpack(data, pos)
            if conn.flow is None:
                conn.flow, conn.account = self.flows.get(flow_id), self.accounts.get(flow_id)
            if magic != MAGIC or conn.flow is None or flow_id != conn.flow.flow_id:
                self.unknown += 1  # not our stream, or out of step with it: stop reading it
                self._close(conn)
                return
            size = conn.flow.payload_bytes
            if len(data) - pos < size:
                break
            conn.account.add(conn.flow.frame_bytes, seq, sent, now)
            pos += size
        del data[:pos]

    def _close(self, conn: _Connection) -> None:
        self.selector.unregister(conn.sock)
        conn.sock.close()

    def report(self, stopped_by: str, error: str = "") -> dict:
        flows = []
        for flow_id, account in self.accounts.items():
            f = self.flows[flow_id]
            flows.append({"flow_id": flow_id, "demand": f.demand, "protocol": f.protocol, **account.summary()})
        return {"role": "receiver", "host": self.plan.host, "stopped_by": stopped_by, "error": error,
                "unknown_packets": self.unknown, "tcp_connections": self.tcp_connections, "flows": flows}

    def close(self) -> None:
        for sock in self.sockets:
            sock.close()
        self.selector.close()


def _big_buffer(sock: socket.socket) -> None:
    """A receive buffer that absorbs bursts; FORCE goes beyond rmem_max when root."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, RCVBUF)
    except OSError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)


def _say_ready(plan: HostPlan) -> None:
    if plan.ready_file:
        tmp = Path(plan.ready_file + ".tmp")
        tmp.write_text(f"{os.getpid()}\n")
        tmp.rename(plan.ready_file)  # atomic: the orchestrator never sees it half written
    print("ready", file=sys.stderr, flush=True)  # after the file: either signal means both


def main(argv: list[str] | None = None) -> int:
    plan, error = parse_plan_argument("receiver", argv)
    if plan is None:
        print(json.dumps({"role": "receiver", "host": "", "stopped_by": "error", "error": error, "flows": []}))
        return 2
    stop = StopFlag()
    receiver = Receiver(plan)
    try:
        receiver.bind()
    except OSError as exc:
        print(json.dumps(receiver.report("error", str(exc))))
        receiver.close()
        return 1
    _say_ready(plan)
    stopped_by, error = "error", ""
    try:
        stopped_by = receiver.run(stop)
    except Exception as exc:  # still report what arrived before it
        error = f"{type(exc).__name__}: {exc}"
    receiver.close()
    print(json.dumps(receiver.report(stopped_by, error)), flush=True)
    return 1 if error else 0


if __name__ == "__main__":
    sys.exit(main())
