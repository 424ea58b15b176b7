"""A scenario's switches as fake OpenFlow tables, filled by what the core really sends.

The core connects every switch, its operations become os-ken messages through
:mod:`controller.ofmsgs`, and the fake tables of :mod:`controller.fakeoftable`
apply them (serialised and parsed back, as the wire carries them).
"""
from __future__ import annotations

from controller.core import ControllerCore, Settings
from controller.fakenet import FakeNetwork, scenario_wiring
from controller.fakeoftable import FakeDatapath, FakeOFTable
from controller.ofmsgs import to_messages
from controller.planner import make_planner
from controller.ruleplan import ETH_TYPE_IP


def apply(table: FakeOFTable, ops, check: bool = True) -> None:
    table.apply([msg for _, msg in to_messages(FakeDatapath(table.dpid), ops)], check=check)


class FakeWorld:
    """The core and a fake network holding what it installed."""

    def __init__(self, scenario, planner=None, settings: Settings = Settings()):
        self.scenario = scenario
        self.core = ControllerCore(scenario, planner or make_planner(scenario, "market", "lmp"), settings)
        self.tables = {s.dpid: FakeOFTable(s.dpid) for s in scenario.switches}
        for s in scenario.switches:
            self.core.connected(s.dpid, now=0)
            self.deliver(self.core.flow_stats(s.dpid, [], False, now=0))
        self.net = FakeNetwork(self.tables, scenario_wiring(scenario))

    def deliver(self, ops_by_dpid: dict, check: bool = True) -> None:
        """Apply the core's operations to the switches and answer their final barriers."""
        for dpid, ops in ops_by_dpid.items():
            apply(self.tables[dpid], ops, check)
            tokens = [op.token for op in ops if getattr(op, "token", None)]
            if tokens:
                self.core.barrier_reply(dpid, tokens[-1], now=0)

    def packet(self, src: str, dst: str, **fields) -> dict:
        """An IPv4 packet from host ``src`` to host ``dst`` as its sender builds it."""
        s, d = self.scenario.host[src], self.scenario.host[dst]
        return {"eth_src": s.mac, "eth_dst": d.mac, "eth_type": ETH_TYPE_IP, "ipv4_src": str(s.ip),
                "ipv4_dst": str(d.ip), **fields}

    def walk(self, src: str, packet: dict, **kw):
        """Send ``packet`` from host ``src`` into its switch and follow it."""
        port = self.scenario.graph.host_port(src)
        return self.net.walk(self.scenario.switch[port.switch].dpid, port.number, packet, **kw)

    def switch_names(self, trace) -> tuple[str, ...]:
        return tuple(self.scenario.switch_by_dpid[d].name for d in trace.switches)
