"""The ledger: one transaction per epoch, at most once, hash-chained; verify names each tampered row."""
from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from controller.ledger import Ledger, LedgerError, verify
from controller.market.result import DemandAllocation, LinkAllocation, MarketResult, ParticipantSettlement, PathFlow
from topologies.loader import load_scenario

ROOT = Path(__file__).resolve().parents[3]
SCENARIO = load_scenario(ROOT / "topologies" / "default.yaml")
D = Decimal


def result(scale: int = 1) -> MarketResult:
    """A hand-made clearing of the default world: ana and gus buy, metro and atlas sell."""
    return MarketResult(
        mechanism="lmp", welfare=D("3.5") * scale,
        demands=(DemandAllocation("ana-dev", "h1", "h4", 3000, (PathFlow(("mn-lk",), ("mn1", "lk1"), 3000),),
                                  D("0.15") * scale),
                 DemandAllocation("gus-ana", "h7", "h1", 1000, (PathFlow(("vf-at", "at1"), ("vf1", "at-sjc"), 1000),),
                                  D("0.40") * scale)),
        links=(LinkAllocation("mn-lk", "metro", 3000, D("0.05")), LinkAllocation("at1", "atlas", 1000, D("0.2"))),
        participants=(ParticipantSettlement("ana", "customer", D("0.15") * scale, D(0)),
                      ParticipantSettlement("gus", "customer", D("0.40") * scale, D(0)),
                      ParticipantSettlement("metro", "last_mile", D(0), D("0.15") * scale),
                      ParticipantSettlement("atlas", "backbone", D(0), D("0.40") * scale)),
        budget_balance=D(0))


@pytest.fixture
def path(tmp_path) -> str:
    return str(tmp_path / "ledger.sqlite")


@pytest.fixture
def settled(path) -> str:
    """A ledger with three settled epochs: 9 rows each (the epoch, 4 participants, 2 demands, 2 links)."""
    with Ledger(path, clock=lambda: 1000.0) as ledger:
        for epoch in (1, 2, 3):
            assert ledger.settle(epoch, result(epoch), SCENARIO)
    return path


def sql(path: str, statement: str, *args) -> None:
    db = sqlite3.connect(path)
    db.execute(statement, args)
    db.commit()
    db.close()


def rows(path: str) -> list[tuple]:
    db = sqlite3.connect(path)
    out = db.execute("SELECT seq, epoch, kind, subject FROM rows ORDER BY seq").fetchall()
    db.close()
    return out


def test_settlement_is_one_block_per_epoch_and_verifies(settled):
    kinds = [k for _, e, k, _ in rows(settled) if e == 2]
    assert kinds == ["epoch"] + ["participant"] * 4 + ["demand"] * 2 + ["link"] * 2
    found = verify(settled)
    assert found.ok and found.rows == 27 and found.epochs == [1, 2, 3] and len(found.head) == 64


def test_sqlite_runs_in_wal_with_full_sync_and_the_file_is_private(path):
    ledger = Ledger(path)
    assert ledger._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert ledger._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    ledger.close()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_an_epoch_is_settled_at_most_once(settled):
    with Ledger(settled) as ledger:
        before = rows(settled)
        assert ledger.settle(3, result(99), SCENARIO) is False
        assert rows(settled) == before and ledger.last_settled_epoch() == 3
        assert ledger.settle(1, result(), SCENARIO) is False
        with pytest.raises(LedgerError, match="positive integer"):
            ledger.settle(0, result())
        sql(settled, "DELETE FROM rows WHERE epoch = 2")  # a gap: 2 is missing but before 3
    with Ledger(settled) as ledger:
        with pytest.raises(LedgerError, match="epoch 2 comes before the last settled epoch 3"):
            ledger.settle(2, result(), SCENARIO)


def test_settling_twice_is_refused_by_the_database_itself(settled):
    with pytest.raises(sqlite3.IntegrityError):
        sql(settled, "INSERT INTO rows (seq, epoch, kind, subject, party, data, prev_hash, hash) "
                     "VALUES (100, 3, 'epoch', '', '', '{}', '', '')")


