"""Serve an ASGI app with uvicorn in a thread, on 127.0.0.1 only.

>>> from fastapi import FastAPI
>>> server = ApiServer(FastAPI(), port=0).start()
>>> server.url.startswith("http://127.0.0.1:")
True
>>> server.stop()
"""
from __future__ import annotations

import threading
import time

import uvicorn

from controller.errors import ControllerError

__all__ = ["ApiServer", "ServerError", "LOOPBACK"]

LOOPBACK = "127.0.0.1"


class ServerError(ControllerError):
    """The API server could not start (most often: the port is taken)."""


class ApiServer:
    """uvicorn serving ``app`` on 127.0.0.1:``port`` (0: any free port) in a daemon thread."""

    def __init__(self, app, port: int = 0):
        self.config = uvicorn.Config(app, host=LOOPBACK, port=port, log_level="warning", access_log=False,
                                     lifespan="off", limit_concurrency=64, timeout_keep_alive=5, server_header=False,
                                     h11_max_incomplete_event_size=16 * 1024)
        self.server = uvicorn.Server(self.config)
        self._thread: threading.Thread | None = None
        self.port = port

    def start(self, timeout: float = 10.0) -> "ApiServer":
        self._thread = threading.Thread(target=self.server.run, name="openisp-api", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive():
                raise ServerError(f"the API cannot listen on {LOOPBACK}:{self.config.port} (is the port taken?)")
            if time.monotonic() > deadline:
                self.stop()
                raise ServerError(f"the API did not start within {timeout:g} s")
            time.sleep(0.01)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        return self

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def stop(self, timeout: float = 5.0) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
