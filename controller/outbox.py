"""What the core returned, waiting to be sent: the shim's one place that sends.

The core's lock orders every call; what a call returns is queued under that lock
(:meth:`Outbox.post`), so the queue holds the switches' operations in the core's
order.  Sending (building and serialising the OpenFlow messages, and waiting for
the connection's send queue) happens afterwards, outside the lock
(:meth:`Outbox.flush`): an epoch moves thousands of flows, and serialising them
under the lock would make every event wait (measured: 12 ms of 23 for one switch of
the 1,000-demand market's 221 flow mods, idle; on a loaded machine an ARP answer
waited 162 ms).  ARP answers depend on no rule: they go ahead of everything
waiting, and between any two messages of a batch.
"""
from __future__ import annotations

import threading
from collections import deque

from . import ofmsgs
from .ops import Barrier, SendArp

__all__ = ["Outbox"]


class Outbox:
    def __init__(self):
        self.queue: deque = deque()    # (datapath, operations), in the core's order
        self.answers: deque = deque()  # (datapath, ARP answers): sent before anything else waiting
        self.sending = threading.Lock()  # held by the one thread sending
        self.barriers: dict[tuple[int, int], int] = {}  # (dpid, xid) -> the core's token

    def post(self, datapaths: dict, ops_by_dpid: dict) -> None:
        """Queue each switch's operations (call it under the core's lock).  They go to the
        connection open now: a switch that reconnects gets none of its old connection's."""
        for dpid, ops in ops_by_dpid.items():
            dp = datapaths.get(dpid)
            if dp is None or not ops:
                continue
            answers = [op for op in ops if isinstance(op, SendArp)]
            rest = [op for op in ops if not isinstance(op, SendArp)] if answers else ops
            if answers:
                self.answers.append((dp, answers))
            if rest:
                self.queue.append((dp, rest))

    def flush(self) -> None:
        """Send what is queued, in order, one thread at a time.  A thread that finds another
        sending leaves its operations to it: the sender looks again after letting go of the
        lock, so nothing is left behind."""
        while (self.answers or self.queue) and self.sending.acquire(blocking=False):
            try:
                while self.answers or self.queue:
                    self._send_answers()
                    if self.queue:
                        dp, ops = self.queue.popleft()
                        for op, msg in ofmsgs.to_messages(dp, ops):
                            self._send_answers()
                            self._send(dp, op, msg)
            finally:
                self.sending.release()

    def _send_answers(self) -> None:
        while self.answers:
            dp, ops = self.answers.popleft()
            for op, msg in ofmsgs.to_messages(dp, ops):
                self._send(dp, op, msg)

    def _send(self, dp, op, msg) -> None:
        dp.set_xid(msg)
        if isinstance(op, Barrier) and op.token is not None:
            self.barriers[(dp.id, msg.xid)] = op.token  # before it is sent: its reply may come at once
        dp.send_msg(msg)
