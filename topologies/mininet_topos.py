"""Mininet's ``--custom`` convention for openisp scenarios.

    mn --custom topologies/mininet_topos.py --topo openisp,file=topologies/default.yaml \\
       --controller remote,ip=127.0.0.1,port=6653 --link tc

builds the same network ``openisp run`` builds (same dpids, port numbers,
addresses and shaped links); start ``openisp controller SCENARIO`` first so
the switches have a controller to connect to.  Run it with the project's
``.venv/bin/mn`` (or a ``mn`` whose Python can import PyYAML).
"""
import os
import sys

# mn execs this file without __file__; run it from the project's root then.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(globals().get("__file__", "topologies/x")))))

from dataplane.topo import ScenarioTopo  # noqa: E402
from topologies.loader import load_scenario  # noqa: E402


def openisp_topo(file="topologies/default.yaml"):
    """The topology of the scenario in ``file``."""
    return ScenarioTopo(load_scenario(file))


topos = {"openisp": openisp_topo}
