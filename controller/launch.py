"""Start the os-ken controller for a scenario, in this process (blocking).

``openisp controller SCENARIO`` calls :func:`run_controller`.  os-ken >= 4
has no ``osken-manager``: options go through ``os_ken.cfg.CONF`` and the app
is started with ``AppManager.run_apps``; the default hub is native threads.
"""
from __future__ import annotations

import logging
import os

from topologies.loader import load_scenario

from .shortest import planned_path, shortest_path_plan
from .status import ControllerStatus, serve_status

DEFAULT_OFP_PORT = 6653
DEFAULT_STATUS_PORT = 8661


def run_controller(scenario_path: str, ofp_port: int = DEFAULT_OFP_PORT, status_port: int = DEFAULT_STATUS_PORT,
                   host: str = "127.0.0.1", verbose: bool = False) -> None:
    os.environ.setdefault("OSKEN_HUB_TYPE", "native")
    from os_ken import cfg
    from os_ken.base.app_manager import AppManager

    from . import app

    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    scenario = load_scenario(scenario_path)
    paths = {d.id: list(planned_path(scenario, d.src, d.dst)) for d in scenario.demands}
    status = ControllerStatus({s.dpid: s.name for s in scenario.switches}, paths=paths)
    app.SETTINGS.update(scenario=scenario, plan=shortest_path_plan(scenario), status=status)
    server = serve_status(status, status_port, host)
    cfg.CONF(args=[f"--ofp-listen-host={host}", f"--ofp-tcp-listen-port={ofp_port}"], project="os_ken")
    logging.getLogger("openisp.controller").info(
        "controller for %s: OpenFlow on %s:%d, status on http://%s:%d/status",
        scenario.name, host, ofp_port, host, status_port)
    try:
        AppManager.run_apps(["controller.app"])
    finally:
        server.shutdown()
