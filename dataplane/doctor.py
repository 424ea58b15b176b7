"""What this machine has for the emulation, what it lacks, and how to fix it.

Each check returns a :class:`Finding`; ``required`` findings that fail mean the
emulation cannot run.  Probes are read-only except the traffic-control probe,
which makes and deletes a throwaway network namespace of its own.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from importlib import metadata

INSTALL = "run `make setup` as root (it installs the Debian packages), or apt-get install"


@dataclass(frozen=True)
class Finding:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True


def _run(cmd: list[str], timeout: float = 10) -> subprocess.CompletedProcess | None:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return None


def check_root() -> Finding:
    ok = os.geteuid() == 0
    return Finding("root", ok, "running as root" if ok else f"running as uid {os.geteuid()}",
                   "Mininet creates namespaces and links: run as root (sudo)")


def check_tool(name: str, package: str, required: bool = True) -> Finding:
    path = shutil.which(name)
    return Finding(name, path is not None, path or "not found", f"{INSTALL} {package}", required)


def check_ovs() -> list[Finding]:
    if shutil.which("ovs-vsctl") is None:
        return [Finding("Open vSwitch", False, "ovs-vsctl not found", f"{INSTALL} openvswitch-switch")]
    version = _run(["ovs-vsctl", "--version"])
    first = version.stdout.splitlines()[0] if version and version.stdout else "unknown version"
    found = [Finding("Open vSwitch", True, first)]
    types = _run(["ovs-vsctl", "--timeout=5", "get", "Open_vSwitch", ".", "datapath_types"])
    if types is None or types.returncode != 0:
        found.append(Finding("ovsdb-server / ovs-vswitchd", False, "not answering",
                             "start them: /usr/share/openvswitch/scripts/ovs-ctl start --system-id=random "
                             "(make setup does)"))
        return found
    netdev = "netdev" in types.stdout
    found.append(Finding("userspace datapath", netdev, f"datapath types {types.stdout.strip()}",
                         "this OVS build lacks the netdev (userspace) datapath"))
    kernel = os.path.isdir("/sys/module/openvswitch")
    said = ("module loaded" if kernel
            else "no openvswitch kernel module (fine: openisp uses the userspace datapath)")
    found.append(Finding("kernel datapath", kernel, said, "", required=False))
    return found


def _failed(result: subprocess.CompletedProcess | None) -> str | None:
    """Why a command failed (its stderr, or that it could not run), or None when it worked."""
    if result is None:
        return "could not run (missing, or timed out)"
    if result.returncode == 0:
        return None
    said = (result.stderr or result.stdout or "").strip().splitlines()
    return said[-1] if said else f"exit status {result.returncode}"


def check_tc() -> list[Finding]:
    """HTB (bandwidth) and netem (delay, loss), probed in a namespace of our own.

    Each step's exit status is read: a namespace or a veth pair that cannot be
    made is reported as such, not as a missing qdisc.
    """
    if os.geteuid() != 0 or shutil.which("ip") is None:
        return [Finding("tc htb", False, "cannot probe without root and iproute2", "run as root", required=False)]
    ns = f"openisp-doctor-{uuid.uuid4().hex[:6]}"
    results = {}
    try:
        why = _failed(_run(["ip", "netns", "add", ns]))
        if why:
            return [Finding("network namespaces", False, f"`ip netns add` failed: {why}",
                            "Mininet puts each host in a network namespace: run as root on a kernel with "
                            "namespaces (in a container: --privileged)")]
        why = _failed(_run(["ip", "netns", "exec", ns, "ip", "link", "add", "d0", "type", "veth",
                            "peer", "name", "d1"]))
        if why:
            return [Finding("veth pairs", False, f"`ip link add ... type veth` failed: {why}",
                            "Mininet joins hosts and switches with veth pairs: the kernel needs the veth module")]
        for kind, args in (("htb", ["htb", "default", "1"]), ("netem", ["netem", "delay", "1ms"])):
            results[kind] = _failed(_run(["ip", "netns", "exec", ns, "tc", "qdisc", "replace", "dev", "d0", "root",
                                          *args]))
    finally:
        _run(["ip", "netns", "del", ns])
    return [
        Finding("tc htb", results["htb"] is None, "link bandwidth shaping works" if results["htb"] is None
                else f"HTB qdisc refused: {results['htb']}",
                "the kernel needs sch_htb; without it links are not shaped"),
        Finding("tc netem", results["netem"] is None,
                "delay and loss emulation works" if results["netem"] is None else
                "netem absent: link latency is not emulated (latency_ms only steers the market and paths)",
                "a kernel with sch_netem", required=False),
    ]


def check_python_package(dist: str) -> Finding:
    try:
        return Finding(dist, True, f"version {metadata.version(dist)}")
    except metadata.PackageNotFoundError:
        return Finding(dist, False, "not installed in this Python", "make venv (installs requirements.txt into .venv)")


def diagnose() -> list[Finding]:
    return [
        check_root(),
        *check_ovs(),
        check_tool("mnexec", "mininet"),
        check_tool("iperf3", "iperf3"),
        check_tool("ethtool", "ethtool"),
        check_tool("ping", "iputils-ping"),
        check_tool("prometheus", "prometheus", required=False),
        *check_tc(),
        check_python_package("os-ken"),
        check_python_package("mininet"),
        check_python_package("scapy"),
    ]


def report(findings: list[Finding]) -> tuple[str, bool]:
    """Text for people, and whether the emulation can run."""
    lines = []
    for f in findings:
        mark = "ok  " if f.ok else ("MISSING" if f.required else "note")
        lines.append(f"{mark:7} {f.name}: {f.detail}")
        if not f.ok and f.fix:
            lines.append(f"        fix: {f.fix}")
    can_run = all(f.ok for f in findings if f.required)
    lines.append("the emulation can run here" if can_run
                 else "the emulation cannot run here until the MISSING items are fixed")
    return "\n".join(lines), can_run
