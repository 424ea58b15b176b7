"""Leave nothing behind: the processes, namespaces, bridges and interfaces of a scenario.

Mininet's own ``net.stop()`` talks to every node through its shell, and a
shell interrupted mid-command (a run stopped while pinging) makes it fail
half-way, leaving bridges, interfaces and processes.  This module never uses
the shells.  It finds the scenario's processes from ``/proc`` (each Mininet
node runs a shell whose command line ends in ``mininet:NAME``; everything
else inside a host runs in that shell's network namespace), kills them, which
frees the hosts' namespaces and their ends of the links, then deletes the
scenario's bridges in one ``ovs-vsctl`` transaction and its remaining
interfaces in one ``ip -batch``.  It touches only what carries the
scenario's names, so it also sweeps up after a run that was killed.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from topologies.model import Scenario


def interface_names(scenario: Scenario) -> list[str]:
    """Every interface the network creates (Mininet's ``node-ethN``)."""
    return [f"{h.name}-eth0" for h in scenario.hosts] + [f"{p.switch}-eth{p.number}" for p in scenario.graph.ports()]


def _cmdline(pid: str) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def _netns(pid: str) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/net")
    except OSError:
        return None


def scenario_processes(scenario: Scenario) -> set[int]:
    """Pids of the scenario's node shells and of everything inside its hosts' namespaces."""
    names = {f"mininet:{n}" for n in [*scenario.switch, *scenario.host]}
    own_ns = _netns("self")
    pids = [p for p in os.listdir("/proc") if p.isdigit()]
    shells = {p for p in pids if names & set(_cmdline(p))}
    namespaces = {_netns(p) for p in shells} - {None, own_ns}
    inside = {p for p in pids if _netns(p) in namespaces}
    return {int(p) for p in shells | inside} - {os.getpid()}


def kill_all(pids: set[int], timeout_s: float = 5.0) -> set[int]:
    """SIGKILL ``pids`` and wait until they are gone; the ones that outlived the timeout."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout_s
    alive = set(pids)
    while alive and time.monotonic() < deadline:
        for pid in list(alive):
            try:
                os.waitpid(pid, os.WNOHANG)  # reap our own children so they do not linger as zombies
            except ChildProcessError:
                pass
            if not Path(f"/proc/{pid}").exists() or _zombie(pid):
                alive.discard(pid)
        if alive:
            time.sleep(0.02)
    return alive


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def present_bridges(scenario: Scenario) -> list[str]:
    have = subprocess.run(["ovs-vsctl", "--timeout=10", "list-br"], capture_output=True, text=True).stdout.split()
    return [s.name for s in scenario.switches if s.name in have]


def present_interfaces(scenario: Scenario) -> list[str]:
    out = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    present = {line.split(":")[1].strip().split("@")[0] for line in out.splitlines() if ":" in line}
    return [n for n in [*interface_names(scenario), *scenario.switch] if n in present]


def leftovers(scenario: Scenario) -> list[str]:
    """What of the scenario is still there: processes, bridges, interfaces."""
    return ([f"process {pid}" for pid in sorted(scenario_processes(scenario))]
            + [f"bridge {b}" for b in present_bridges(scenario)]
            + [f"interface {i}" for i in present_interfaces(scenario)])


def sweep(scenario: Scenario) -> list[str]:
    """Remove everything of the scenario that is there; return what was removed."""
    removed = []
    pids = scenario_processes(scenario)
    if pids:
        kill_all(pids)
        removed.append(f"{len(pids)} processes")
    bridges = present_bridges(scenario)
    if bridges:
        cmd = ["ovs-vsctl", "--timeout=30"]
        for b in bridges:
            cmd += ["--", "--if-exists", "del-br", b]
        subprocess.run(cmd, capture_output=True, check=False)
        removed += [f"bridge {b}" for b in bridges]
    interfaces = present_interfaces(scenario)
    if interfaces:
        batch = "".join(f"link del {name}\n" for name in interfaces)
        subprocess.run(["ip", "-force", "-batch", "-"], input=batch, text=True, capture_output=True, check=False)
        removed += [f"interface {i}" for i in interfaces]
    return removed
