"""The generator of one host: paces all its flows from one process, prints one JSON report.

    python -m dataplane.traffic.generator PLAN.json

``PLAN.json`` is a :class:`~dataplane.traffic.spec.HostPlan` of the flows this
host sends.  UDP flows: each frame is built once with scapy, then per frame
only the sequence number and send time are patched and the bytes go out a raw
``AF_PACKET`` socket bound to the flow's interface (through the interface's
qdisc, so an HTB shaper on the host still shapes).  A frame the host cannot
queue (qdisc or socket buffer full) still takes its sequence number and counts
in ``send_errors``: the receiver sees it as lost, as on a real host.  TCP
flows: a kernel socket from the flow's source address and port, records of
``frame_bytes - 54`` bytes at most at the flow's rate; a record due while the
connection is still behind is not made (``skipped``).

One heap of next send times serves every flow; a flow that is behind sends up
to a small batch at once, and the process sleeps whenever nothing is due.
It stops when every flow is done, at the plan's deadline, on SIGTERM or SIGINT,
or when its parent dies, and prints::

    {"role": "generator", "host": "h1", "stopped_by": "done", "late_s": 0.0, "error": "",
     "flows": [{"flow_id": 1, "demand": "ana-dev", "protocol": "udp", "packets": 2084,
                "bytes": 2500800, "send_errors": 0, "skipped": 0,
                "first_s": 0.0001, "last_s": 1.9993, "error": ""}]}

``packets`` and ``bytes`` are what was offered (frames given a sequence
number), ``first_s``/``last_s`` the actual send window after the common
start.  A generator that starts more than 20 ms late shifts its whole schedule
by ``late_s`` rather than bursting to catch up.

Example
-------
Inside a host, with a plan written by :func:`dataplane.traffic.run_traffic`::

    $ python -m dataplane.traffic.generator /tmp/openisp-traffic-x/generator-h1.json
    {"role": "generator", "host": "h1", "stopped_by": "done", ...}
"""
from __future__ import annotations

import ctypes
import errno
import heapq
import json
import selectors
import socket
import sys
import time

from .packet import RECORD_STAMP_OFFSET, SEQ_TIME, UDP_STAMP_OFFSET, build_udp_frame, tcp_record
from .procs import StopFlag, parse_plan_argument
from .schedule import send_offsets_ns
from .spec import FlowSpec, HostPlan

__all__ = ["Generator", "main"]

BATCH = 32  # frames of one flow sent back to back when it is behind
SNDBUF = 8 << 20
LATE_NS = 20_000_000
#: A TCP flow's send buffer: this many seconds of its rate, at least SEND_BUFFER_MIN bytes.
SEND_BUFFER_S = 0.1
SEND_BUFFER_MIN = 16384
_MAX_SLEEP_NS = 50_000_000
_FULL = (errno.EAGAIN, errno.ENOBUFS)
#: Flow i starts i * 0.618 gaps late (mod 1): the host's flows interleave instead of bursting together.
_GOLDEN = 0.6180339887498949
SO_SNDBUFFORCE = getattr(socket, "SO_SNDBUFFORCE", 32)  # Linux; absent from Python's socket module


class _Flow:
    """Send state of one flow: schedule, counters, and for UDP its frame and socket."""

    __slots__ = ("spec", "times", "shift", "sock", "buf", "offset", "seq", "errors", "skipped",
                 "first_ns", "last_ns", "error", "pending")

    def __init__(self, spec: FlowSpec, shift: int, phase: float = 0.0):
        self.spec, self.times, self.shift = spec, send_offsets_ns(spec, phase=phase), shift
        self.sock = self.buf = None
        self.offset = UDP_STAMP_OFFSET if spec.protocol == "udp" else RECORD_STAMP_OFFSET
        self.seq = self.errors = self.skipped = 0
        self.first_ns = self.last_ns = None
        self.error = ""
        self.pending = bytearray()

    def next_due(self) -> int | None:
        t = next(self.times, None)
        return None if t is None else t + self.shift

    def send_udp(self, now: int, clock) -> int | None:
        """Send every frame due by ``now`` (at most :data:`BATCH`); the next due time or None."""
        buf, offset, send, pack, seq = self.buf, self.offset, self.sock.send, SEQ_TIME.pack_into, self.seq
        times, shift = self.times, self.shift
        sent = errors = 0
        try:
            while True:  # the per-packet path: a clock read, a 16-byte patch, a syscall, the next time
                t = clock()
                pack(buf, offset, seq, t)
                try:
                    send(buf)
                except OSError as exc:
                    if exc.errno not in _FULL:  # not counted: the frame was not offered
                        raise
                    errors += 1  # offered, and refused by the host itself: lost like any other
                seq += 1
                sent += 1
                due = next(times, None)
                if due is None:
                    break
                due += shift
                if due > now or sent >= BATCH:
                    break
        except OSError as exc:  # the interface went away or refuses frames: the flow ends here
            self.error, due = f"send: {exc.strerror or exc}", None
        self.seq, self.errors = seq, self.errors + errors
        if self.first_ns is None:
            self.first_ns = t
        self.last_ns = t
        return due

    def send_tcp(self, now: int, clock) -> int | None:
        """Offer the records due by ``now``; a record due while data is pending is skipped."""
        try:
            while True:
                if not self.flush():
                    self.skipped += 1
                else:
                    t = clock()
                    SEQ_TIME.pack_into(self.buf, self.offset, self.seq, t)
                    self.seq += 1
                    self.pending += self.buf
                    self.flush()
                    if self.first_ns is None:
                        self.first_ns = t
                    self.last_ns = t
                due = self.next_due()
                if due is None or due > now:
                    return due
        except OSError as exc:
            self.error = f"send: {exc.strerror or exc}"
            return None

    def flush(self) -> bool:
        """Hand pending bytes to the kernel; True when nothing is left pending."""
        if self.pending:
            try:
                n = self.sock.send(self.pending)
            except BlockingIOError:
                return False
            del self.pending[:n]
        return not self.pending


