"""The os-ken application: a thin shim between OpenFlow events and pure code.

Each handler finds its datapath, asks pure code what to do, and hands the
result to :meth:`OpenIspApp.send`.  The scenario, the plan and the status
record are given by :mod:`controller.launch` through :data:`SETTINGS` before
os-ken instantiates the app (os-ken builds apps itself, with no arguments).
"""
from __future__ import annotations

import logging

from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import CONFIG_DISPATCHER, DEAD_DISPATCHER, MAIN_DISPATCHER, set_ev_cls
from os_ken.lib import hub
from os_ken.lib.packet import arp, ethernet, packet
from os_ken.ofproto import ofproto_v1_3

from . import cookies, ofmsgs
from .reconcile import held_epoch, reconcile
from .proxyarp import arp_reply_for

#: Filled in by controller.launch: scenario, plan, status.
SETTINGS: dict = {}

log = logging.getLogger("openisp.controller")

#: Periodic jobs: name -> (method, interval in seconds; None = from SETTINGS).
PERIODIC = {
    "epoch": ("clear_epoch", None),   # re-clear the market every epoch
    "stats": ("poll_stats", 5.0),     # port, meter and flow counters of every switch
}


class OpenIspApp(app_manager.OSKenApp):
    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.scenario = SETTINGS["scenario"]
        self.plan = SETTINGS["plan"]
        self.status = SETTINGS["status"]
        self.replan = SETTINGS.get("replan")
        self.pending_barrier: dict[int, int] = {}  # dpid -> xid of the final barrier
        self.datapaths: dict[int, object] = {}
        self.held: dict[int, dict] = {}  # dpid -> flows the switch reports, while reading them
        self.flow_counts: dict[int, dict] = {}  # dpid -> packets per kind of flow, while a poll's replies come
        self.adopted = False  # whether this controller has chosen its epoch from the switches
        self.down: set[str] = set()  # links whose ports reported link down
        self.epoch = 0
        self.epoch_s = SETTINGS.get("epoch_s") or 0
        self.threads = [hub.spawn(self._every, getattr(self, method), interval or self.epoch_s)
                        for method, interval in PERIODIC.values() if (interval or self.epoch_s) > 0]
        self.link_at = {(scenario_switch.dpid, port): neighbour
                        for (name, neighbour), port in self.scenario.ports.items()
                        for scenario_switch in [self.scenario.switch[name]] if neighbour in self.scenario.link}

    def _every(self, job, interval: float) -> None:
        while True:
            hub.sleep(interval)
            try:
                job()
            except Exception:  # a failed job must not stop the others or the next round
                log.exception("periodic job %s failed", job.__name__)

    def clear_epoch(self) -> None:
        if self.replan is not None and self.datapaths:
            self.move_to_new_plan()

    def poll_stats(self) -> None:
        for dp in list(self.datapaths.values()):
            parser, ofp = dp.ofproto_parser, dp.ofproto
            if dp.id in self.held:
                continue  # still reading its table after a connect
            self.send(dp, [parser.OFPPortStatsRequest(dp, 0, ofp.OFPP_ANY),
                           parser.OFPMeterStatsRequest(dp, 0, ofp.OFPM_ALL),
                           parser.OFPFlowStatsRequest(dp, 0, ofp.OFPTT_ALL, ofp.OFPP_ANY, ofp.OFPG_ANY, 0, 0,
                                                      parser.OFPMatch())])

    # --- the one place that sends -------------------------------------------
    def send(self, dp, messages) -> int | None:
        """Send messages in order; return the xid of the last one."""
        xid = None
        for msg in messages:
            dp.set_xid(msg)
            dp.send_msg(msg)
            xid = msg.xid
        return xid

    # --- handlers -------------------------------------------------------------
    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)
    def switch_features(self, ev):
        dp = ev.msg.datapath
        switch = self.scenario.switch_by_dpid.get(dp.id)
        if switch is None:
            self.status.error(f"unknown datapath {dp.id:#x} connected; ignored")
            log.warning("unknown datapath %#x connected; ignored", dp.id)
            return
        self.status.connected(dp.id)
        self.datapaths[dp.id] = dp
        # First read what the switch already holds (it keeps its rules in secure mode).
        self.held[dp.id] = {}
        parser, ofp = dp.ofproto_parser, dp.ofproto
        self.send(dp, [parser.OFPFlowStatsRequest(dp, 0, ofp.OFPTT_ALL, ofp.OFPP_ANY, ofp.OFPG_ANY, 0, 0,
                                                  parser.OFPMatch())])

    @set_ev_cls(ofp_event.EventOFPFlowStatsReply, MAIN_DISPATCHER)
    def flow_stats(self, ev):
        dp = ev.msg.datapath
        if dp.id not in self.held:  # a periodic poll: packets per kind of flow (cookies say which)
            counts = self.flow_counts.setdefault(dp.id, {})
            for stat in ev.msg.body:
                kind = cookies.kind_of(stat.cookie)
                counts[kind] = counts.get(kind, 0) + stat.packet_count
            if not ev.msg.flags & dp.ofproto.OFPMPF_REPLY_MORE:
                self.status.stats(dp.id, "flow_packets", self.flow_counts.pop(dp.id))
            return
        for stat in ev.msg.body:
            self.held[dp.id][(stat.table_id, stat.priority, tuple(sorted(stat.match.items())))] = stat.cookie
        if not ev.msg.flags & dp.ofproto.OFPMPF_REPLY_MORE:
            self.install(dp, self.held.pop(dp.id))

    def install(self, dp, held: dict) -> None:
        """A fresh switch gets the whole plan; one that kept its rules gets only the difference."""
        name = self.scenario.switch_by_dpid[dp.id].name
        epoch = held_epoch(held)
        if epoch is not None and not self.adopted and epoch != self.epoch and self.replan is not None:
            # A restarted controller takes the epoch the switches run, so an unchanged
            # market gives an identical plan and nothing is reinstalled.
            self.epoch = epoch
            self.plan, paths, allocated = self.replan(epoch, frozenset(self.down))
            self.status.replanned(epoch, paths, allocated, sorted(self.down))
        self.adopted = True
        plan = self.plan.for_switch(dp.id)
        if not held:
            self.pending_barrier[dp.id] = self.send(dp, ofmsgs.install_messages(dp, plan))
            self.status.reconciled(dp.id, unchanged=0, added=len(plan.flows), removed=0)
            log.info("switch %s (dpid %#x) connected empty: installing %d rules", name, dp.id, len(plan))
            return
        fix = reconcile(held, plan)
        self.pending_barrier[dp.id] = self.send(dp, ofmsgs.reconcile_messages(dp, fix))
        self.status.reconciled(dp.id, unchanged=len(fix.unchanged), added=len(fix.add.flows), removed=len(fix.stale))
        log.info("switch %s reconnected holding %d flows: %d unchanged, %d to install, %d stale", name, len(held),
                 len(fix.unchanged), len(fix.add.flows), len(fix.stale))

    @set_ev_cls(ofp_event.EventOFPBarrierReply, MAIN_DISPATCHER)
    def barrier_reply(self, ev):
        dp = ev.msg.datapath
        if self.pending_barrier.get(dp.id) == ev.msg.xid:
            del self.pending_barrier[dp.id]
            self.status.acknowledged(dp.id, len(self.plan.for_switch(dp.id)))
            log.info("switch %s holds its plan", self.scenario.switch_by_dpid[dp.id].name)

    @set_ev_cls(ofp_event.EventOFPErrorMsg, [CONFIG_DISPATCHER, MAIN_DISPATCHER])
    def error_msg(self, ev):
        msg = ev.msg
        text = f"switch {msg.datapath.id:#x} refused a message: type={msg.type} code={msg.code}"
        self.status.error(text)
        log.error(text)

    @set_ev_cls(ofp_event.EventOFPStateChange, DEAD_DISPATCHER)
    def state_change(self, ev):
        if ev.datapath.id is not None:
            self.status.disconnected(ev.datapath.id)
            self.pending_barrier.pop(ev.datapath.id, None)
            self.datapaths.pop(ev.datapath.id, None)

    @set_ev_cls(ofp_event.EventOFPPortStatsReply, MAIN_DISPATCHER)
    def port_stats(self, ev):
        self.status.stats(ev.msg.datapath.id, "ports", {
            str(p.port_no): {"rx_packets": p.rx_packets, "tx_packets": p.tx_packets, "rx_bytes": p.rx_bytes,
                             "tx_bytes": p.tx_bytes, "rx_dropped": p.rx_dropped, "tx_dropped": p.tx_dropped}
            for p in ev.msg.body})

    @set_ev_cls(ofp_event.EventOFPMeterStatsReply, MAIN_DISPATCHER)
    def meter_stats(self, ev):
        self.status.stats(ev.msg.datapath.id, "meters", {
            str(m.meter_id): {"packets_in": m.packet_in_count, "bytes_in": m.byte_in_count,
                              "dropped_packets": sum(b.packet_band_count for b in m.band_stats)}
            for m in ev.msg.body})

    @set_ev_cls(ofp_event.EventOFPPortStatus, MAIN_DISPATCHER)
    def port_status(self, ev):
        msg = ev.msg
        dp, ofp = msg.datapath, msg.datapath.ofproto
        link = self.link_at.get((dp.id, msg.desc.port_no))
        if link is None or self.replan is None:
            return
        is_down = (msg.reason == ofp.OFPPR_DELETE or bool(msg.desc.state & ofp.OFPPS_LINK_DOWN)
                   or bool(msg.desc.config & ofp.OFPPC_PORT_DOWN))
        if is_down == (link in self.down):
            return  # the other end already told us
        (self.down.add if is_down else self.down.discard)(link)
        log.info("link %s %s: re-planning without %s", link, "down" if is_down else "up", sorted(self.down) or "none")
        self.move_to_new_plan()

    def move_to_new_plan(self):
        """Re-clear the market for the links in service, then make before break on every switch."""
        self.epoch += 1
        plan, paths, allocated = self.replan(self.epoch, frozenset(self.down))
        old, self.plan = self.plan, plan
        self.status.replanned(self.epoch, paths, allocated, sorted(self.down))
        for dpid, dp in list(self.datapaths.items()):
            self.pending_barrier[dpid] = self.send(dp, ofmsgs.transition_messages(dp, old.for_switch(dpid),
                                                                                  plan.for_switch(dpid)))

    @set_ev_cls(ofp_event.EventOFPPacketIn, MAIN_DISPATCHER)
    def packet_in(self, ev):
        msg = ev.msg
        dp = msg.datapath
        in_port = msg.match["in_port"]
        pkt = packet.Packet(msg.data)
        request = pkt.get_protocol(arp.arp)
        if request is None:
            return
        reply = arp_reply_for(self.scenario, request.opcode, request.src_mac, request.src_ip, request.dst_ip)
        if reply is None:
            return  # not a request for a host we know: no flooding, ever
        out = packet.Packet()
        out.add_protocol(ethernet.ethernet(dst=reply.dst_mac, src=reply.src_mac, ethertype=0x0806))
        out.add_protocol(arp.arp(opcode=arp.ARP_REPLY, src_mac=reply.src_mac, src_ip=reply.src_ip,
                                 dst_mac=reply.dst_mac, dst_ip=reply.dst_ip))
        out.serialize()
        parser, ofp = dp.ofproto_parser, dp.ofproto
        self.send(dp, [parser.OFPPacketOut(datapath=dp, buffer_id=ofp.OFP_NO_BUFFER, in_port=ofp.OFPP_CONTROLLER,
                                           actions=[parser.OFPActionOutput(in_port)], data=out.data)])
