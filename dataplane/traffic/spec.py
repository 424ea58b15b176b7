"""What a traffic run sends: flow specifications and the plan file of one host.

A :class:`FlowSpec` is one flow a generator sends and a receiver counts.  Rates
are integer kbit/s of whole Ethernet frames (frame bytes x 8, the bytes an
OpenFlow meter and an HTB shaper count).  A :class:`HostPlan` is what one
generator or receiver process reads: its host's flows, the common start time
and a hard deadline, both on ``CLOCK_MONOTONIC`` (every network namespace of
the machine shares it).

Every bound is checked when an object is made, so a plan that loads is a plan
the programs can run: at most 1 Gbit/s per flow, at most 600 s, frames of
64-1514 bytes, addresses from the emulation range only.

Example
-------
>>> f = FlowSpec(flow_id=1, demand="ana-dev", src_host="h1", dst_host="h4",
...              src_ip="198.18.1.1", dst_ip="198.18.2.1",
...              src_mac="00:00:00:00:00:01", dst_mac="00:00:00:00:00:04",
...              src_port=20000, dst_port=5001, rate_kbps=16000, stop_s=3.0,
...              interface="h1-eth0")
>>> FlowSpec.from_dict(f.to_dict()) == f
True
>>> [(g.flow_id, g.src_port, g.rate_kbps) for g in split_demand(f, 3)]
[(1, 20000, 5334), (2, 20001, 5333), (3, 20002, 5333)]
"""
from __future__ import annotations

import dataclasses
import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Any

from dataplane.errors import DataplaneError
from topologies.model import EMULATION_RANGE

__all__ = ["TrafficError", "FlowSpec", "HostPlan", "split_demand", "PROTOCOLS", "PATTERNS",
           "MAX_RATE_KBPS", "MAX_DURATION_S", "MIN_FRAME_BYTES", "MAX_FRAME_BYTES", "TCP_OVERHEAD"]

PROTOCOLS = ("udp", "tcp")
PATTERNS = ("constant", "poisson", "onoff")
MAX_RATE_KBPS = 1_000_000
MAX_DURATION_S = 600.0
MIN_FRAME_BYTES = 64
MAX_FRAME_BYTES = 1514
#: Ethernet + IPv4 + UDP headers: what the kernel strips before a UDP socket sees the payload.
UDP_OVERHEAD = 14 + 20 + 8
#: Ethernet + IPv4 + TCP headers (no options): a TCP record of ``frame_bytes - 54`` bytes
#: stands for one frame of ``frame_bytes``.
TCP_OVERHEAD = 14 + 20 + 20
_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
_HEADER_BYTES = 22  # dataplane.traffic.packet.HEADER.size, kept here to avoid a cycle


class TrafficError(DataplaneError):
    """A traffic specification or run is invalid (which flow or host, and what, in the message)."""


@dataclass(frozen=True)
class FlowSpec:
    """One flow: who sends what to whom, how fast, in which pattern and when.

    ``start_s`` and ``stop_s`` are seconds after the run's common start.  The
    ``onoff`` pattern sends at ``rate_kbps`` for ``on_s``, then nothing for
    ``off_s``, repeatedly from ``start_s``; ``poisson`` draws exponential gaps
    of the same mean from a RNG seeded by ``seed`` (default: the flow id).
    """

    flow_id: int
    demand: str
    src_host: str
    dst_host: str
    src_ip: str
    dst_ip: str
    src_mac: str
    dst_mac: str
    src_port: int
    dst_port: int
    rate_kbps: int
    stop_s: float
    interface: str
    protocol: str = "udp"
    frame_bytes: int = 1200
    pattern: str = "constant"
    on_s: float = 0.0
    off_s: float = 0.0
    start_s: float = 0.0
    seed: int | None = None

    def __post_init__(self) -> None:
        problems = list(_problems(self))
        if problems:
            raise TrafficError(f"flow {self.flow_id!r}: " + "; ".join(problems))
        object.__setattr__(self, "src_mac", self.src_mac.lower())
        object.__setattr__(self, "dst_mac", self.dst_mac.lower())

    @property
    def gap_ns(self) -> float:
        """Mean time between two frames while sending, in nanoseconds."""
        return self.frame_bytes * 8 * 1e6 / self.rate_kbps

    @property
    def duration_s(self) -> float:
        return self.stop_s - self.start_s

    @property
    def payload_bytes(self) -> int:
        """Bytes a socket carries per frame (UDP datagram or TCP record)."""
        return self.frame_bytes - (UDP_OVERHEAD if self.protocol == "udp" else TCP_OVERHEAD)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "FlowSpec":
        """The spec from :meth:`to_dict`'s shape; unknown or missing keys are errors."""
        if not isinstance(data, dict):
            raise TrafficError(f"flow spec must be an object, got {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise TrafficError(f"flow {data.get('flow_id')!r}: unknown key(s) {', '.join(unknown)} "
                               f"(known: {', '.join(sorted(known))})")
        try:
            return cls(**data)
        except TypeError as exc:  # a missing required field
            raise TrafficError(f"flow {data.get('flow_id')!r}: {exc}") from None


