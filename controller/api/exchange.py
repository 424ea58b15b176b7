"""The exchange of a run: its book, its participants' tokens and its ledger, in one run directory.

What the controller (or ``openisp serve``) does each epoch::

    exchange = Exchange.open("topologies/default.yaml", "runs/default-market")
    server = exchange.serve(port=8662)          # the API on 127.0.0.1
    epoch = exchange.ledger.last_settled_epoch() + 1
    scenario = exchange.book.scenario_for_next_epoch()
    result = clear_market(scenario)             # or the controller's own clearing
    exchange.record(epoch, scenario, result)    # ledger first, then the API shows it

The run directory holds ``tokens`` (0600, written once), ``token-hashes.json``,
``ledger.sqlite`` and ``book.json``: the offers and demands as participants
left them, saved at each change, so a restarted exchange keeps them.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from controller.book import Book
from controller.errors import ControllerError
from controller.ledger import Ledger
from topologies.errors import ScenarioError
from topologies.yamlsource import read_yaml_file

from .auth import SCRYPT, Auth

__all__ = ["Exchange", "LEDGER_FILE", "BOOK_FILE"]

LEDGER_FILE = "ledger.sqlite"
BOOK_FILE = "book.json"


@dataclass
class Exchange:
    book: Book
    auth: Auth
    ledger: Ledger
    run_dir: Path

    @classmethod
    def open(cls, scenario_path: str | Path, run_dir: str | Path, scrypt: dict | None = None) -> "Exchange":
        """The exchange of ``run_dir`` (made at the first start), seeded from the scenario file.

        ``scrypt``: the tokens' hash cost, for a new run directory (default :data:`auth.SCRYPT`).
        """
        run_dir = Path(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        data, _ = read_yaml_file(scenario_path)
        saved = run_dir / BOOK_FILE
        save = lambda offers, demands: _save(saved, offers, demands)  # noqa: E731
        if saved.exists():
            try:
                items = json.loads(saved.read_text())
                book = Book({**data, "offers": items["offers"], "demands": items["demands"]}, str(scenario_path),
                            on_change=save)
            except (ValueError, KeyError, TypeError, ScenarioError) as exc:
                raise ControllerError(f"{saved} does not fit {scenario_path} ({exc}); remove it to start from "
                                      "the scenario's offers and demands") from None
        else:
            book = Book(data, str(scenario_path), on_change=save)
        auth = Auth.open(run_dir, [p.name for p in book.scenario.participants], scrypt or SCRYPT)
        ledger = Ledger(run_dir / LEDGER_FILE)
        book.resume_after(ledger.last_settled_epoch())
        return cls(book, auth, ledger, run_dir)

    def app(self, **kwargs):
        from .app import make_app

        return make_app(self.book, self.auth, self.ledger, **kwargs)

    def serve(self, port: int = 0, **kwargs):
        """Start the API on 127.0.0.1:``port`` in a thread; returns the running :class:`ApiServer`."""
        from .server import ApiServer

        return ApiServer(self.app(**kwargs), port).start()

    def next_epoch(self) -> int:
        """The epoch to clear next: after the last one the ledger settled (a restart resumes there)."""
        return max(self.ledger.last_settled_epoch() + 1, self.book.next_epoch)

    def record(self, epoch: int, scenario, result) -> bool:
        """Settle ``epoch`` in the ledger, then publish it to the API; False if it was settled before."""
        written = self.ledger.settle(epoch, result, scenario)
        self.book.publish(epoch, result)
        return written

    def close(self) -> None:
        self.ledger.close()


def _save(path: Path, offers: list[dict], demands: list[dict]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"offers": offers, "demands": demands}, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
