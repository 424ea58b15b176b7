"""Start the os-ken controller for a scenario, in this process (blocking).

``openisp controller SCENARIO`` calls :func:`run_controller`.  os-ken >= 4
has no ``osken-manager``: options go through ``os_ken.cfg.CONF``, and the app
is instantiated by ``AppManager`` with the core as a keyword argument; the
default hub is native threads.
"""
from __future__ import annotations

import faulthandler
import logging
import os
import signal
import socket
import sys
import threading
import time

from topologies.loader import load_scenario

from .core import ControllerCore, Settings
from .errors import ControllerError
from .planner import make_planner
from .status import serve_status

DEFAULT_OFP_PORT = 6653
DEFAULT_STATUS_PORT = 8661
#: Python's switch interval in the controller (the default is 5 ms).
SWITCH_INTERVAL_S = 0.001


def serve_core(core: ControllerCore, ofp_port: int, host: str = "127.0.0.1", lock=None, background=None) -> None:
    """Run the os-ken app around ``core`` until the process is stopped; ``lock`` serialises
    every call into the core (the app's handlers, its ticker, the HTTP actions and finished
    clearings); ``background`` runs the clearings the core asks for in another process."""
    os.environ.setdefault("OSKEN_HUB_TYPE", "native")
    from os_ken import cfg
    from os_ken.base.app_manager import AppManager
    from os_ken.lib import hub

    cfg.CONF(args=[f"--ofp-listen-host={host}", f"--ofp-tcp-listen-port={ofp_port}"], project="os_ken")
    manager = AppManager.get_instance()
    manager.load_apps(["controller.app"])
    threads = manager.instantiate_apps(core=core, lock=lock or threading.RLock(), background=background,
                                       **manager.create_contexts())
    try:
        hub.joinall(threads)
    finally:
        manager.close()


def ensure_free(host: str, ports: dict[str, int]) -> None:
    """Raise :class:`ControllerError` when one of ``ports`` (option -> port; 0: any) cannot
    be listened on, as os-ken's listener and the HTTP servers bind (``SO_REUSEADDR``)."""
    for flag, port in ports.items():
        if not port:
            continue
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
                probe.listen()
            except OSError as exc:
                raise ControllerError(f"cannot listen on {host}:{port} ({flag}): {exc.strerror or exc}; "
                                      f"another controller may be running there, or choose another {flag}") from None


def serve_api(exchange, port: int, avoid: set[int], tries: int = 5):
    """The participants' API of ``exchange`` on 127.0.0.1:``port``; on any free port when 0,
    but none of ``avoid``: ports this controller has yet to listen on (os-ken's OpenFlow
    port), which the kernel would hand out, since they are free until then."""
    for _ in range(tries):
        api = exchange.serve(port)
        if port or api.port not in avoid:
            return api
        api.stop()
    raise ControllerError(f"the participants' API found no free port but {', '.join(map(str, sorted(avoid)))}")


def run_controller(scenario_path: str, ofp_port: int = DEFAULT_OFP_PORT, status_port: int = DEFAULT_STATUS_PORT,
                   host: str = "127.0.0.1", verbose: bool = False, planner: str = "market",
                   mechanism: str | None = None, epoch_s: float | None = None, stats_s: float = 5.0,
                   run_dir: str | None = None, api_port: int | None = None) -> None:
    """The controller in the foreground.  With ``run_dir``, the market runs as an exchange:
    participants act through the API on 127.0.0.1:``api_port`` (tokens in ``run_dir``), and
    every epoch is settled in the ledger there; a restart resumes from it."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    log = logging.getLogger("openisp.controller")
    # ``kill -USR1`` writes every thread's stack to stderr (the log): what a stuck controller waits on.
    try:
        faulthandler.register(signal.SIGUSR1, file=sys.__stderr__, all_threads=True)
    except (AttributeError, OSError, ValueError):  # no stderr with a file descriptor: no dumps,
        signal.signal(signal.SIGUSR1, signal.SIG_IGN)  # and the signal must not stop the controller
    # os-ken's listener dies quietly in its thread when its port is taken, leaving a
    # controller no switch can reach: refuse to start instead.
    ensure_free(host, {"--ofp-port": ofp_port, "--status-port": status_port, "--api-port": api_port or 0})
    scenario = load_scenario(scenario_path)
    # Clearings run in a worker process of their own, so OpenFlow never waits for the market.
    settings = Settings(epoch_s=scenario.market.epoch_s if epoch_s is None else epoch_s, stats_s=stats_s,
                        background=True)
    market, exchange, api = None, None, None
    if run_dir is not None and planner == "market":
        from .api.exchange import Exchange
        from .planner import ExchangeMarket

        exchange = Exchange.open(scenario_path, run_dir)
        market = ExchangeMarket(exchange)
    core = ControllerCore(scenario, make_planner(scenario, planner, mechanism), settings, now=time.monotonic(),
                          market=market)
    lock = threading.RLock()
    from .background import BackgroundClearing

    background = BackgroundClearing(planner, mechanism)

    def start_timeline(body: dict) -> dict:
        start = float(body["start"])
        with lock:
            core.start_timeline(start, now=time.monotonic())
        return {"timeline_start": start, "market_events": len(core.pending_events)}

    def clear_now(body: dict) -> dict:
        with lock:
            core.clear_now(now=time.monotonic())
            return {"epoch": core.epoch}

    # The status server takes its port before the API asks the kernel for any free one: the
    # kernel could hand the API the status port, free until then (a CI run saw it happen).
    server = serve_status(core.status, status_port, host, actions={"/timeline": start_timeline, "/epoch": clear_now},
                          metrics=core.metrics.exposition)
    import gc

    try:
        if exchange is not None:
            api = serve_api(exchange, api_port or 0, avoid={ofp_port})
            core.status.api_url = api.url
            log.info("participants' API on %s (tokens in %s/tokens), ledger %s/ledger.sqlite", api.url, run_dir,
                     run_dir)
        log.info("controller for %s: OpenFlow on %s:%d, status on http://%s:%d/status",
                 scenario.name, host, ofp_port, host, status_port)
        # A thread building the next epoch's rules (pure Python, a second and more on a large
        # market) gives way to the OpenFlow threads every millisecond instead of every five.
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        gc.freeze()  # what start-up made (modules, the scenario, the first plan) lives as long as the process
        serve_core(core, ofp_port, host, lock, background)
    finally:
        server.shutdown()
        background.close()
        if api is not None:
            api.stop()
