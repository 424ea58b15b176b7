from dataplane.teardown import interface_names
from dataplane.topo import CORE_MTU, ScenarioTopo, emulated_mbps
from topologies.loader import load_scenario

S = load_scenario("topologies/default.yaml")


def test_emulated_bandwidth_follows_the_scale():
    from dataclasses import replace

    from topologies.model import EmulationSettings

    assert emulated_mbps(S, 20_000) == 20.0
    assert emulated_mbps(replace(S, emulation=EmulationSettings(0.001)), 10_000_000) == 10.0


def test_topo_uses_the_scenario_ports_dpids_and_addresses():
    topo = ScenarioTopo(S)
    assert sorted(topo.switches()) == sorted(S.switch)
    assert sorted(topo.hosts()) == sorted(S.host)
    assert topo.nodeInfo("mn1")["dpid"] == "%016x" % S.switch["mn1"].dpid
    assert topo.nodeInfo("h1")["ip"] == "198.18.1.1/24"
    link = S.link["mn-lk"]
    info = topo.linkInfo("mn1", "lk1")
    assert {info["port1"], info["port2"]} == {S.graph.link_port("mn1", "mn-lk").number, S.graph.link_port("lk1", "mn-lk").number}
    assert info["bw"] == link.capacity_kbps / 1000
    # links between switches carry a full-size frame plus the MPLS label; host links stay at 1,500
    assert all(topo.linkInfo(l.a, l.b)["mtu"] == CORE_MTU for l in S.links) and CORE_MTU >= 1514 + 4
    assert all("mtu" not in topo.linkInfo(h.name, h.switch) for h in S.hosts)


def test_interface_names_fit_linux_limits():
    names = interface_names(S)
    assert "h1-eth0" in names and "mn1-eth1" in names
    assert all(len(n) <= 15 for n in names)
