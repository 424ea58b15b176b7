"""A minimal OpenFlow 1.3 switch over TCP, enough to measure a controller's responsiveness.

It says hello, answers the features and multipart requests with empty tables,
acknowledges every barrier at once, swallows flow, group and meter mods, and sends
an echo request every ``interval_s`` timing each reply (os-ken answers those itself).
Given ``arp=(sender_mac, sender_ip, target_ip)`` it also sends, as often, an ARP
request as a packet-in and times the controller's packet-out answer: that answer
is made by the controller's core, under the lock every event and every plan takes.
No OVS, no root.
"""
from __future__ import annotations

import socket
import struct
import threading
import time

VERSION = 4
HELLO, ERROR, ECHO_REQUEST, ECHO_REPLY = 0, 1, 2, 3
PACKET_IN, PACKET_OUT = 10, 13
FEATURES_REQUEST, FEATURES_REPLY = 5, 6
MULTIPART_REQUEST, MULTIPART_REPLY = 18, 19
BARRIER_REQUEST, BARRIER_REPLY = 20, 21
HEADER = struct.Struct("!BBHI")


class FakeSwitch:
    def __init__(self, dpid: int, port: int, interval_s: float = 0.02, arp: tuple[str, str, str] | None = None):
        self.dpid, self.interval_s, self.arp = dpid, interval_s, arp
        deadline = time.monotonic() + 30
        while True:  # the controller listens for OpenFlow a moment after its status is up
            try:
                self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
                break
            except ConnectionRefusedError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self.sock.settimeout(None)
        self.lock = threading.Lock()
        self.rtts: list[float] = []         # echo round trips, seconds
        self.sent_echo: dict[int, float] = {}
        self.barriers = 0
        self.arp_rtts: list[float] = []     # ARP request (packet-in) to its answer (packet-out), seconds
        self.arp_sent: list[float] = []     # requests not answered yet, in order
        self.stop = threading.Event()
        self._xid = 0x10000
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.echoer = threading.Thread(target=self._echo, daemon=True)

    def start(self) -> "FakeSwitch":
        self._send(HELLO, 1, b"")
        self.reader.start()
        self.echoer.start()
        return self

    def _send(self, kind: int, xid: int, body: bytes) -> None:
        with self.lock:
            self.sock.sendall(HEADER.pack(VERSION, kind, HEADER.size + len(body), xid) + body)

    def _read(self) -> None:
        buf = b""
        while not self.stop.is_set():
            try:
                data = self.sock.recv(1 << 16)
            except OSError:
                return
            if not data:
                return
            buf += data
            while len(buf) >= HEADER.size:
                _, kind, length, xid = HEADER.unpack_from(buf)
                if len(buf) < length:
                    break
                body, buf = buf[HEADER.size:length], buf[length:]
                self._handle(kind, xid, body)

    def _handle(self, kind: int, xid: int, body: bytes) -> None:
        if kind == FEATURES_REQUEST:
            self._send(FEATURES_REPLY, xid, struct.pack("!QIBB2xII", self.dpid, 0, 254, 0, 0x4F, 0))
        elif kind == MULTIPART_REQUEST:
            mp_type = struct.unpack_from("!H", body)[0]
            self._send(MULTIPART_REPLY, xid, struct.pack("!HH4x", mp_type, 0))  # an empty last reply
        elif kind == BARRIER_REQUEST:
            self.barriers += 1
            self._send(BARRIER_REPLY, xid, b"")
        elif kind == ECHO_REQUEST:
            self._send(ECHO_REPLY, xid, body)
        elif kind == PACKET_OUT and self.arp_sent:
            self.arp_rtts.append(time.monotonic() - self.arp_sent.pop(0))
        elif kind == ECHO_REPLY:
            sent = self.sent_echo.pop(xid, None)
            if sent is not None:
                self.rtts.append(time.monotonic() - sent)

    def _echo(self) -> None:
        while not self.stop.wait(self.interval_s):
            self._xid += 1
            self.sent_echo[self._xid] = time.monotonic()
            try:
                self._send(ECHO_REQUEST, self._xid, b"")
                if self.arp is not None:
                    self.arp_sent.append(time.monotonic())
                    self._send(PACKET_IN, 0, self._arp_packet_in())
            except OSError:
                return

    def _arp_packet_in(self) -> bytes:
        """A packet-in (no buffer, reason no match, in_port 1) of a broadcast ARP request."""
        mac, sender_ip, target_ip = self.arp
        hw = bytes.fromhex(mac.replace(":", ""))
        frame = (b"\xff" * 6 + hw + struct.pack("!H", 0x0806) + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + hw
                 + socket.inet_aton(sender_ip) + b"\x00" * 6 + socket.inet_aton(target_ip))
        oxm = struct.pack("!HBBI", 0x8000, 0 << 1, 4, 1)  # OFPXMC_OPENFLOW_BASIC, in_port, 4 bytes: 1
        match = struct.pack("!HH", 1, 4 + len(oxm)) + oxm
        match += b"\x00" * (-len(match) % 8)
        return struct.pack("!IHBBQ", 0xFFFFFFFF, len(frame), 0, 0, 0) + match + b"\x00\x00" + frame

    def close(self) -> None:
        self.stop.set()
        try:
            self.sock.close()
        except OSError:
            pass

    def unanswered(self, older_than_s: float) -> int:
        """Echo and ARP requests still waiting for their reply after ``older_than_s``."""
        now = time.monotonic()
        return sum(1 for t in [*self.sent_echo.values(), *self.arp_sent] if now - t > older_than_s)
