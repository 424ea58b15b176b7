"""A program on a pseudo-terminal, driven as a person at a keyboard would (the standard
library's ``pty``: no pexpect needed)."""
from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import time


class Terminal:
    """``send`` a line, ``expect`` a pattern in what the program printed since the last match."""

    def __init__(self, argv: list[str], env: dict | None = None):
        self.master, slave = os.openpty()
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True,
                                     close_fds=True)
        os.close(slave)
        self.seen = ""   # everything printed, for failure messages
        self.buffer = ""  # printed since the last match

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return False
        try:
            chunk = os.read(self.master, 65536).decode(errors="replace").replace("\r\n", "\n")
        except OSError:  # the program closed the terminal
            return False
        self.seen += chunk
        self.buffer += chunk
        return bool(chunk)

    def expect(self, pattern: str, timeout: float = 60) -> re.Match:
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern, re.S)
        while True:
            match = regex.search(self.buffer)
            if match:
                self.buffer = self.buffer[match.end():]
                return match
            left = deadline - time.monotonic()
            if left <= 0 or (not self._read(min(left, 0.5)) and self.proc.poll() is not None):
                raise AssertionError(f"never printed {pattern!r} within {timeout} s; the last output:\n"
                                     f"{self.seen[-3000:]}")

    def send(self, line: str) -> None:
        os.write(self.master, (line + "\n").encode())

    def wait(self, timeout: float = 120) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self._read(0.5)
        while self._read(0.1):
            pass
        return self.proc.wait(timeout=1)

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        os.close(self.master)
