"""Build the Mininet network of a scenario: OVS userspace switches, shaped links.

Port numbers and dpids come from the scenario (``Scenario.graph``, ``Switch.dpid``)
so the controller's plan and the wiring agree.  Hosts get their scenario
address, prefix and MAC and no default route: nothing leaves the emulation.

Only Open vSwitch's userspace datapath is available here (no kernel module),
so every bridge is ``datapath_type=netdev``; TCP over it needs transmit
checksum offload off on every host interface.
"""
from __future__ import annotations

from pathlib import Path

from mininet.link import TCLink
from mininet.log import setLogLevel
from mininet.net import Mininet
from mininet.node import OVSSwitch, RemoteController

from topologies.model import Scenario

from .topo import ScenarioTopo


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
                  controller=None, switch=OVSSwitch, link=TCLink, waitConnected=False)
    net.addController("c0", controller=RemoteController, ip="127.0.0.1", port=ofp_port)
    return net


def start_network(net: Mininet) -> Mininet:
    net.build()
    quiet_switch_ports(net)
    net.start()
    return net


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