def _problems(f: FlowSpec):
    def integer(name, lo, hi):
        v = getattr(f, name)
        if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
            yield f"{name} {v!r} out of range {lo}..{hi}"

    def number(name):
        v = getattr(f, name)
        if not isinstance(v, (int, float)) or isinstance(v, bool) or v != v:
            yield f"{name} {v!r} is not a number"
            return False
        return True

    yield from integer("flow_id", 0, 2**32 - 1)
    yield from integer("src_port", 1, 65535)
    yield from integer("dst_port", 1, 65535)
    yield from integer("rate_kbps", 1, MAX_RATE_KBPS)
    yield from integer("frame_bytes", MIN_FRAME_BYTES, MAX_FRAME_BYTES)
    if f.protocol not in PROTOCOLS:
        yield f"protocol {f.protocol!r} is not one of {', '.join(PROTOCOLS)}"
    elif f.protocol == "tcp" and isinstance(f.frame_bytes, int) and f.frame_bytes < TCP_OVERHEAD + _HEADER_BYTES:
        yield f"frame_bytes {f.frame_bytes} too small for a TCP record (min {TCP_OVERHEAD + _HEADER_BYTES})"
    for name in ("demand", "src_host", "dst_host", "interface"):
        if not isinstance(getattr(f, name), str) or not getattr(f, name):
            yield f"{name} must be a non-empty string"
    if isinstance(f.interface, str) and len(f.interface) > 15:
        yield f"interface {f.interface!r} longer than 15 characters"
    for name in ("src_ip", "dst_ip"):
        try:
            if ipaddress.IPv4Address(getattr(f, name)) not in EMULATION_RANGE:
                yield f"{name} {getattr(f, name)} is outside the emulation range {EMULATION_RANGE}"
        except (ValueError, TypeError):
            yield f"{name} {getattr(f, name)!r} is not an IPv4 address"
    for name in ("src_mac", "dst_mac"):
        if not isinstance(getattr(f, name), str) or not _MAC.match(getattr(f, name).lower()):
            yield f"{name} {getattr(f, name)!r} is not a MAC address like 00:00:00:00:00:01"
    timing = True
    for name in ("start_s", "stop_s", "on_s", "off_s"):
        timing = (yield from number(name)) and timing
    if timing:
        if f.start_s < 0:
            yield f"start_s {f.start_s} is negative"
        if f.stop_s <= f.start_s:
            yield f"stop_s {f.stop_s} is not after start_s {f.start_s}"
        if f.stop_s > MAX_DURATION_S:
            yield f"stop_s {f.stop_s} beyond the {MAX_DURATION_S:.0f} s bound"
        if f.pattern not in PATTERNS:
            yield f"pattern {f.pattern!r} is not one of {', '.join(PATTERNS)}"
        elif f.pattern == "onoff" and (f.on_s <= 0 or f.off_s <= 0):
            yield f"onoff needs on_s > 0 and off_s > 0, got {f.on_s} and {f.off_s}"
        elif f.pattern != "onoff" and (f.on_s or f.off_s):
            yield f"on_s and off_s apply to the onoff pattern only, not {f.pattern}"
    if f.seed is not None and (not isinstance(f.seed, int) or isinstance(f.seed, bool)):
        yield f"seed {f.seed!r} is not an integer"


