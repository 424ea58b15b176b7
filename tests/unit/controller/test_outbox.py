"""The outbox sends the core's operations in the core's order, outside its lock, one
thread at a time; ARP answers jump ahead; nothing queued is left behind."""
from __future__ import annotations

import struct
import threading

from os_ken.ofproto import ofproto_parser

from controller import outbox
from controller.ops import AddFlow, DeleteFlow
from controller.ruleplan import ETH_TYPE_IP, FlowEntry, Output, match
from controller.fakeoftable import FakeDatapath
from controller.ops import Barrier, RequestStats, SendArp
from controller.outbox import Outbox
from controller.proxyarp import ArpReply

ANSWER = SendArp(1, ArpReply("00:00:00:00:00:02", "198.18.0.2", "00:00:00:00:00:01", "198.18.0.1"))


class Recording(FakeDatapath):
    """A datapath that records what it is sent; ``during_send`` runs inside a send."""

    def __init__(self, dpid: int, log: list, during_send=None):
        super().__init__(dpid)
        self.log, self.during_send = log, during_send
        self.bundles: list = []  # (type, bundle id, flags) of the bundle control messages
        self.flows: list = []    # the flow mods sent as bytes, parsed back
        self.writes = 0
        self.during_write = None  # runs inside a write of packed messages

    def send_msg(self, msg) -> None:
        if isinstance(msg, self.ofproto_parser.ONFBundleCtrlMsg):
            self.bundles.append((msg.type, msg.bundle_id, msg.flags))
        self.log.append((self.id, type(msg).__name__, msg.xid))
        self._hook()

    def send(self, buf: bytes) -> None:
        """Packed messages, many to a write: each parsed back with os-ken; a bundled one is
        logged as ``bundle:`` and its inner message's class."""
        self.writes += 1
        while buf:
            version, msg_type, length, xid = ofproto_parser.header(buf)
            msg = ofproto_parser.msg(self, version, msg_type, length, xid, buf[:length])
            name = type(msg).__name__
            if msg_type == self.ofproto.OFPT_EXPERIMENTER:
                bundle_id, flags = struct.unpack_from("!I2xH", msg.data)
                inner = msg.data[8:]
                assert ofproto_parser.header(inner)[3] == xid  # the inner xid is the outer one
                msg = ofproto_parser.msg(self, *ofproto_parser.header(inner), inner)
                name = f"bundle {bundle_id}:{type(msg).__name__}"
                assert flags == self.ofproto.ONF_BF_ATOMIC | self.ofproto.ONF_BF_ORDERED
            self.log.append((self.id, name, xid))
            self.flows.append(msg)
            buf = buf[length:]
        if self.during_write is not None:
            hook, self.during_write = self.during_write, None
            hook()

    def _hook(self) -> None:
        if self.during_send is not None:
            hook, self.during_send = self.during_send, None
            hook()


def names(log):
    return [(dpid, name) for dpid, name, _ in log]


def test_operations_go_in_the_core_order_and_barriers_keep_their_tokens():
    log: list = []
    dps = {1: Recording(1, log), 2: Recording(2, log)}
    box = Outbox()
    box.post(dps, {1: [RequestStats("flows"), Barrier(7)], 2: [Barrier(8)]})
    box.post(dps, {1: [RequestStats("ports")]})
    box.flush()
    assert names(log) == [(1, "OFPFlowStatsRequest"), (1, "OFPBarrierRequest"), (2, "OFPBarrierRequest"),
                          (1, "OFPPortStatsRequest")]
    barrier_xids = {(dpid, xid) for dpid, name, xid in log if name == "OFPBarrierRequest"}
    assert box.barriers == {(1, log[1][2]): 7, (2, log[2][2]): 8} and set(box.barriers) == barrier_xids
    assert not box.queue and not box.answers


def test_an_arp_answer_jumps_ahead_of_a_batch_being_sent():
    log: list = []
    box = Outbox()
    dps: dict = {}

    def answer_arrives():  # another event, while the batch is on its way
        box.post(dps, {1: [ANSWER]})
        box.flush()  # finds the sender busy: leaves the answer to it

    dps[1] = Recording(1, log, during_send=answer_arrives)
    box.post(dps, {1: [RequestStats("flows"), RequestStats("ports"), RequestStats("meters"), Barrier(3)]})
    box.flush()
    assert names(log) == [(1, "OFPFlowStatsRequest"), (1, "OFPPacketOut"), (1, "OFPPortStatsRequest"),
                          (1, "OFPMeterStatsRequest"), (1, "OFPBarrierRequest")]


def test_an_answer_in_a_batch_goes_first_and_the_rest_keeps_its_order():
    log: list = []
    dps = {1: Recording(1, log)}
    box = Outbox()
    box.post(dps, {1: [RequestStats("flows"), ANSWER, Barrier(1)]})
    box.flush()
    assert names(log) == [(1, "OFPPacketOut"), (1, "OFPFlowStatsRequest"), (1, "OFPBarrierRequest")]