class Generator:
    """All flows of one sending host, paced by one heap."""

    def __init__(self, plan: HostPlan, clock=time.monotonic_ns):
        self.plan, self.clock = plan, clock
        self.flows: list[_Flow] = []
        self.late_ns = 0
        self.raw: dict[str, socket.socket] = {}

    def setup(self) -> None:
        """Build frames, open raw sockets, connect TCP flows; a failure is that flow's error."""
        for i, spec in enumerate(self.plan.flows):
            flow = _Flow(spec, 0, (i * _GOLDEN) % 1.0)
            self.flows.append(flow)
            try:
                if spec.protocol == "udp":
                    flow.buf, flow.sock = build_udp_frame(spec), self._raw_socket(spec.interface)
                else:
                    flow.buf, flow.sock = tcp_record(spec), _connect(spec, self.plan.start_ns, self.clock)
            except OSError as exc:
                flow.error = f"{'connect' if spec.protocol == 'tcp' else 'socket'}: {exc.strerror or exc}"

    def _raw_socket(self, interface: str) -> socket.socket:
        if interface not in self.raw:
            sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)  # protocol 0: sends, never receives
            try:
                sock.setsockopt(socket.SOL_SOCKET, SO_SNDBUFFORCE, SNDBUF)
            except OSError:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SNDBUF)
            try:
                sock.bind((interface, 0))
            except OSError as exc:
                sock.close()
                raise OSError(exc.errno, f"{interface}: {exc.strerror}") from None
            sock.setblocking(False)
            self.raw[interface] = sock
        return self.raw[interface]

    def run(self, stop: StopFlag) -> str:
        """Send until every flow is done, the deadline, a signal or the parent's death."""
        clock, deadline = self.clock, self.plan.deadline_ns
        while clock() < self.plan.start_ns:
            if stop.why():
                return stop.why()
            time.sleep(max(0, min(_MAX_SLEEP_NS, self.plan.start_ns - clock())) / 1e9)  # the start may pass meanwhile
        late = clock() - self.plan.start_ns
        if late > LATE_NS:  # shift rather than burst everything we missed
            self.late_ns = late
        heap = []
        for i, flow in enumerate(self.flows):
            flow.shift = self.plan.start_ns + self.late_ns
            due = flow.next_due() if not flow.error else None
            if due is not None:
                heap.append((due, i))
        heapq.heapify(heap)
        writable = selectors.DefaultSelector()
        try:
            return self._loop(heap, stop, clock, deadline, writable)
        finally:
            self._finish_tcp(min(deadline, clock() + 500_000_000))
            writable.close()

    def _loop(self, heap, stop, clock, deadline, writable) -> str:
        blocked: set[_Flow] = set()
        checked = 0
        while heap or blocked:
            now = clock()
            if now >= deadline:
                return "deadline"
            if now - checked > 10_000_000:  # a signal or an orphaning is seen within 10 ms
                checked = now
                if stop.why():
                    return stop.why()
            for flow in list(blocked):
                try:
                    drained = flow.flush()
                except OSError as exc:
                    flow.error, drained = f"send: {exc.strerror or exc}", True
                if drained:
                    blocked.discard(flow)
                    writable.unregister(flow.sock)
            if not heap:
                writable.select(0.01)
                continue
            due, i = heap[0]
            if due > now:
                wait = max(0, min(due - now, deadline - now, _MAX_SLEEP_NS)) / 1e9
                if blocked:
                    writable.select(wait)
                else:
                    time.sleep(wait)
                continue
            flow = self.flows[i]
            if flow.spec.protocol == "udp":
                due = flow.send_udp(now, clock)
            else:
                due = flow.send_tcp(now, clock)
                if flow.pending and flow not in blocked and not flow.error:
                    blocked.add(flow)
                    writable.register(flow.sock, selectors.EVENT_WRITE)
            if due is None:
                heapq.heappop(heap)
            else:
                heapq.heapreplace(heap, (due, i))
        return "done"

    def _finish_tcp(self, until_ns: int) -> None:
        """Give pending records a moment to leave, then close every connection cleanly."""
        for flow in self.flows:
            if flow.spec.protocol != "tcp" or flow.sock is None:
                continue
            try:
                while flow.pending and self.clock() < until_ns and not flow.flush():
                    time.sleep(0.005)
                flow.sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            flow.sock.close()

    def report(self, stopped_by: str, error: str = "") -> dict:
        start = self.plan.start_ns

        def rel(t):
            return None if t is None else (t - start) / 1e9

        flows = [{"flow_id": f.spec.flow_id, "demand": f.spec.demand, "protocol": f.spec.protocol,
                  "packets": f.seq, "bytes": f.seq * f.spec.frame_bytes, "send_errors": f.errors,
                  "skipped": f.skipped, "first_s": rel(f.first_ns), "last_s": rel(f.last_ns), "error": f.error}
                 for f in self.flows]
        return {"role": "generator", "host": self.plan.host, "stopped_by": stopped_by,
                "late_s": self.late_ns / 1e9, "error": error, "flows": flows}

    def close(self) -> None:
        for sock in self.raw.values():
            sock.close()