@dataclass(frozen=True)
class HostPlan:
    """What one generator or receiver process runs: one host's flows and the clock.

    ``start_ns`` is the common start and ``deadline_ns`` the moment the process
    stops whatever happens, both ``time.monotonic_ns()`` values.  ``seconds`` is
    the run's length (receivers keep 1 s bins up to it).  ``ready_file``, when
    set, is created by a receiver once its sockets are bound; ``progress_file``,
    when set, is rewritten by a receiver every second with its report so far
    (metrics read it while the run goes on).
    """

    host: str
    start_ns: int
    deadline_ns: int
    seconds: float
    flows: tuple[FlowSpec, ...]
    ready_file: str = ""
    progress_file: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "flows", tuple(self.flows))
        if not self.flows:
            raise TrafficError(f"host {self.host}: a plan needs at least one flow")
        ids = [f.flow_id for f in self.flows]
        if len(set(ids)) != len(ids):
            raise TrafficError(f"host {self.host}: flow ids repeat: {sorted(i for i in set(ids) if ids.count(i) > 1)}")
        if not 0 < self.seconds <= MAX_DURATION_S:
            raise TrafficError(f"host {self.host}: seconds {self.seconds} out of range (0, {MAX_DURATION_S:.0f}]")
        if self.deadline_ns <= self.start_ns:
            raise TrafficError(f"host {self.host}: deadline is not after the start")
        if self.deadline_ns - self.start_ns > (MAX_DURATION_S + 60) * 1e9:
            raise TrafficError(f"host {self.host}: deadline more than {MAX_DURATION_S + 60:.0f} s after the start")
        late = [f.flow_id for f in self.flows if f.stop_s > self.seconds]
        if late:
            raise TrafficError(f"host {self.host}: flows {late} stop after the run's {self.seconds} s")

    def to_json(self) -> str:
        data = dataclasses.asdict(self)
        data["flows"] = [f.to_dict() for f in self.flows]
        return json.dumps(data, indent=1)

    @classmethod
    def from_json(cls, text: str) -> "HostPlan":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise TrafficError(f"plan is not JSON: {exc}") from None
        if not isinstance(data, dict) or not isinstance(data.get("flows"), list):
            raise TrafficError("plan must be an object with a list of flows")
        flows = tuple(FlowSpec.from_dict(f) for f in data.pop("flows"))
        try:
            return cls(flows=flows, **data)
        except TypeError as exc:
            raise TrafficError(f"plan: {exc}") from None


def split_demand(template: FlowSpec, count: int = 16) -> tuple[FlowSpec, ...]:
    """The flows of one demand: ``count`` copies of ``template`` sharing its rate.

    Flow ``i`` gets ``flow_id + i`` and source port ``src_port + i``: consecutive
    source ports, because the controller spreads a demand over its paths by
    the low bits of the source port.  The rate (integer kbps) is shared
    equally, the first flows taking the remainder; a demand slower than
    ``count`` kbps gets one flow per kbps.
    """
    if count < 1:
        raise TrafficError(f"demand {template.demand}: count must be at least 1, got {count}")
    count = min(count, template.rate_kbps)
    if template.src_port + count - 1 > 65535 or template.flow_id + count - 1 > 2**32 - 1:
        raise TrafficError(f"demand {template.demand}: {count} flows from port {template.src_port} "
                           f"or flow id {template.flow_id} overflow")
    share, extra = divmod(template.rate_kbps, count)
    return tuple(dataclasses.replace(template, flow_id=template.flow_id + i, src_port=template.src_port + i,
                                     rate_kbps=share + (1 if i < extra else 0))
                 for i in range(count))
