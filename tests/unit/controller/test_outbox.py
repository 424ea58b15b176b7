"""The outbox sends the core's operations in the core's order, outside its lock, one
thread at a time; ARP answers jump ahead; nothing queued is left behind."""
from __future__ import annotations

import threading

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

    def send_msg(self, msg) -> None:
        self.log.append((self.id, type(msg).__name__, msg.xid))
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
