"""How fast one generator process sends, as a ratio to iperf3 on the same path.

    sudo .venv/bin/python bench/traffic.py [--seconds 4] [--frame 1200] [--rounds 3]

Two network namespaces of its own (``oitb<random>a`` and ``...b``) joined by a
veth pair with addresses from 198.18.0.0/15, then, in one run:

(a) the project's generator (``python -m dataplane.traffic.generator``, one
    process) sending UDP frames of ``--frame`` bytes as fast as it can (four
    flows at the 1 Gbit/s per-flow bound, more than it can send), with the
    project's receiver counting at the other end;
(b) iperf3 UDP, unlimited rate (``-b 0``), payload ``--frame - 42`` bytes so the
    frames are the same size, same path, same duration.

Both are counted in packets per second received by the receiving veth
interface (its kernel counter: what the path delivered, whether or not the
receiving program kept up); what each sender and receiver program counted is
printed beside it.  The two alternate for ``--rounds`` rounds and the best
round of each counts (the machine may be busy with other work).  Goals from the issue: ratio >= 0.8 and >= 100,000 pps
from one generator process.  The last line is ``generator/iperf3 pps ratio: X``.
The namespaces are removed whatever happens, Ctrl-C included.  Needs root.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import record, results_path  # noqa: E402
from dataplane.traffic import FlowSpec, run_traffic  # noqa: E402

GOAL_PPS = 100_000
GOAL_RATIO = 0.8


def sh(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


class NetnsHost:
    """A Mininet-like host: ``popen`` runs a command inside the namespace, in its own group."""

    def __init__(self, ns: str):
        self.ns = ns

    def popen(self, args, **kw):
        return subprocess.Popen(["ip", "netns", "exec", self.ns, *args], start_new_session=True, **kw)


class Path2:
    """Two namespaces joined by a veth pair; removed on exit."""

    def __init__(self):
        tag = secrets.token_hex(3)
        self.a, self.b = f"oitb{tag}a", f"oitb{tag}b"
        self.ip_a, self.ip_b = "198.19.250.1", "198.19.250.2"

    def __enter__(self):
        try:
            for ns in (self.a, self.b):
                sh("ip", "netns", "add", ns)
            sh("ip", "link", "add", f"{self.a}0", "netns", self.a, "type", "veth", "peer", "name", f"{self.b}0",
               "netns", self.b)
            for ns, ip in ((self.a, self.ip_a), (self.b, self.ip_b)):
                sh("ip", "netns", "exec", ns, "sysctl", "-qw", f"net.ipv6.conf.{ns}0.disable_ipv6=1")
                sh("ip", "-n", ns, "addr", "add", f"{ip}/24", "dev", f"{ns}0")
                sh("ip", "-n", ns, "link", "set", f"{ns}0", "up")
                sh("ip", "-n", ns, "link", "set", "lo", "up")
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *_):
        for ns in (self.a, self.b):
            for pid in subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout.split():
                try:
                    os.kill(int(pid), 9)
                except (ProcessLookupError, ValueError):
                    pass
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)

    def mac(self, ns: str) -> str:
        return json.loads(sh("ip", "-n", ns, "-j", "link", "show", f"{ns}0"))[0]["address"]

    def rx_packets(self) -> int:
        link = json.loads(sh("ip", "-n", self.b, "-s", "-j", "link", "show", f"{self.b}0"))[0]
        return link["stats64"]["rx"]["packets"]


def bench_generator(path: Path2, seconds: float, frame: int) -> dict:
    template = FlowSpec(flow_id=1, demand="bench", src_host="a", dst_host="b", src_ip=path.ip_a, dst_ip=path.ip_b,
                        src_mac=path.mac(path.a), dst_mac=path.mac(path.b), src_port=20000, dst_port=5001,
                        rate_kbps=1_000_000, frame_bytes=frame, stop_s=seconds, interface=f"{path.a}0")
    # 4 flows at the 1 Gbit/s bound: more than one process can send
    flows = [dataclasses.replace(template, flow_id=i, src_port=20000 + i) for i in range(4)]
    before = path.rx_packets()
    result = run_traffic({"a": NetnsHost(path.a), "b": NetnsHost(path.b)}, flows, seconds, lead_s=1.5)
    at_interface = path.rx_packets() - before
    for m in result.flows:
        if m.error:
            raise SystemExit(f"bench: generator run failed: {m.error}")
    sent = sum(m.sent.packets for m in result.flows)
    errors = sum(m.sent.send_errors for m in result.flows)
    received = sum(m.received.distinct for m in result.flows)
    window = max(m.sent.last_s for m in result.flows) - min(m.sent.first_s for m in result.flows)
    return {"pps": at_interface / window, "sent_pps": (sent - errors) / window, "app_pps": received / window,
            "send_errors": errors, "window": window}


def bench_iperf3(path: Path2, seconds: float, frame: int) -> dict:
    server = NetnsHost(path.b).popen(["iperf3", "-s", "-1", "-J", "-B", path.ip_b, "-p", "5201"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    client = None
    try:
        time.sleep(0.5)
        before = path.rx_packets()
        client = NetnsHost(path.a).popen(
            ["iperf3", "-c", path.ip_b, "-p", "5201", "-u", "-b", "0", "-l", str(frame - 42), "-t", str(seconds),
             "-J"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = client.communicate(timeout=seconds + 20)
        at_interface = path.rx_packets() - before
        sout, _ = server.communicate(timeout=10)
        if client.returncode:
            raise SystemExit(f"bench: iperf3 client failed: {err.decode()[-200:]}")
        end = json.loads(out)["end"]["sum"]
        window = end["seconds"]
        srv = json.loads(sout)["end"]["sum"]
        app = srv["packets"] - srv["lost_packets"]
        return {"pps": at_interface / window, "sent_pps": end["packets"] / window, "app_pps": app / window,
                "window": window}
    finally:
        for p in (client, server):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--frame", type=int, default=1200, help="Ethernet frame bytes (64-1514)")
    parser.add_argument("--rounds", type=int, default=3, help="generator and iperf3 runs, alternating")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("bench/traffic.py needs root (network namespaces)", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind, so the namespaces go too
    try:
        return run(args)
    except KeyboardInterrupt:
        print("bench/traffic.py: interrupted; namespaces removed", file=sys.stderr)
        return 130


def run(args) -> int:
    gens, ipfs = [], []
    with Path2() as path:
        print(f"path: {path.a} -> {path.b} (veth), {args.frame}-byte frames, {args.seconds:g} s each, "
              f"{os.cpu_count()} cores, {args.rounds} rounds, the best of each counts")
        for i in range(args.rounds):  # alternate, so a busy moment of the machine hits both
            gen = bench_generator(path, args.seconds, args.frame)
            print(f"  round {i + 1} generator (1 process, 4 flows): {gen['pps']:,.0f} pps received at the "
                  f"interface; sent {gen['sent_pps']:,.0f} pps ({gen['send_errors']} refused by the host), "
                  f"receiver program counted {gen['app_pps']:,.0f} pps")
            ipf = bench_iperf3(path, args.seconds, args.frame)
            print(f"  round {i + 1} iperf3 (-u -b 0 -l {args.frame - 42}): {ipf['pps']:,.0f} pps received at the "
                  f"interface; sent {ipf['sent_pps']:,.0f} pps, iperf3 server counted {ipf['app_pps']:,.0f} pps")
            gens.append(gen["pps"])
            ipfs.append(ipf["pps"])
    gen_pps, ipf_pps = max(gens), max(ipfs)
    ratio = gen_pps / ipf_pps if ipf_pps else float("inf")
    met_pps, met_ratio = gen_pps >= GOAL_PPS, ratio >= GOAL_RATIO
    print(f"generator: {gen_pps:,.0f} pps, iperf3: {ipf_pps:,.0f} pps (received at the interface, best round)")
    print(f"goal >= {GOAL_PPS:,} pps from one generator: {'met' if met_pps else 'NOT met'}; "
          f"goal ratio >= {GOAL_RATIO}: {'met' if met_ratio else 'NOT met'}")
    print(f"generator/iperf3 pps ratio: {ratio:.2f}")
    record("traffic", "received", gen_pps, "packets_per_second", {"sender": "generator"})
    record("traffic", "received", ipf_pps, "packets_per_second", {"sender": "iperf3"})
    if ipf_pps:
        record("traffic", "generator_iperf3", ratio, "ratio")
    print(f"results: {results_path()}", file=sys.stderr)  # stdout's last line stays the ratio
    return 0 if met_pps and met_ratio else 1


if __name__ == "__main__":
    sys.exit(main())
