"""Clearings outside the controller's process, so OpenFlow never waits for the market.

Clearing a large market takes seconds of CPU (VCG on the 1,000-demand library
market: about ten), much of it in HiGHS, which holds Python's lock while it
solves: in the controller's own process, echo and barrier replies would wait
behind it.  One worker process (spawned, not forked: HiGHS keeps threads of its
own) is started with the controller and kept warm, at a lower priority than the
controller (``nice`` 10: on a machine whose cores the clearing fills, the OpenFlow
threads still get theirs when they need them); each clearing is sent to it with
the market as it is then.  Only the market's result comes back, pickled: it is
unpickled with the collector held off (a thousand demands' result makes enough
objects to start a full collection, 33 ms here).  The rules are built from it in
a thread of the controller, in pure Python, which gives way to the OpenFlow
threads every millisecond (the controller's switch interval); then the plan goes
to the core (:meth:`ControllerCore.plan_ready`).  The plan in force keeps
forwarding meanwhile.
"""
from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import queue
import threading
import time
from contextlib import contextmanager
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Callable

from .planner import EpochPlan, build_plan, clear_for, plan_from_result

__all__ = ["BackgroundClearing", "Reaper"]

#: The clearing worker's niceness: below the controller's (0).
WORKER_NICE = 10


@contextmanager
def quiet_collector():
    """Build a plan without stopping the world: Python's cyclic garbage collector, run by
    the hundreds of thousands of objects a large plan makes, would scan them all in full
    passes of a hundred milliseconds and more, holding every thread (measured: 125-170 ms
    each on the 1,000-demand market).  It is held off while the plan is built, and what
    was built is then frozen out of its sight: a plan is plain data without cycles, so
    reference counting frees it when the next plan replaces it."""
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def _nothing() -> None:
    return None


def _clear_pickled(market, mechanism, down) -> bytes:
    """The worker's task: a clearing, pickled here so that the controller unpickles it when
    it chooses (with the collector held off), not in the executor's own thread."""
    return pickle.dumps(clear_for(market, mechanism, down), protocol=pickle.HIGHEST_PROTOCOL)


def _watch_parent(parent: int) -> None:
    """The worker's start: clearings give way to the controller's OpenFlow threads, and the
    worker leaves as soon as the controller is gone, even killed outright (its queues do
    not tell a worker that its parent died)."""
    os.nice(WORKER_NICE)  # the market's own workers, started from here, inherit it

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _warm() -> bool:
    """The worker's first task: import the market and HiGHS before anyone waits for them."""
    import controller.market.clearing  # noqa: F401

    return True


class BackgroundClearing:
    """One spawned worker that clears markets: ``submit(request, done)`` calls
    ``done(request, plan or None, error)`` from the executor's thread when it is ready."""

    def __init__(self, plan: str = "market", mechanism: str | None = None):
        self.plan, self.mechanism = plan, mechanism
        self.executor = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                            initializer=_watch_parent, initargs=(os.getpid(),))
        self.executor.submit(_warm)

    def submit(self, request, done: Callable[[object, EpochPlan | None, str], None]) -> Future:
        if self.plan != "market":  # no market to clear: the rules are all there is
            future = self.executor.submit(_nothing)
        else:
            future = self.executor.submit(_clear_pickled, request.market, self.mechanism, request.down)

        def finished(f: Future) -> None:
            try:
                pickled = f.result()
                with quiet_collector():
                    result = pickle.loads(pickled) if pickled is not None else None
                    plan = (plan_from_result(request.market, result, request.epoch, request.down)
                            if self.plan == "market" else build_plan(request.market, self.plan, None, request.epoch,
                                                                    request.down))
                    plan.rules.for_switch(0)  # split by switch here, not while the core holds its lock
                error = ""
            except Exception as exc:  # the worker's error (a market that cannot clear) or its death
                plan, error = None, f"{type(exc).__name__}: {exc}"
            done(request, plan, error)

        future.add_done_callback(finished)
        return future

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


class Reaper:
    """Frees replaced plans a few hundred entries at a time, in a thread of its own.

    Dropping the last reference to a plan of 50,000 flows frees them all in one go,
    holding every thread for tens of milliseconds (measured: 73 ms on the
    1,000-demand market).  The reaper keeps the entries in a list, lets the plan go
    (which only drops references), then deletes the list in slices, yielding between.
    """

    SLICE = 500

    def __init__(self):
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._run, name="plan-reaper", daemon=True).start()

    def retire(self, plans) -> None:
        for plan in plans:
            self.queue.put(plan)

    def _run(self) -> None:
        while True:
            plan = self.queue.get()
            rules = plan.rules
            entries = [*rules.flows, *rules.groups, *rules.meters]
            del plan, rules  # the plan goes; its entries live on in the list
            while entries:
                del entries[-self.SLICE:]
                time.sleep(0.0005)
