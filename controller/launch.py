"""Start the os-ken controller for a scenario, in this process (blocking).

``openisp controller SCENARIO`` calls :func:`run_controller`.  os-ken >= 4
has no ``osken-manager``: options go through ``os_ken.cfg.CONF`` and the app
is started with ``AppManager.run_apps``; the default hub is native threads.
"""
from __future__ import annotations

import logging
import os
from dataclasses import replace

from topologies.loader import load_scenario

from .shortest import planned_path, shortest_path_plan

PLANNERS = ("market", "shortest")


def build_plan(scenario, planner: str = "market", mechanism: str | None = None, epoch: int = 0,
               down: frozenset[str] = frozenset()):
    """The rule plan and, per demand, its paths and allocation for ``/status``.

    ``market`` clears the scenario's market and enforces its allocation;
    ``shortest`` is the skeleton's shortest-path forwarding, no market.
    Links in ``down`` are out of service: their offers are withdrawn for this
    clearing and best-effort routes avoid them.
    """
    if planner == "shortest":
        paths = {d.id: [list(planned_path(scenario, d.src, d.dst))] for d in scenario.demands}
        return shortest_path_plan(scenario), paths, {}
    from .market import clear_market
    from .marketplan import market_plan
    from .pathing import plan_paths

    if down:
        scenario = replace(scenario, offers=tuple(o for o in scenario.offers if o.link not in down))
    result = clear_market(scenario, mechanism)
    path_plan = plan_paths(scenario, result)
    paths = {d.demand_id: [list(p.switches) for p in d.paths] for d in result.demands}
    return market_plan(scenario, path_plan, epoch, down), paths, dict(path_plan.allocated_kbps)
from .status import ControllerStatus, serve_status

DEFAULT_OFP_PORT = 6653
DEFAULT_STATUS_PORT = 8661


def run_controller(scenario_path: str, ofp_port: int = DEFAULT_OFP_PORT, status_port: int = DEFAULT_STATUS_PORT,
                   host: str = "127.0.0.1", verbose: bool = False, planner: str = "market",
                   mechanism: str | None = None, epoch_s: float | None = None) -> None:
    os.environ.setdefault("OSKEN_HUB_TYPE", "native")
    from os_ken import cfg
    from os_ken.base.app_manager import AppManager

    from . import app

    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    scenario = load_scenario(scenario_path)
    plan, paths, allocated = build_plan(scenario, planner, mechanism)
    status = ControllerStatus({s.dpid: s.name for s in scenario.switches}, paths=paths, allocated=allocated)
    app.SETTINGS.update(scenario=scenario, plan=plan, status=status,
                        epoch_s=scenario.market.epoch_s if epoch_s is None else epoch_s,
                        replan=lambda epoch, down: build_plan(scenario, planner, mechanism, epoch, down))
    server = serve_status(status, status_port, host)
    cfg.CONF(args=[f"--ofp-listen-host={host}", f"--ofp-tcp-listen-port={ofp_port}"], project="os_ken")
    logging.getLogger("openisp.controller").info(
        "controller for %s: OpenFlow on %s:%d, status on http://%s:%d/status",
        scenario.name, host, ofp_port, host, status_port)
    try:
        AppManager.run_apps(["controller.app"])
    finally:
        server.shutdown()
