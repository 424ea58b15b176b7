"""VCG's re-solves on a Dask cluster, for markets that outgrow one machine.

``clear_market(s, "vcg", options={"counterfactuals": "dask", "dask": X})``
with ``X`` a ``distributed.Client`` or a scheduler's address
(``"tcp://10.0.0.5:8786"``) sends the same groups of participants that the
local pool would take (:func:`.counterfactual.groups`) to the cluster's
workers as tasks.  The optimum is scattered to every worker once; each
worker thread keeps its own copy of the LP for it (HiGHS models are not
shared between threads).  Every group starts from that optimum, so the
payments are the ones computed in process, to the byte.

Dask is imported only here, and only when this engine is chosen.
"""
from __future__ import annotations

import threading
from typing import Iterable

from .counterfactual import Counterfactuals, Engine, Optimum, groups
from .network import MarketError

_local = threading.local()


def _run_group(optimum: Optimum, names: list[str]) -> dict[str, tuple[float, bool]]:
    """On a worker: this thread's engine for ``optimum`` (built once), then the group."""
    cached = getattr(_local, "engine", None)
    if cached is None or cached[0] != optimum.token:
        cached = _local.engine = (optimum.token, Engine(optimum))
    return cached[1].welfare_without(names)


def on_dask(optimum: Optimum, client_or_address) -> Counterfactuals:
    """An optimiser whose re-solves run on the Dask cluster ``client_or_address``
    (a ``distributed.Client``, or a scheduler address to connect to)."""
    from distributed import Client

    if client_or_address is None:
        raise MarketError('the dask engine needs options["dask"]: a distributed.Client or a scheduler address')

    def run(names: Iterable[str]) -> dict[str, tuple[float, bool]]:
        own = not isinstance(client_or_address, Client)
        client = Client(client_or_address) if own else client_or_address
        try:
            shared = client.scatter(optimum, broadcast=True)
            futures = [client.submit(_run_group, shared, group, pure=False) for group in groups(names)]
            out: dict[str, tuple[float, bool]] = {}
            for result in client.gather(futures):
                out.update(result)
            return out
        finally:
            if own:
                client.close()
    return run
