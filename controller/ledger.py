"""Who paid whom: an append-only, hash-chained ledger of settlements in SQLite.

One table holds every row, in one chain: row ``n`` carries the SHA-256 of row
``n - 1`` and its own hash covers its position, its contents and that previous
hash, so a row edited, removed or moved breaks the chain at that row, and
:func:`verify` names it.  A ``head`` row kept in the same transaction holds the
last position and hash, so rows cut off the end are found too.  (Whoever can
rewrite the whole file can rewrite the whole chain: publish the head hash that
``verify`` prints, or keep it elsewhere, to anchor it.)

Each epoch's settlement is one transaction: an ``epoch`` row (mechanism, welfare,
totals, how many lines follow), then per participant what it pays and receives,
per demand its allocation and payment, per link its allocation and price.  A
unique index allows one settlement per epoch, so a controller restarted in the
middle of one writes it whole or not at all, and never twice; it resumes from
:meth:`Ledger.last_settled_epoch`.  Measured usage comes later, as ``usage``
rows next to the allocation (:meth:`Ledger.record_usage`).  The database runs in
WAL mode with ``synchronous=FULL``: a settlement that returned is on disk.

>>> import tempfile, os
>>> from controller.market.result import MarketResult, ParticipantSettlement
>>> path = os.path.join(tempfile.mkdtemp(), "ledger.sqlite")
>>> ana = ParticipantSettlement("ana", "customer", Decimal(1), Decimal(0))
>>> result = MarketResult("lmp", Decimal(1), (), (), (ana,), Decimal(0))
>>> with Ledger(path) as ledger:
...     ledger.settle(1, result), ledger.settle(1, result), ledger.last_settled_epoch()
(True, False, 1)
>>> verify(path).ok
True
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Mapping

from controller.errors import ControllerError

__all__ = ["Ledger", "LedgerError", "Invoice", "Verification", "verify", "GENESIS", "KINDS"]

GENESIS = "0" * 64
KINDS = ("epoch", "participant", "demand", "link", "usage")
SCHEMA = """
CREATE TABLE IF NOT EXISTS rows (
    seq       INTEGER PRIMARY KEY,   -- position in the chain: 1, 2, 3, ... with no gaps
    epoch     INTEGER NOT NULL,
    kind      TEXT NOT NULL CHECK (kind IN ('epoch', 'participant', 'demand', 'link', 'usage')),
    subject   TEXT NOT NULL,         -- participant name, demand id or link id ('' for the epoch row)
    party     TEXT NOT NULL,         -- whose invoice the row is on: the participant, buyer or owner
    data      TEXT NOT NULL,         -- canonical JSON; money as decimal strings, rates in kbps
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS one_settlement_per_epoch ON rows (epoch) WHERE kind = 'epoch';
CREATE UNIQUE INDEX IF NOT EXISTS one_usage_per_subject ON rows (epoch, subject, json_extract(data, '$.of'))
    WHERE kind = 'usage';
CREATE INDEX IF NOT EXISTS rows_by_party ON rows (party, epoch);
CREATE TABLE IF NOT EXISTS head (one INTEGER PRIMARY KEY CHECK (one = 1), seq INTEGER NOT NULL, hash TEXT NOT NULL);
"""


class LedgerError(ControllerError):
    """The ledger cannot be opened, or refuses a write that would break its rules."""


def _connect(target: str, uri: bool = False) -> sqlite3.Connection:
    try:
        return sqlite3.connect(target, uri=uri, isolation_level=None, check_same_thread=False, timeout=30)
    except sqlite3.DatabaseError as exc:
        raise LedgerError(f"cannot open ledger {target}: {exc}") from None


def _readonly_uri(path: str | Path) -> str:
    return Path(path).absolute().as_uri() + "?mode=ro"


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def row_hash(seq: int, epoch: int, kind: str, subject: str, party: str, data: str, prev_hash: str) -> str:
    """The SHA-256 a row carries: over its position, its fields and the previous row's hash."""
    return hashlib.sha256(_canonical([seq, epoch, kind, subject, party, data, prev_hash]).encode()).hexdigest()


@dataclass(frozen=True)
class Invoice:
    """One participant's settlement of one epoch: totals and the lines behind them."""

    epoch: int
    participant: str
    role: str
    pays: Decimal
    receives: Decimal
    demands: tuple[dict, ...] = ()
    links: tuple[dict, ...] = ()
    usage: tuple[dict, ...] = ()

    @property
    def net(self) -> Decimal:
        """Received minus paid: what the participant earned this epoch."""
        return self.receives - self.pays

    def to_json_dict(self) -> dict:
        return {"epoch": self.epoch, "participant": self.participant, "role": self.role, "pays": str(self.pays),
                "receives": str(self.receives), "net": str(self.net), "demands": list(self.demands),
                "links": list(self.links), "usage": list(self.usage)}


class Ledger:
    """A ledger file, opened for settling and reading (thread-safe; one connection)."""

    def __init__(self, path: str | Path, clock=time.time, readonly: bool = False):
        self.path = str(path)
        self._clock = clock
        self._lock = threading.Lock()
        if readonly:
            if not os.path.isfile(self.path):
                raise LedgerError(f"no ledger at {self.path}")
            self._db = _connect(_readonly_uri(self.path), uri=True)
            return
        if not os.path.exists(self.path):
            try:  # invoices are private: the file (and SQLite's -wal and -shm beside it) readable by root only
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            except FileExistsError:
                pass
            except OSError as exc:
                raise LedgerError(f"cannot create ledger {self.path}: {exc.strerror}") from None
        self._db = _connect(self.path)
        try:
            mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise LedgerError(f"cannot open ledger {self.path}: {exc}") from None
        if mode.lower() != "wal":
            raise LedgerError(f"ledger {self.path}: SQLite refused WAL mode (got {mode})")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------------------
    def last_settled_epoch(self) -> int:
        """The last epoch settled, 0 when none: a restarted controller resumes after it."""
        with self._lock:
            return self._db.execute("SELECT COALESCE(MAX(epoch), 0) FROM rows WHERE kind = 'epoch'").fetchone()[0]

    def settle(self, epoch: int, result, scenario=None) -> bool:
        """Write the settlement of ``epoch`` from a ``MarketResult``, in one transaction.

        ``scenario`` (the one cleared) names each demand's buyer; without it a demand's
        line goes on no participant's invoice.  Returns False, writing nothing, when
        ``epoch`` is already settled; an epoch before the last settled one is an error.
        """
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 1:
            raise LedgerError(f"an epoch is a positive integer, got {epoch!r}")
        buyers = {d.id: d.buyer for d in scenario.demands} if scenario is not None else {}
        participants = [("participant", p.name, p.name, {"role": p.role, "pays": str(p.pays),
                                                         "receives": str(p.receives)}) for p in result.participants]
        demands = [("demand", d.demand_id, buyers.get(d.demand_id, ""),
                    {"src": d.src, "dst": d.dst, "allocated_kbps": d.allocated_kbps, "pays": str(d.pays),
                     "paths": [{"links": list(p.links), "kbps": p.kbps} for p in d.paths]}) for d in result.demands]
        links = [("link", l.link_id, l.owner, {"allocated_kbps": l.allocated_kbps,
                                                "price_per_mbps": str(l.price_per_mbps)}) for l in result.links]
        lines = participants + demands + links
        summary = {"mechanism": result.mechanism, "welfare": str(result.welfare),
                   "budget_balance": str(result.budget_balance), "lines": len(lines),
                   "total_pays": str(sum((p.pays for p in result.participants), Decimal(0))),
                   "total_receives": str(sum((p.receives for p in result.participants), Decimal(0))),
                   "scenario": scenario.name if scenario is not None else "", "settled_at": self._clock()}
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                last = self._db.execute("SELECT COALESCE(MAX(epoch), 0) FROM rows WHERE kind = 'epoch'").fetchone()[0]
                if epoch <= last:
                    self._db.execute("ROLLBACK")
                    if self._db.execute("SELECT 1 FROM rows WHERE kind = 'epoch' AND epoch = ?", (epoch,)).fetchone():
                        return False
                    raise LedgerError(f"epoch {epoch} comes before the last settled epoch {last}")
                self._append(epoch, [("epoch", "", "", summary)] + lines)
                self._db.execute("COMMIT")
            except sqlite3.IntegrityError:  # another process settled it between our read and write
                self._rollback()
                return False
            except sqlite3.DatabaseError as exc:
                self._rollback()
                raise LedgerError(f"ledger {self.path}: settling epoch {epoch} failed: {exc}") from None
        return True

    def record_usage(self, epoch: int, measured_kbps: Mapping[str, int], kind: str = "demand") -> int:
        """Record what was measured in a settled epoch, per demand (or link) id, next to its allocation.

        One transaction; a subject's usage is recorded once per epoch (repeats are skipped).
        Returns how many rows were written.
        """
        if kind not in ("demand", "link"):
            raise LedgerError(f"usage is measured per demand or per link, not per {kind!r}")
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                allocated = {s: (p, json.loads(d)) for s, p, d in self._db.execute(
                    "SELECT subject, party, data FROM rows WHERE epoch = ? AND kind = ?", (epoch, kind))}
                if not self._db.execute("SELECT 1 FROM rows WHERE kind = 'epoch' AND epoch = ?", (epoch,)).fetchone():
                    raise LedgerError(f"epoch {epoch} is not settled: usage goes next to a settlement")
                done = {s for (s,) in self._db.execute(
                    "SELECT subject FROM rows WHERE epoch = ? AND kind = 'usage' AND json_extract(data, '$.of') = ?",
                    (epoch, kind))}
                rows = []
                for subject, kbps in sorted(measured_kbps.items()):
                    if subject not in allocated:
                        raise LedgerError(f"epoch {epoch} has no {kind} {subject!r}")
                    if subject not in done:
                        party, data = allocated[subject]
                        rows.append(("usage", subject, party, {"of": kind, "measured_kbps": int(kbps),
                                                               "allocated_kbps": data["allocated_kbps"]}))
                self._append(epoch, rows)
                self._db.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
        return len(rows)

    def _append(self, epoch: int, rows: list[tuple[str, str, str, dict]]) -> None:
        head = self._db.execute("SELECT seq, hash FROM head WHERE one = 1").fetchone() or (0, GENESIS)
        seq, prev = head
        for kind, subject, party, data in rows:
            seq += 1
            text = _canonical(data)
            digest = row_hash(seq, epoch, kind, subject, party, text, prev)
            self._db.execute("INSERT INTO rows (seq, epoch, kind, subject, party, data, prev_hash, hash) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (seq, epoch, kind, subject, party, text, prev, digest))
            prev = digest
        self._db.execute("INSERT INTO head (one, seq, hash) VALUES (1, ?, ?) "
                         "ON CONFLICT (one) DO UPDATE SET seq = excluded.seq, hash = excluded.hash", (seq, prev))

    def _rollback(self) -> None:
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    # -- reading ---------------------------------------------------------------------------------
    def invoices(self, participant: str | None = None, epoch: int | None = None) -> list[Invoice]:
        """Invoices by epoch, then participant; only ``participant``'s when it is given."""
        query = "SELECT epoch, kind, subject, party, data FROM rows WHERE kind != 'epoch'"
        args: list = []
        if participant is not None:
            query += " AND party = ?"
            args.append(participant)
        if epoch is not None:
            query += " AND epoch = ?"
            args.append(epoch)
        try:
            with self._lock:
                rows = self._db.execute(query + " ORDER BY seq", args).fetchall()
        except sqlite3.DatabaseError as exc:
            raise LedgerError(f"cannot read ledger {self.path}: {exc}") from None
        lines: dict[tuple[int, str], dict] = {}
        for ep, kind, subject, party, data in rows:
            if not party:
                continue
            entry = lines.setdefault((ep, party), {"role": "", "pays": "0", "receives": "0", "demand": [],
                                                   "link": [], "usage": []})
            values = json.loads(data)
            if kind == "participant":
                entry.update(role=values["role"], pays=values["pays"], receives=values["receives"])
            else:
                entry[kind].append({"id": subject, **values})
        return [Invoice(ep, party, e["role"], Decimal(e["pays"]), Decimal(e["receives"]), tuple(e["demand"]),
                        tuple(e["link"]), tuple(e["usage"])) for (ep, party), e in sorted(lines.items())]


@dataclass
class Verification:
    """What :func:`verify` found: ``problems`` is empty when the chain is whole."""

    rows: int = 0
    epochs: list[int] = field(default_factory=list)
    head: str = GENESIS
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(path: str | Path) -> Verification:
    """Walk the chain of the ledger at ``path`` (read-only) and name every row that breaks it."""
    if not os.path.isfile(path):
        raise LedgerError(f"no ledger at {path}")
    try:
        db = _connect(_readonly_uri(path), uri=True)
        try:
            rows = db.execute("SELECT seq, epoch, kind, subject, party, data, prev_hash, hash FROM rows "
                              "ORDER BY seq").fetchall()
            head = db.execute("SELECT seq, hash FROM head WHERE one = 1").fetchone()
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise LedgerError(f"cannot read ledger {path}: {exc}") from None
    return _walk(rows, head)


def _walk(rows: list[tuple], head: tuple | None) -> Verification:
    out = Verification(rows=len(rows))
    problems = out.problems
    position = {h: seq for seq, *_, h in rows}
    prev_hash, expected, block = GENESIS, 1, None  # block: [epoch, lines promised, lines seen, first seq]
    for seq, epoch, kind, subject, party, data, prev, digest in rows:
        name = f"row {seq} (epoch {epoch}, {kind}{' ' + subject if subject else ''})"
        if seq != expected:
            problems.append(f"rows {expected}-{seq - 1} are missing (removed)" if seq > expected
                            else f"{name}: out of order")
        chained = prev == prev_hash
        if not chained:
            where = position.get(prev)
            where = None if where == seq else where
            problems.append(f"{name}: chained after row {where}, not row {seq - 1} (moved)" if where is not None
                            else f"{name}: does not follow row {seq - 1} (a row before it was removed, moved "
                                 "or edited)")
        if row_hash(seq, epoch, kind, subject, party, data, prev) != digest:
            problems.append(f"{name}: contents do not match its hash ({'edited' if chained else 'edited or moved'})")
        if kind == "epoch":
            _close(block, problems)
            try:
                promised = json.loads(data).get("lines")
            except (ValueError, AttributeError, TypeError):
                promised = None
            block = [epoch, promised, 0, seq]
            out.epochs.append(epoch)
        elif kind != "usage" and block is not None:
            block[2] += 1
            if epoch != block[0]:
                problems.append(f"{name}: inside the settlement of epoch {block[0]}")
        prev_hash, expected = digest, seq + 1
    _close(block, problems)
    if head is None:
        if rows:
            problems.append("the head row is missing (removed)")
    else:
        out.head = head[1]
        if head[0] != expected - 1 or head[1] != prev_hash:
            problems.append(f"the chain ends at row {expected - 1}, but the head says row {head[0]}: "
                            f"rows were removed from the end, or added outside the ledger")
    if len(set(out.epochs)) != len(out.epochs):
        problems.append("an epoch is settled twice")
    return out


def _close(block: list | None, problems: list[str]) -> None:
    if block is not None and block[1] != block[2]:
        problems.append(f"epoch {block[0]} (row {block[3]}) promises {block[1]} lines, and {block[2]} follow it")
