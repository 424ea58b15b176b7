"""Build the Mininet network of a scenario: OVS userspace switches, shaped links.

Port numbers and dpids come from the scenario (``Scenario.ports``, ``Switch.dpid``)
so the controller's plan and the wiring agree.  Hosts get their scenario
address, prefix and MAC and no default route: nothing leaves the emulation.

Only Open vSwitch's userspace datapath is available here (no kernel module),
so every bridge is ``datapath_type=netdev``; TCP over it needs transmit
checksum offload off on every host interface.
"""
from __future__ import annotations

import subprocess

from mininet.link import TCLink
from mininet.log import setLogLevel
from mininet.net import Mininet
from mininet.node import OVSSwitch, RemoteController

from topologies.model import Scenario

from .topo import ScenarioTopo


class DataplaneError(Exception):
    """The emulated network could not be built, run or torn down."""


def interface_names(scenario: Scenario) -> list[str]:
    """Every interface name the network will create (Mininet's ``node-ethN``)."""
    names = [f"{h.name}-eth0" for h in scenario.hosts]
    names += [f"{sw}-eth{port}" for (sw, _), port in scenario.ports.items()]
    return names


def remove_leftovers(scenario: Scenario) -> list[str]:
    """Delete bridges and interfaces named after this scenario's nodes, left by a
    run that was killed before it could clean up.  Touches nothing else.

    Returns what it removed.
    """
    removed = []
    have = subprocess.run(["ovs-vsctl", "--timeout=10", "list-br"], capture_output=True, text=True).stdout.split()
    for switch in scenario.switches:
        if switch.name in have:
            subprocess.run(["ovs-vsctl", "--timeout=10", "--if-exists", "del-br", switch.name], check=False)
            removed.append(f"bridge {switch.name}")
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    present = {line.split(":")[1].strip().split("@")[0] for line in links.splitlines() if ":" in line}
    for name in [*interface_names(scenario), *(s.name for s in scenario.switches)]:
        if name in present:
            subprocess.run(["ip", "link", "del", name], capture_output=True, check=False)
            removed.append(f"interface {name}")
    return removed


def build_network(scenario: Scenario, ofp_port: int, quiet: bool = True) -> Mininet:
    """A started Mininet network for ``scenario`` whose switches dial 127.0.0.1:``ofp_port``."""
    # Mininet reports tc's harmless "quantum is big" warning of every HTB class as
    # an error; the shaping itself works, so only critical messages pass.
    setLogLevel("critical" if quiet else "info")
    net = Mininet(topo=ScenarioTopo(scenario), build=False, autoSetMacs=False, autoStaticArp=False,
                  controller=None, switch=OVSSwitch, link=TCLink, waitConnected=False)
    net.addController("c0", controller=RemoteController, ip="127.0.0.1", port=ofp_port)
    net.build()
    net.start()
    return net