def test_operations_for_a_switch_not_connected_are_dropped_and_a_reconnected_switch_gets_only_its_own():
    log: list = []
    old = Recording(1, log)
    box = Outbox()
    box.post({}, {1: [Barrier(1)]})  # not connected: nothing to send it on
    box.post({1: old}, {1: [Barrier(2)]})
    new = Recording(1, [])
    box.post({1: new}, {1: [Barrier(3)]})
    box.flush()
    assert names(log) == [(1, "OFPBarrierRequest")] and names(new.log) == [(1, "OFPBarrierRequest")]


def test_many_threads_posting_and_flushing_leave_nothing_behind_and_keep_each_thread_order():
    log: list = []
    dps = {1: Recording(1, log)}
    box = Outbox()
    core_lock = threading.Lock()
    tokens = iter(range(1, 100_000))

    def worker(n: int) -> None:
        for _ in range(200):
            with core_lock:  # the core's lock orders the posts, as the app's does
                box.post(dps, {1: [Barrier(next(tokens))]})
            box.flush()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(log) == 800 and not box.queue
    tokens_in_send_order = [box.barriers[(1, xid)] for _, _, xid in log]
    assert tokens_in_send_order == sorted(tokens_in_send_order)  # the order they were posted in


def test_what_is_posted_while_the_sender_lets_go_is_sent_by_it():
    """The window a lost wake-up hides in: the sender has emptied the queue and is letting
    go; another thread posts, finds the lock still held, and leaves."""
    log: list = []
    dps = {1: Recording(1, log)}
    box = Outbox()

    class LateLock:
        def __init__(self):
            self.inner, self.hook = threading.Lock(), None

        def acquire(self, blocking=True):
            return self.inner.acquire(blocking)

        def release(self):
            hook, self.hook = self.hook, None
            if hook is not None:
                hook()  # still held: this flush cannot send
            self.inner.release()

    box.sending = LateLock()

    def other_thread():
        box.post(dps, {1: [Barrier(2)]})
        box.flush()
        assert len(log) == 1  # it left its barrier to the sender

    box.sending.hook = other_thread
    box.post(dps, {1: [Barrier(1)]})
    box.flush()
    assert names(log) == [(1, "OFPBarrierRequest")] * 2 and not box.queue


def flows(n: int) -> list:
    return [AddFlow(FlowEntry(1, 100, match(eth_type=ETH_TYPE_IP, ipv4_dst=f"198.18.0.{i + 1}"), (Output(1),),
                              cookie=i + 1)) for i in range(n)]


def test_a_run_of_flow_mods_goes_packed_as_one_bundle_and_a_single_one_alone():
    log: list = []
    dps = {1: Recording(1, log)}
    box = Outbox()
    box.post(dps, {1: [*flows(3), Barrier(5), DeleteFlow(0, 100, match(eth_type=ETH_TYPE_IP)), Barrier(6)]})
    box.flush()
    dp = dps[1]
    assert names(log) == [(1, "ONFBundleCtrlMsg")] + [(1, "bundle 1:OFPFlowMod")] * 3 + [
        (1, "ONFBundleCtrlMsg"), (1, "OFPBarrierRequest"), (1, "OFPFlowMod"), (1, "OFPBarrierRequest")]
    flags = dp.ofproto.ONF_BF_ATOMIC | dp.ofproto.ONF_BF_ORDERED
    assert dp.bundles == [(dp.ofproto.ONF_BCT_OPEN_REQUEST, 1, flags), (dp.ofproto.ONF_BCT_COMMIT_REQUEST, 1, flags)]
    assert [m.cookie for m in dp.flows[:3]] == [1, 2, 3] and dp.flows[3].command == dp.ofproto.OFPFC_DELETE_STRICT
    xids = [xid for _, _, xid in log]
    assert xids == sorted(set(xids))  # each message its own xid, in the order sent
    assert box.barriers == {(1, log[5][2]): 5, (1, log[7][2]): 6}
    box.post(dps, {1: flows(2)})
    box.flush()
    assert names(log)[-3:] == [(1, "bundle 2:OFPFlowMod")] * 2 + [(1, "ONFBundleCtrlMsg")]  # the next bundle id


def test_packed_flow_mods_go_many_to_a_write_and_an_arp_answer_passes_between_writes(monkeypatch):
    monkeypatch.setattr(outbox, "CHUNK_BYTES", 400)  # a bundled flow mod here is 112 bytes: 4 to a write
    log: list = []
    box = Outbox()
    dps: dict = {}

    def answer_arrives():
        box.post(dps, {1: [ANSWER]})
        box.flush()

    dps[1] = Recording(1, log)
    dps[1].during_write = answer_arrives  # while the first write is on its way
    box.post(dps, {1: flows(10)})
    box.flush()
    assert names(log) == [(1, "ONFBundleCtrlMsg")] + [(1, "bundle 1:OFPFlowMod")] * 4 + [(1, "OFPPacketOut")] + [
        (1, "bundle 1:OFPFlowMod")] * 6 + [(1, "ONFBundleCtrlMsg")]
    assert dps[1].writes == 3
