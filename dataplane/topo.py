"""A scenario as a Mininet ``Topo``: pure data, built with ``addSwitch/addHost/addLink``.

Port numbers and dpids come from the scenario, so the controller's plan and
the wiring agree; every switch is an OVS bridge on the userspace datapath in
secure fail mode speaking OpenFlow 1.3, every link is shaped with HTB at
capacity x ``emulation.scale``.
"""
from __future__ import annotations

from mininet.link import Intf, Link
from mininet.node import Host, OVSSwitch
from mininet.topo import Topo

from topologies.model import EMULATION_RANGE, Scenario


def emulated_mbps(scenario: Scenario, kbps: int) -> float:
    """Mininet's ``bw`` (Mbit/s) for a real capacity in kbps: the scenario's one
    scaling rule (:meth:`~topologies.model.EmulationSettings.emulated_kbps`).

    >>> from topologies.model import EmulationSettings
    >>> from types import SimpleNamespace
    >>> emulated_mbps(SimpleNamespace(emulation=EmulationSettings(0.001)), 10_000_000)
    10.0
    """
    return scenario.emulation.emulated_kbps(kbps) / 1000.0


#: Packets an HTB-shaped port may queue.  Mininet leaves the kernel default
#: (1,000); the userspace datapath then stalls on a full socket whenever one
#: shaped link is overloaded, and every flow loses packets (measured: 40% loss
#: on a local flow while another link was overloaded).  A short queue drops
#: at the congested link only.
SHAPED_QUEUE_PACKETS = 30
#: The MTU of links between switches: a full-size Ethernet frame (1,500 bytes of IP)
#: plus the MPLS label the ingress pushes, with room to spare.  At 1,500, a labelled
#: full-size frame (a TCP segment of 1,448 bytes, or a 1,514-byte UDP frame) is four
#: bytes too long and dies at the first link; hosts keep 1,500.
CORE_MTU = 1600


class ShapedIntf(Intf):
    """An interface whose shaping (HTB at ``bw`` Mbit/s, a short drop-tail queue, netem's
    ``delay`` where the kernel has it) and MTU are recorded when Mininet configures it and
    applied for the whole network at once by :func:`dataplane.network.start_network`.

    Not a ``TCIntf``: Mininet runs a ``TCIntf``'s eight or so commands one by one through
    the node's shell, and again for every switch port after the switches start (OVS clears
    a port's qdisc when it adds it); on a 100-switch world that took 71 of the 80 s of
    building it.
    """

    def config(self, bw=None, delay=None, mtu=None, **params):
        self.shaping = {"bw": bw, "delay": delay}
        self.mtu = mtu
        return super().config(**params)


def tc_lines(name: str, bw: float | None, delay: str | None = None) -> list[str]:
    """The ``tc -batch`` lines that shape interface ``name``, as Mininet's ``TCIntf`` would,
    with a queue of :data:`SHAPED_QUEUE_PACKETS`.

    >>> for line in tc_lines("s1-eth1", 20.0) + tc_lines("s1-eth2", 2.5, "10ms") + tc_lines("s1-eth3", None):
    ...     print(line)
    qdisc replace dev s1-eth1 root handle 5:0 htb default 1
    class add dev s1-eth1 parent 5:0 classid 5:1 htb rate 20.000000Mbit burst 15k
    qdisc add dev s1-eth1 parent 5:1 handle 10: pfifo limit 30
    qdisc replace dev s1-eth2 root handle 5:0 htb default 1
    class add dev s1-eth2 parent 5:0 classid 5:1 htb rate 2.500000Mbit burst 15k
    qdisc add dev s1-eth2 parent 5:1 handle 10: netem delay 10ms limit 30
    """
    if bw is None:
        return []
    leaf = f"netem delay {delay} limit {SHAPED_QUEUE_PACKETS}" if delay else f"pfifo limit {SHAPED_QUEUE_PACKETS}"
    return [f"qdisc replace dev {name} root handle 5:0 htb default 1",
            f"class add dev {name} parent 5:0 classid 5:1 htb rate {bw:f}Mbit burst 15k",
            f"qdisc add dev {name} parent 5:1 handle 10: {leaf}"]


class ShapedLink(Link):
    """A link with :class:`ShapedIntf` at both ends."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("cls1", ShapedIntf)
        kwargs.setdefault("cls2", ShapedIntf)
        super().__init__(*args, **kwargs)


class EmulatedHost(Host):
    """An IPv4-only host whose only route is the emulated range, with transmit
    offload off.

    Checksums left to offload are never filled in on OVS's userspace datapath,
    so TCP needs ``tx off``; the on-link /15 route lets the controller answer
    ARP for every emulated address while nothing routes off the emulation.
    IPv6 is off in the host's namespace: its router solicitations and MLD
    reports carry no IPv4 source, so the edge's anti-spoofing rule would drop
    and count them as spoofed.
    """

    def config(self, **params):
        result = super().config(**params)
        intf = self.defaultIntf()
        self.cmd("sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1")
        self.cmd("ethtool -K", intf, "tx off")
        self.cmd("ip route flush default")
        self.cmd("ip route add", EMULATION_RANGE, "dev", intf)
        return result


def link_options(scenario: Scenario, link, netem: bool) -> dict:
    """Mininet's options for one link: its shaped rate, and its latency where the kernel has netem.

    >>> from topologies.loader import load_scenario
    >>> s = load_scenario("topologies/default.yaml")
    >>> link_options(s, s.link["at1"], netem=True), link_options(s, s.link["at1"], netem=False)
    ({'bw': 20.0, 'delay': '10ms'}, {'bw': 20.0})
    """
    options = {"bw": emulated_mbps(scenario, link.capacity_kbps)}
    if netem and link.latency_ms > 0:
        options["delay"] = f"{link.latency_ms:g}ms"
    return options


class ScenarioTopo(Topo):
    """The switches, hosts and links of ``scenario``; each link's latency is emulated when
    ``netem`` is true (the kernel has sch_netem; this machine's has not)."""

    def build(self, scenario: Scenario, netem: bool = False):  # noqa: D102 (Mininet's hook)
        graph = scenario.graph
        for s in scenario.switches:
            self.addSwitch(s.name, cls=OVSSwitch, dpid="%016x" % s.dpid, datapath="user",
                           failMode="secure", protocols="OpenFlow13")
        for h in scenario.hosts:
            self.addHost(h.name, cls=EmulatedHost, ip=f"{h.ip}/{h.prefixlen}", mac=h.mac)
            self.addLink(h.name, h.switch, port1=0, port2=graph.host_port(h.name).number,
                         cls=ShapedLink, bw=emulated_mbps(scenario, h.access_kbps))
        for link in scenario.links:
            self.addLink(link.a, link.b, port1=graph.link_port(link.a, link.id).number,
                         port2=graph.link_port(link.b, link.id).number, cls=ShapedLink, mtu=CORE_MTU,
                         **link_options(scenario, link, netem))
