"""Bounds on what one participant can make the server do: requests per second, bytes per body.

:class:`RateLimiter` is a token bucket per key (a participant's name, or one
shared key for requests whose token is not yet verified): ``burst`` requests at
once, then ``rate`` per second.  The clock is passed in.

:class:`BodyLimit` is ASGI middleware: it reads a request's body up to
``max_bytes`` before the app sees it and answers 413 past that, whether the
client declared a ``Content-Length`` or streamed the body in chunks.

>>> now = [0.0]
>>> limiter = RateLimiter(rate=1, burst=2, clock=lambda: now[0])
>>> [limiter.allow("ana")[0] for _ in range(3)], limiter.allow("ben")[0]
([True, True, False], True)
>>> now[0] = 1.0; limiter.allow("ana")[0]
True
"""
from __future__ import annotations

import json
import threading
import time

__all__ = ["RateLimiter", "BodyLimit", "MAX_BODY_BYTES", "RATE_PER_S", "BURST"]

#: A body is one offer or demand: a few hundred bytes; 16 KiB leaves room for long tier lists.
MAX_BODY_BYTES = 16 * 1024
RATE_PER_S = 10.0
BURST = 40
#: Buckets kept at most (one per participant, plus one for unverified tokens).
MAX_KEYS = 100_000


class RateLimiter:
    """A token bucket per key: ``allow(key) -> (allowed, seconds to wait when not)``."""

    def __init__(self, rate: float = RATE_PER_S, burst: int = BURST, clock=time.monotonic):
        if rate <= 0 or burst < 1:
            raise ValueError("a rate limit needs rate > 0 and burst >= 1")
        self.rate, self.burst, self._clock = float(rate), int(burst), clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, when)
        self._lock = threading.Lock()

    def allow(self, key: str) -> tuple[bool, float]:
        now = self._clock()
        with self._lock:
            tokens, then = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - then) * self.rate)
            if tokens >= 1.0:
                self._remember(key, (tokens - 1.0, now))
                return True, 0.0
            self._remember(key, (tokens, now))
            return False, (1.0 - tokens) / self.rate

    def _remember(self, key: str, value: tuple[float, float]) -> None:
        if key not in self._buckets and len(self._buckets) >= MAX_KEYS:
            self._buckets.clear()  # keys are participants: this happens only to a misuse
        self._buckets[key] = value


class BodyLimit:
    """ASGI middleware: a request body over ``max_bytes`` is refused with 413 before the app reads it."""

    def __init__(self, app, max_bytes: int = MAX_BODY_BYTES):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(send)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            size += len(body)
            if size > self.max_bytes:
                await self._refuse(send)
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send) -> None:
        body = json.dumps({"detail": f"request body larger than {self.max_bytes} bytes"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
