"""Process plumbing shared by the traffic programs and their orchestrator.

Inside a generator or receiver: :class:`StopFlag` turns SIGTERM, SIGINT and
SIGHUP into a flag the main loop polls (so the program still prints its
report), and notices when the parent died (the program was orphaned: an
orchestrator killed with SIGKILL cannot clean up, so its children stop by
themselves).  In the orchestrator: :func:`kill_group` ends a process and its
process group, never the caller's own group.

Example
-------
>>> import subprocess, sys
>>> p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], start_new_session=True)
>>> kill_group(p)
>>> p.wait()
-9
"""
from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from .spec import HostPlan, TrafficError

__all__ = ["StopFlag", "kill_group", "parse_plan_argument"]


class StopFlag:
    """Why the program should stop now: ``"signal"``, ``"orphaned"`` or ``""`` (go on)."""

    def __init__(self, signals=(signal.SIGTERM, signal.SIGINT, signal.SIGHUP)):
        self.signal: int | None = None
        self.parent = os.getppid()
        for sig in signals:
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum, _frame) -> None:
        self.signal = signum

    def why(self) -> str:
        if self.signal is not None:
            return "signal"
        if os.getppid() != self.parent:
            return "orphaned"
        return ""


def kill_group(proc: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    """Send ``sig`` to ``proc``'s process group when it leads one, else to ``proc`` alone.

    Mininet's ``Host.popen`` (``mnexec -d``) and ``start_new_session=True`` make
    each program the leader of its own group; a group shared with the caller
    is never signalled.
    """
    if proc.poll() is not None:
        return
    try:
        group = os.getpgid(proc.pid)
        if group == proc.pid and group != os.getpgrp():
            os.killpg(group, sig)
        else:
            proc.send_signal(sig)
    except ProcessLookupError:
        pass


def parse_plan_argument(role: str, argv: list[str] | None) -> tuple[HostPlan | None, str]:
    """The plan named by the only argument, or ``(None, why not)``."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        return None, f"usage: python -m dataplane.traffic.{role} PLAN.json"
    try:
        return HostPlan.from_json(Path(args[0]).read_text()), ""
    except (OSError, TrafficError) as exc:
        return None, f"{args[0]}: {exc}"