def test_a_failure_inside_the_settlement_writes_nothing(path, monkeypatch):
    ledger = Ledger(path)
    ledger.settle(1, result(), SCENARIO)
    original = ledger._append

    def half_then_fail(epoch, new_rows):
        original(epoch, new_rows[:4])
        raise sqlite3.OperationalError("disk I/O error")
    monkeypatch.setattr(ledger, "_append", half_then_fail)
    with pytest.raises(LedgerError, match="settling epoch 2 failed"):
        ledger.settle(2, result(), SCENARIO)
    assert ledger.last_settled_epoch() == 1 and len(rows(path)) == 9 and verify(path).ok
    ledger.close()


def test_a_process_killed_in_the_middle_of_a_settlement_leaves_it_whole_or_absent(path):
    """SIGKILL after half the rows of epoch 2 are inserted: the restart resumes after epoch 1."""
    code = f"""
import os, signal, sys
sys.path.insert(0, {str(ROOT)!r})
sys.path.insert(0, {str(Path(__file__).parent)!r})
from test_ledger import result, SCENARIO
from controller.ledger import Ledger
ledger = Ledger({path!r})
ledger.settle(1, result(), SCENARIO)
original = ledger._append
def die(epoch, rows):
    original(epoch, rows[:5])
    os.kill(os.getpid(), signal.SIGKILL)
ledger._append = die
ledger.settle(2, result(), SCENARIO)
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == -signal.SIGKILL, done.stderr
    with Ledger(path) as ledger:
        assert ledger.last_settled_epoch() == 1
        assert ledger.settle(2, result(), SCENARIO)
    assert verify(path).ok and verify(path).epochs == [1, 2]


def test_invoices_carry_each_participants_own_lines(settled):
    with Ledger(settled, readonly=True) as ledger:
        ana = ledger.invoices("ana")
        assert [i.epoch for i in ana] == [1, 2, 3] and all(i.participant == "ana" for i in ana)
        assert ana[1].pays == D("0.30") and ana[1].net == D("-0.30")
        assert [d["id"] for d in ana[0].demands] == ["ana-dev"] and ana[0].links == ()
        metro = ledger.invoices("metro", epoch=2)
        assert len(metro) == 1 and metro[0].receives == D("0.30")
        assert metro[0].links == ({"id": "mn-lk", "allocated_kbps": 3000, "price_per_mbps": "0.05"},)
        everyone = ledger.invoices(epoch=1)
        assert {i.participant for i in everyone} == {"ana", "gus", "metro", "atlas"}
        assert ledger.invoices("nobody") == []


def test_usage_is_recorded_next_to_the_allocation_once(settled):
    with Ledger(settled) as ledger:
        assert ledger.record_usage(2, {"ana-dev": 2900}) == 1
        assert ledger.record_usage(2, {"ana-dev": 3100, "gus-ana": 990}) == 1  # ana-dev's was recorded
        with pytest.raises(LedgerError, match="not settled"):
            ledger.record_usage(7, {"ana-dev": 1})
        with pytest.raises(LedgerError, match="no demand 'nope'"):
            ledger.record_usage(2, {"nope": 1})
        usage = ledger.invoices("ana", epoch=2)[0].usage
        assert usage == ({"id": "ana-dev", "of": "demand", "measured_kbps": 2900, "allocated_kbps": 3000},)
        assert ledger.record_usage(2, {"mn-lk": 2950}, kind="link") == 1  # its own kind: not taken by a demand's
        assert ledger.invoices("metro", epoch=2)[0].usage[0]["measured_kbps"] == 2950
        with pytest.raises(LedgerError, match="per demand or per link"):
            ledger.record_usage(2, {"ana": 1}, kind="participant")
        ledger.settle(4, result(), SCENARIO)
    assert verify(settled).ok


# --- tampering: each edit, removal and swap is found, and the row is named ------------------------

def problems(path: str) -> list[str]:
    found = verify(path)
    assert not found.ok
    return found.problems


def test_an_edited_amount_is_found(settled):
    sql(settled, "UPDATE rows SET data = replace(data, '0.30', '0.01') WHERE seq = 11")
    assert any(p.startswith("row 11 (epoch 2, participant ana)") and "edited" in p for p in problems(settled))


@pytest.mark.parametrize("column, value", [("party", "ben"), ("subject", "ben"), ("epoch", 9), ("kind", "link"),
                                           ("prev_hash", "0" * 64), ("hash", "f" * 64)])
def test_every_column_is_covered(settled, column, value):
    sql(settled, f"UPDATE rows SET {column} = ? WHERE seq = 14", value)
    assert any("row 14" in p or "row 15" in p for p in problems(settled))


def test_a_removed_row_is_found(settled):
    sql(settled, "DELETE FROM rows WHERE seq = 13")
    found = problems(settled)
    assert "rows 13-13 are missing (removed)" in found
    assert any(p.startswith("row 14") and "does not follow row 13" in p for p in found)


def test_rows_removed_from_the_end_are_found(settled):
    sql(settled, "DELETE FROM rows WHERE epoch = 3")
    assert any("the head says row 27" in p for p in problems(settled))
    sql(settled, "DELETE FROM head")
    assert "the head row is missing (removed)" in problems(settled)


def test_swapped_rows_are_found(settled):
    """Two rows trade places, each keeping its own hashes: both are named."""
    sql(settled, "UPDATE rows SET seq = -1 WHERE seq = 5")
    sql(settled, "UPDATE rows SET seq = 5 WHERE seq = 6")
    sql(settled, "UPDATE rows SET seq = 6 WHERE seq = -1")
    found = problems(settled)
    assert any(p.startswith("row 5") and "row 6" in p for p in found), found
    assert any(p.startswith("row 6") for p in found), found


def test_swapped_contents_are_found(settled):
    db = sqlite3.connect(settled)
    a = db.execute("SELECT subject, party, data FROM rows WHERE seq = 2").fetchone()
    b = db.execute("SELECT subject, party, data FROM rows WHERE seq = 3").fetchone()
    db.execute("UPDATE rows SET subject = ?, party = ?, data = ? WHERE seq = 2", b)
    db.execute("UPDATE rows SET subject = ?, party = ?, data = ? WHERE seq = 3", a)
    db.commit()
    db.close()
    found = problems(settled)
    assert any(p.startswith("row 2 ") for p in found) and any(p.startswith("row 3 ") for p in found)


def test_a_row_inserted_into_an_epoch_is_found(settled):
    sql(settled, "INSERT INTO rows (seq, epoch, kind, subject, party, data, prev_hash, hash) "
                 "VALUES (28, 3, 'participant', 'eve', 'eve', '{}', '', '')")
    assert any(p.startswith("row 28") for p in problems(settled))


def test_verify_refuses_what_is_no_ledger(tmp_path):
    with pytest.raises(LedgerError, match="no ledger at"):
        verify(tmp_path / "missing.sqlite")
    (tmp_path / "junk.sqlite").write_text("not a database" * 100)
    with pytest.raises(LedgerError, match="cannot read ledger"):
        verify(tmp_path / "junk.sqlite")


def test_a_demand_and_a_link_of_one_id_each_get_their_usage(path):
    same = MarketResult("lmp", D(1), (DemandAllocation("x", "h1", "h2", 10, ()),),
                        (LinkAllocation("x", "metro", 10, D(0)),), (), D(0))
    with Ledger(path) as ledger:
        ledger.settle(1, same)
        assert ledger.record_usage(1, {"x": 9}) == 1 and ledger.record_usage(1, {"x": 8}, kind="link") == 1
        assert [u["of"] for u in ledger.invoices("metro")[0].usage] == ["link"]
