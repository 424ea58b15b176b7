"""VCG's re-solves spread over worker processes on this machine.

A :class:`WorkerPool` is started before the market is solved, so the
workers import the solver while the parent solves; once the optimum is
known, it is written to a file that each worker reads once, and the
participants are handed out by groups (:func:`.counterfactual.groups`), in
order.  The parent takes groups too.  Every group starts from the same
optimum, so who computes what changes nothing in the result.

HiGHS runs threads of its own: workers are spawned, never forked.
"""
from __future__ import annotations

import multiprocessing
import os
import pickle
import tempfile
import threading
from concurrent.futures import ProcessPoolExecutor
from typing import Iterable

from .counterfactual import Counterfactuals, Engine, Optimum, groups

_cached: tuple[str, Engine] | None = None  # (the optimum's token, its engine) in a worker


def _warm() -> int:
    """A first task: the worker imports the solver (and says who it is)."""
    return os.getpid()


def _run_chunk(path: str, token: str, names: list[str]) -> dict[str, tuple[float, bool]]:
    """In a worker: the engine of the optimum in ``path`` (read once), then one group."""
    global _cached
    if _cached is None or _cached[0] != token:
        with open(path, "rb") as f:
            _cached = (token, Engine(pickle.load(f)))
    return _cached[1].welfare_without(names)


class WorkerPool:
    """``processes`` spawned workers; the parent computes alongside them."""

    def __init__(self, processes: int):
        self.executor = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"))
        self.processes = processes
        for _ in range(processes):
            self.executor.submit(_warm)

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)

    def optimiser(self, optimum: Optimum, work: dict[str, float] | None = None) -> Counterfactuals:
        """``work``: a guess of each participant's re-solve time; the groups that
        sum to the most go first, so that the processes finish together."""
        def run(names: Iterable[str]) -> dict[str, tuple[float, bool]]:
            names = list(names)
            chunks = sorted(groups(names), key=lambda g: -sum((work or {}).get(n, 1.0) for n in g))
            fd, path = tempfile.mkstemp(prefix="openisp-optimum-", suffix=".pickle")
            try:
                with os.fdopen(fd, "wb") as f:
                    pickle.dump(optimum, f, protocol=pickle.HIGHEST_PROTOCOL)
                return self._share(optimum, path, chunks)
            finally:
                os.unlink(path)
        return run

    def _share(self, optimum: Optimum, path: str, chunks: list[list[str]]) -> dict[str, tuple[float, bool]]:
        """Hand the chunks out in order to the workers and to this process, whichever is free."""
        lock, done = threading.Lock(), threading.Condition()
        queue = list(reversed(chunks))
        results: dict[str, tuple[float, bool]] = {}
        errors: list[BaseException] = []
        pending = [0]

        def take() -> list[str] | None:
            with lock:
                return queue.pop() if queue and not errors else None

        def submit(chunk: list[str] | None) -> None:
            if chunk is None:
                return
            try:
                self.executor.submit(_run_chunk, path, optimum.token, chunk).add_done_callback(finished)
            except Exception as exc:  # a broken pool: give up on this chunk, loudly
                with done:
                    errors.append(exc)
                    pending[0] -= 1
                    done.notify_all()

        def finished(future) -> None:
            chunk = take()  # the next one before this one counts as done: no moment with nothing pending
            with done:
                if future.exception() is not None:
                    errors.append(future.exception())
                else:
                    results.update(future.result())
                if chunk is None:
                    pending[0] -= 1
                done.notify_all()
            submit(chunk)

        for _ in range(self.processes):
            chunk = take()
            if chunk is not None:
                pending[0] += 1
                submit(chunk)
        engine = None
        while (chunk := take()) is not None:
            engine = engine or Engine(optimum)
            mine = engine.welfare_without(chunk)
            with done:
                results.update(mine)
        with done:
            done.wait_for(lambda: pending[0] == 0)
        if errors:
            raise errors[0]
        return results
