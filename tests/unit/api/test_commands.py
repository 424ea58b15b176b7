"""``openisp serve`` (book, API and clearing every epoch, no OpenFlow) and ``openisp ledger verify|invoices``."""
from __future__ import annotations

import argparse
import json
import socket
import sqlite3
import threading
import time

import httpx
import pytest

from openisp.commands import ledger as ledger_command
from openisp.commands import serve as serve_command

from .conftest import DEFAULT


def parse(module, argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)
    return parser.parse_args(argv)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except (httpx.HTTPError, OSError, KeyError, ValueError):
            pass
        time.sleep(0.05)
    raise AssertionError("timed out")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """``openisp serve`` for 4 epochs of 0.6 s; a participant bids between two of them."""
    run_dir, port = tmp_path_factory.mktemp("serve") / "run", free_port()
    args = parse(serve_command, [str(DEFAULT), "--port", str(port), "--run-dir", str(run_dir), "--epoch", "0.6",
                                 "--epochs", "4", "--mechanism", "lmp"])
    outcome = {}
    thread = threading.Thread(target=lambda: outcome.setdefault("code", serve_command.run(args)))
    thread.start()
    url = f"http://127.0.0.1:{port}"
    tokens = wait_for(lambda: dict(l.split("\t") for l in (run_dir / "tokens").read_text().splitlines()))
    client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {tokens['hana']}"}, timeout=10)
    first = wait_for(lambda: client.get("/v1/clearing").json()["epoch"])
    bid = client.post("/v1/demands", json={"id": "hana-cdn", "src": "h8", "dst": "cdn1", "max_rate": "2Mbps",
                                           "value_per_mbps": "5"})
    seen = wait_for(lambda: (c := client.get("/v1/clearing").json())["epoch"] > first + 1 and c)
    invoices = client.get("/v1/invoices").json()
    client.close()
    thread.join(30)
    assert not thread.is_alive()
    return {"code": outcome.get("code"), "run_dir": run_dir, "bid": bid, "clearing": seen, "invoices": invoices,
            "first": first}


def test_serve_clears_the_book_every_epoch_and_a_bid_counts_from_the_next(served):
    assert served["code"] == 0 and served["bid"].status_code == 201
    allocated = {d["id"]: d["allocated_kbps"] for d in served["clearing"]["demands"]}
    assert allocated["hana-cdn"] == 2000
    billed = [i for i in served["invoices"] if any(d["id"] == "hana-cdn" for d in i["demands"])]
    assert billed and all(i["participant"] == "hana" for i in served["invoices"])


def test_serve_settles_each_epoch_once_and_a_restart_resumes(served, capsys):
    db = str(served["run_dir"] / "ledger.sqlite")
    assert ledger_command.run(parse(ledger_command, ["verify", db])) == 0
    assert "ok: " in capsys.readouterr().out
    args = parse(serve_command, [str(DEFAULT), "--port", "0", "--run-dir", str(served["run_dir"]), "--epoch", "0.1",
                                 "--epochs", "1", "--mechanism", "lmp"])
    assert serve_command.run(args) == 0
    out = capsys.readouterr().out
    assert "resuming after epoch 4" in out and "epoch 5: lmp" in out
    assert ledger_command.run(parse(ledger_command, ["verify", db, "--json"])) == 0
    assert json.loads(capsys.readouterr().out)["epochs"] == [1, 2, 3, 4, 5]


def test_ledger_invoices_prints_one_participants_lines(served, capsys):
    db = str(served["run_dir"] / "ledger.sqlite")
    assert ledger_command.run(parse(ledger_command, ["invoices", db, "--participant", "hana"])) == 0
    out = capsys.readouterr().out
    assert "hana (customer)" in out and "demand hana-cdn: h8 -> cdn1, 2000 kbps" in out
    assert "ana (" not in out.replace("hana (", "")
    assert ledger_command.run(parse(ledger_command, ["invoices", db, "--epoch", "1", "--json"])) == 0
    assert {i["epoch"] for i in json.loads(capsys.readouterr().out)} == {1}
    assert ledger_command.run(parse(ledger_command, ["invoices", db, "--participant", "nobody"])) == 0
    assert "no invoices for nobody" in capsys.readouterr().out


def test_ledger_verify_names_the_tampered_row_and_fails(served, tmp_path, capsys):
    copy = tmp_path / "copy.sqlite"
    src = sqlite3.connect(str(served["run_dir"] / "ledger.sqlite"))
    dst = sqlite3.connect(str(copy))
    src.backup(dst)
    dst.execute("UPDATE rows SET data = replace(data, '\"pays\":\"0.', '\"pays\":\"9.') WHERE seq = "
                "(SELECT MIN(seq) FROM rows WHERE kind = 'participant' AND subject = 'ana')")
    dst.commit()
    for db in (src, dst):
        db.close()
    assert ledger_command.run(parse(ledger_command, ["verify", str(copy)])) == 1
    err = capsys.readouterr().err
    assert "participant ana): contents do not match its hash (edited)" in err and "BROKEN: 1 problem" in err


def test_serve_refuses_bad_arguments(tmp_path):
    from openisp.cli import CommandError

    with pytest.raises(CommandError, match="--epoch"):
        serve_command.run(parse(serve_command, [str(DEFAULT), "--epoch", "0", "--run-dir", str(tmp_path)]))
    with pytest.raises(CommandError, match="--port"):
        serve_command.run(parse(serve_command, [str(DEFAULT), "--port", "70000", "--run-dir", str(tmp_path)]))