def send_buffer_bytes(spec: FlowSpec) -> int:
    """The send buffer a TCP flow asks for: :data:`SEND_BUFFER_S` of its rate, at least
    :data:`SEND_BUFFER_MIN` bytes.

    The kernel's own (autotuned up to megabytes) would queue seconds of a flow sent
    above what the network gives it: the records would arrive long after they were
    due, and after the flow's window.  With a small buffer a record due while the
    connection is behind is skipped, as a paced application would drop a frame.

    >>> from dataplane.traffic.spec import FlowSpec
    >>> f = FlowSpec(flow_id=1, demand="d", src_host="h1", dst_host="h2", src_ip="198.18.0.1",
    ...              dst_ip="198.18.0.2", src_mac="00:00:00:00:00:01", dst_mac="00:00:00:00:00:02",
    ...              src_port=20000, dst_port=5001, rate_kbps=8000, stop_s=1.0, interface="h1-eth0")
    >>> send_buffer_bytes(f), send_buffer_bytes(f.__class__(**{**f.__dict__, "rate_kbps": 100}))
    (100000, 16384)
    """
    return max(SEND_BUFFER_MIN, round(spec.rate_kbps * 1000 / 8 * SEND_BUFFER_S))


def _connect(spec: FlowSpec, start_ns: int, clock) -> socket.socket:
    """A TCP connection from the flow's source address and port, made before the start."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer_bytes(spec))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((spec.src_ip, spec.src_port))
        sock.settimeout(max(2.0, (start_ns - clock()) / 1e9))
        sock.connect((spec.dst_ip, spec.dst_port))
        sock.setblocking(False)
        return sock
    except OSError:
        sock.close()
        raise


def _precise_sleep() -> None:
    """Ask for 1 us timer slack instead of 50 us: pacing sleeps end closer to when asked."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(29, 1000, 0, 0, 0)  # PR_SET_TIMERSLACK
    except (OSError, AttributeError):
        pass


def main(argv: list[str] | None = None) -> int:
    plan, error = parse_plan_argument("generator", argv)
    if plan is None:
        print(json.dumps({"role": "generator", "host": "", "stopped_by": "error", "error": error, "flows": []}))
        return 2
    stop = StopFlag()
    _precise_sleep()
    generator = Generator(plan)
    stopped_by, error = "error", ""
    try:
        generator.setup()
        stopped_by = generator.run(stop)
    except Exception as exc:  # still report what was sent before it
        error = f"{type(exc).__name__}: {exc}"
    finally:
        generator.close()
    print(json.dumps(generator.report(stopped_by, error)), flush=True)
    return 1 if error else 0


if __name__ == "__main__":
    sys.exit(main())
