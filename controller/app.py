"""The os-ken application: a thin shim between OpenFlow events and the pure core.

Each handler reads its event into plain values, calls one method of
:class:`controller.core.ControllerCore` with the time, and hands what comes
to :class:`controller.outbox.Outbox`, which queues it in the core's order and
sends it outside the core's lock.  The core comes in
as a constructor argument (``AppManager.instantiate_apps(core=...)``, see
:mod:`controller.launch`); there are no module-level settings.
"""
from __future__ import annotations

import functools
import logging
import threading
import time

from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import CONFIG_DISPATCHER, DEAD_DISPATCHER, MAIN_DISPATCHER, set_ev_cls
from os_ken.lib import hub
from os_ken.lib.packet import arp, packet
from os_ken.ofproto import ofproto_v1_3

from .background import Reaper
from .core import ControllerCore, FlowStat, MeterStat, PortStat
from .outbox import Outbox

log = logging.getLogger("openisp.controller")

#: How often the core is asked what is due (epochs, counter polls).
TICK_S = 0.1


def guarded(handler):
    """An event handler that logs its failure instead of raising it.

    os-ken's native hub (the one used here) defines ``TaskExit`` as ``Exception``, and an
    app's event loop re-raises ``TaskExit`` from a handler: one exception in any handler
    would end the app's event loop, silently, and every later event (switches connecting,
    barriers, counters) would wait in its queue forever."""

    @functools.wraps(handler)
    def run(self, ev):
        try:
            handler(self, ev)
        except Exception:
            log.exception("%s failed on %s; the controller goes on", handler.__name__, type(ev).__name__)

    return run


class OpenIspApp(app_manager.OSKenApp):
    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]

    def __init__(self, *args, core: ControllerCore, lock=None, clock=time.monotonic, background=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.core, self.clock, self.background = core, clock, background
        # Handlers, the ticker, HTTP actions and finished clearings call the core one at a
        # time; re-entrant, since a clearing that finishes at once calls back at once.
        self.lock = lock or threading.RLock()
        self.datapaths: dict[int, object] = {}
        self.reaper = Reaper()
        self.outbox = Outbox()  # what the core returned, sent outside its lock
        self.threads.append(hub.spawn(self._ticker))

    def _ticker(self) -> None:
        while self.is_active:
            hub.sleep(TICK_S)
            try:
                self.call("tick")
            except Exception:  # a failed round must not stop the next one
                log.exception("tick failed")

    def call(self, method: str, *args) -> None:
        """Call the core with the time, queue what it returns, start the clearing it asks for,
        then send what is queued (outside the core's lock)."""
        with self.lock:
            self.outbox.post(self.datapaths, getattr(self.core, method)(*args, now=self.clock()))
            if self.background is not None:
                request = self.core.clearing_request(now=self.clock())
                if request is not None:
                    self.background.submit(request, lambda r, plan, error: self.call("plan_ready", r, plan, error))
            retired = self.core.take_retired()
        self.outbox.flush()
        if retired:
            self.reaper.retire(retired)

    # --- handlers: read the event, call the core ---------------------------------
    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)
    @guarded
    def switch_features(self, ev):
        # The id comes from the reply itself: os-ken queues this event to the apps before its
        # own handler sets ``datapath.id``, so this handler may run while it is still None.
        dpid, dp = ev.msg.datapath_id, ev.msg.datapath
        if dp.id is None:
            dp.id = dpid  # what os-ken's handler is about to set
        self.datapaths[dpid] = dp
        self.call("connected", dpid)

    @set_ev_cls(ofp_event.EventOFPStateChange, DEAD_DISPATCHER)
    @guarded
    def state_change(self, ev):
        if ev.datapath.id is not None and self.datapaths.get(ev.datapath.id) is ev.datapath:
            del self.datapaths[ev.datapath.id]
            self.call("disconnected", ev.datapath.id)

    @set_ev_cls(ofp_event.EventOFPFlowStatsReply, MAIN_DISPATCHER)
    @guarded
    def flow_stats(self, ev):
        dp = ev.msg.datapath
        stats = [FlowStat(s.table_id, s.priority, tuple(sorted(s.match.items())), s.cookie, s.packet_count,
                          s.byte_count) for s in ev.msg.body]
        self.call("flow_stats", dp.id, stats, bool(ev.msg.flags & dp.ofproto.OFPMPF_REPLY_MORE))

    @set_ev_cls(ofp_event.EventOFPBarrierReply, MAIN_DISPATCHER)
    @guarded
    def barrier_reply(self, ev):
        token = self.outbox.barriers.pop((ev.msg.datapath.id, ev.msg.xid), None)
        if token is not None:
            self.call("barrier_reply", ev.msg.datapath.id, token)

    @set_ev_cls(ofp_event.EventOFPErrorMsg, [CONFIG_DISPATCHER, MAIN_DISPATCHER])
    @guarded
    def error_msg(self, ev):
        log.error("switch %s refused a message: type=%s code=%s", ev.msg.datapath.id, ev.msg.type, ev.msg.code)
        self.call("error", ev.msg.datapath.id, ev.msg.type, ev.msg.code)

    @set_ev_cls(ofp_event.EventOFPPortStatsReply, MAIN_DISPATCHER)
    @guarded
    def port_stats(self, ev):
        stats = [PortStat(p.port_no, p.rx_packets, p.tx_packets, p.rx_bytes, p.tx_bytes, p.rx_dropped, p.tx_dropped)
                 for p in ev.msg.body]
        self.call("port_stats", ev.msg.datapath.id, stats)

    @set_ev_cls(ofp_event.EventOFPMeterStatsReply, MAIN_DISPATCHER)
    @guarded
    def meter_stats(self, ev):
        stats = [MeterStat(m.meter_id, m.packet_in_count, m.byte_in_count, sum(b.packet_band_count for b in m.band_stats))
                 for m in ev.msg.body]
        self.call("meter_stats", ev.msg.datapath.id, stats)

    @set_ev_cls(ofp_event.EventOFPPortStatus, MAIN_DISPATCHER)
    @guarded
    def port_status(self, ev):
        msg, ofp = ev.msg, ev.msg.datapath.ofproto
        is_down = (msg.reason == ofp.OFPPR_DELETE or bool(msg.desc.state & ofp.OFPPS_LINK_DOWN)
                   or bool(msg.desc.config & ofp.OFPPC_PORT_DOWN))
        self.call("port_status", msg.datapath.id, msg.desc.port_no, is_down)

    @set_ev_cls(ofp_event.EventOFPPacketIn, MAIN_DISPATCHER)
    @guarded
    def packet_in(self, ev):
        request = packet.Packet(ev.msg.data).get_protocol(arp.arp)
        if request is not None:
            self.call("arp_request", ev.msg.datapath.id, ev.msg.match["in_port"], request.opcode, request.src_mac,
                      request.src_ip, request.dst_ip)
