"""Build the Mininet network of a scenario: OVS userspace switches, shaped links.

Port numbers and dpids come from the scenario (``Scenario.graph``, ``Switch.dpid``)
so the controller's plan and the wiring agree.  Hosts get their scenario
address, prefix and MAC and no default route: nothing leaves the emulation.

Only Open vSwitch's userspace datapath is available here (no kernel module),
so every bridge is ``datapath_type=netdev``; TCP over it needs transmit
checksum offload off on every host interface.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

from mininet.log import setLogLevel
from mininet.net import Mininet
from mininet.node import OVSSwitch, RemoteController

from topologies.model import Scenario

from .topo import ScenarioTopo, ShapedIntf, ShapedLink, tc_lines


def netem_available() -> bool:
    """Whether the kernel has netem (link latency emulation), probed once in a namespace of its own."""
    from .doctor import check_tc

    return any(f.name == "tc netem" and f.ok for f in check_tc())


def new_network(scenario: Scenario, ofp_port: int, quiet: bool = True, netem: bool = False) -> Mininet:
    """A Mininet network for ``scenario`` whose switches will dial 127.0.0.1:``ofp_port``; not built yet.

    Build it with :func:`start_network`; holding the object first lets a run
    that is interrupted while building tear down what was built.
    """
    # Mininet reports tc's harmless "quantum is big" warning of every HTB class as
    # an error; the shaping itself works, so only critical messages pass.
    setLogLevel("critical" if quiet else "info")
    net = Mininet(topo=ScenarioTopo(scenario, netem=netem), build=False, autoSetMacs=False, autoStaticArp=False,
                  controller=None, switch=OVSSwitch, link=ShapedLink, waitConnected=False)
    net.addController("c0", controller=RemoteController, ip="127.0.0.1", port=ofp_port)
    return net


def start_network(net: Mininet) -> Mininet:
    net.build()
    quiet_switch_ports(net)
    _batch(["ip", "-batch", "-"], [f"link set dev {intf.name} mtu {intf.mtu}" for switch in net.switches
                                   for intf in switch.intfList() if getattr(intf, "mtu", None)], "the root namespace")
    net.start()
    shape_links(net)
    return net


def shape_links(net: Mininet) -> None:
    """Every :class:`~dataplane.topo.ShapedIntf` shaped as recorded: one ``tc -batch`` for
    the switches' ports (all in the root namespace, after OVS has added them: it clears a
    port's qdisc then), and one per host in its namespace, run side by side."""
    def lines(node) -> list[str]:
        return [line for intf in node.intfList() if isinstance(intf, ShapedIntf)
                for line in tc_lines(intf.name, **intf.shaping)]

    _batch(["tc", "-batch", "-"], [line for switch in net.switches for line in lines(switch)], "the switches' ports")
    running = [(host, host.popen(["tc", "-batch", "-"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True), batch)
               for host in net.hosts if (batch := lines(host))]
    for host, proc, batch in running:
        out, _ = proc.communicate("\n".join(batch) + "\n", timeout=60)
        if proc.returncode:
            raise RuntimeError(f"shaping {host.name}'s links failed: {out.strip()}")


def _batch(command: list[str], batch: list[str], where: str) -> None:
    if not batch:
        return
    result = subprocess.run(command, input="\n".join(batch) + "\n", capture_output=True, text=True, timeout=120)
    if result.returncode:
        raise RuntimeError(f"{command[0]} -batch in {where} failed: {(result.stderr or result.stdout).strip()}")


def quiet_switch_ports(net: Mininet) -> list[str]:
    """IPv6 off on every switch port (they live in the root namespace), so the kernel sends
    no router solicitations or MLD reports over the links: the only traffic a link carries
    is the hosts' and the controller's, and port counters measure just that.  The ports whose
    setting could be written."""
    done = []
    for switch in net.switches:
        for intf in switch.intfList():
            knob = Path("/proc/sys/net/ipv6/conf") / intf.name / "disable_ipv6"
            if intf.name != "lo" and knob.exists():
                knob.write_text("1\n")
                done.append(intf.name)
    return done


def build_network(scenario: Scenario, ofp_port: int, quiet: bool = True) -> Mininet:
    """A started Mininet network for ``scenario`` whose switches dial 127.0.0.1:``ofp_port``."""
    return start_network(new_network(scenario, ofp_port, quiet))
