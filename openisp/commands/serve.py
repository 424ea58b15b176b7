"""``openisp serve SCENARIO``: the open market without a network: the participants' API, and a clearing every epoch.

The scenario seeds the book; participants change it over HTTP (127.0.0.1), and
every ``market.epoch_s`` seconds the book is cleared (``clear_market``), settled
in the ledger and shown at ``/v1/clearing``: a participant can watch prices move
without Mininet or root.  The run directory keeps the tokens, the ledger and the
book, so a restart resumes after the last settled epoch with what participants left.
"""
from __future__ import annotations

import signal
import threading
import time
from decimal import Decimal
from pathlib import Path

from topologies.model import MECHANISMS

HELP = "serve the participants' API on 127.0.0.1 and clear the book every epoch (no OpenFlow, no root)"
DEFAULT_PORT = 8662


def add_arguments(parser) -> None:
    parser.add_argument("scenario", metavar="SCENARIO")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"API port on 127.0.0.1 (default {DEFAULT_PORT}; 0 for any free port)")
    parser.add_argument("--run-dir", metavar="DIR", help="where tokens, ledger and book are kept "
                                                         "(default: runs/<scenario name>-market)")
    parser.add_argument("--mechanism", choices=MECHANISMS, help="payment rule (default: the scenario's)")
    parser.add_argument("--epoch", type=float, metavar="S", help="seconds per epoch (default: market.epoch_s)")
    parser.add_argument("--epochs", type=int, metavar="N", help="stop after N epochs (default: until Ctrl-C)")


def describe_epoch(epoch: int, result, version: int) -> str:
    served = sum(1 for d in result.demands if d.allocated_kbps)
    paid = sum((p.pays for p in result.participants), Decimal(0))
    return (f"epoch {epoch}: {result.mechanism}, welfare {result.welfare}, {served}/{len(result.demands)} demands "
            f"served, customers pay {paid}, book version {version}")


def run(args) -> int:
    from controller.api import Exchange
    from controller.market import MarketError, clear_market
    from openisp.cli import CommandError
    from topologies.loader import load_scenario

    scenario = load_scenario(args.scenario)
    if args.epoch is not None and not 0 < args.epoch <= 86_400:
        raise CommandError(f"--epoch must be above 0 and at most 86400 seconds, got {args.epoch:g}")
    if not 0 <= args.port <= 65535:
        raise CommandError(f"--port must be 0-65535, got {args.port}")
    run_dir = Path(args.run_dir or Path("runs") / f"{scenario.name}-market")
    exchange = Exchange.open(args.scenario, run_dir)
    epoch_s = args.epoch or scenario.market.epoch_s
    stop = threading.Event()
    previous = _on_sigterm(stop)
    server = None
    try:
        server = exchange.serve(args.port)
        print(f"serve: {scenario.name}: API {server.url} (OpenAPI at {server.url}/openapi.json), "
              f"epoch {epoch_s:g} s, resuming after epoch {exchange.next_epoch() - 1}", flush=True)
        print(f"serve: tokens in {run_dir / 'tokens'} (root only), ledger {exchange.ledger.path}", flush=True)
        cleared = 0
        while not stop.is_set():
            started = time.monotonic()
            epoch = exchange.next_epoch()
            book = exchange.book.scenario_for_next_epoch()
            try:
                result = clear_market(book, args.mechanism)
            except MarketError as exc:  # a book the market cannot clear: say so, keep serving
                print(f"epoch {epoch}: not cleared: {exc}", flush=True)
                exchange.book.resume_after(epoch)
            else:
                exchange.record(epoch, book, result)
                print(describe_epoch(epoch, result, exchange.book.version), flush=True)
            cleared += 1
            if args.epochs is not None and cleared >= args.epochs:
                break
            stop.wait(max(0.0, epoch_s - (time.monotonic() - started)))
    except KeyboardInterrupt:
        pass
    finally:
        if server is not None:
            server.stop()
        exchange.close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    print("serve: stopped", flush=True)
    return 0


def _on_sigterm(stop: threading.Event):
    """SIGTERM stops the loop between epochs (only the main thread may set handlers)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, lambda *_: stop.set())
