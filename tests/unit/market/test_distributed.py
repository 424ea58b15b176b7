"""VCG's re-solves on a Dask cluster: two worker processes on loopback, the
payments of the market cleared in process (a small market: the cluster takes
a few seconds to start)."""
from __future__ import annotations

import json

import distributed
import pytest

from controller.market import MarketError, clear_market
from topologies.loader import load_scenario

from ..controller.tiny import promptly


def test_a_local_dask_cluster_pays_what_this_process_pays():
    s = load_scenario("topologies/default.yaml")
    here = clear_market(s, "vcg", options={"duality": False})
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        client.wait_for_workers(2, timeout=120)
        # A cluster that never answers must fail the test, not hang it (as one did under a mutant).
        def on_the_cluster():
            return clear_market(s, "vcg", options={"counterfactuals": "dask", "dask": client, "duality": False})

        there = promptly(on_the_cluster, seconds=120)
        workers = client.nthreads()  # address -> threads, asked of the scheduler now
    assert len(workers) == 2 and all(w.startswith("tcp://127.0.0.1:") for w in workers)
    assert json.dumps(there.to_json_dict()) == json.dumps(here.to_json_dict())


def test_the_dask_engine_wants_a_cluster():
    s = load_scenario("topologies/default.yaml")
    with pytest.raises(MarketError, match="needs options"):
        clear_market(s, "vcg", options={"counterfactuals": "dask"})
