"""Tokens: made once, written 0600, kept only as salted scrypt hashes; the real scrypt cost."""
from __future__ import annotations

import json
import os
import stat

import pytest

from controller.api.auth import HASHES_FILE, SCRYPT, TOKENS_FILE, Auth, AuthError, hash_token

from .conftest import CHEAP

NAMES = ["ana", "atlas", "ben"]


def read_tokens(run_dir) -> dict[str, str]:
    return dict(line.split("\t") for line in (run_dir / TOKENS_FILE).read_text().splitlines())


def test_first_start_writes_tokens_once_for_root_only_and_keeps_hashes(tmp_path):
    run_dir = tmp_path / "run"
    auth = Auth.open(run_dir, NAMES, CHEAP)
    tokens = read_tokens(run_dir)
    assert sorted(tokens) == NAMES and all(t.startswith(f"{n}.") and len(t) > 40 for n, t in tokens.items())
    assert stat.S_IMODE(os.stat(run_dir / TOKENS_FILE).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(run_dir / HASHES_FILE).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(run_dir).st_mode) == 0o700
    stored = (run_dir / HASHES_FILE).read_text()
    assert not any(t in stored or t.split(".", 1)[1] in stored for t in tokens.values())  # no plaintext
    assert len({v["salt"] for v in json.loads(stored)["tokens"].values()}) == 3  # a salt each
    assert all(auth.identify(t) == n for n, t in tokens.items())
    assert auth.tokens_file == run_dir / TOKENS_FILE


def test_a_later_start_reads_the_hashes_and_only_new_participants_get_tokens(tmp_path):
    Auth.open(tmp_path, NAMES, CHEAP)
    first = (tmp_path / TOKENS_FILE).read_text()
    again = Auth.open(tmp_path, NAMES + ["zoe"], CHEAP)
    tokens = read_tokens(tmp_path)
    assert (tmp_path / TOKENS_FILE).read_text().startswith(first) and sorted(tokens) == NAMES + ["zoe"]
    assert all(again.identify(t) == n for n, t in tokens.items())


def test_a_crash_between_tokens_and_hashes_is_recovered(tmp_path):
    Auth.open(tmp_path, NAMES, CHEAP)
    (tmp_path / HASHES_FILE).unlink()
    tokens = read_tokens(tmp_path)
    auth = Auth.open(tmp_path, NAMES, CHEAP)
    assert all(auth.identify(t) == n for n, t in tokens.items()) and (tmp_path / HASHES_FILE).exists()


def test_damaged_hashes_are_an_error_not_a_new_set_of_tokens(tmp_path):
    Auth.open(tmp_path, NAMES, CHEAP)
    (tmp_path / HASHES_FILE).write_text("{")
    with pytest.raises(AuthError, match="damaged"):
        Auth.open(tmp_path, NAMES, CHEAP)


def test_wrong_tokens_are_nobody():
    auth = Auth.from_tokens({"ana": "ana.right", "ben": "ben.other"}, CHEAP)
    for token in (None, "", "ana", "ana.", "ana.wrong", "ben.right", "ana.right ", "ANA.right", "x" * 10_000,
                  "ana.right\x00", "\udcff"):
        assert auth.identify(token) is None, token
    assert auth.identify("ana.right") == "ana" and auth.is_verified("ana.right")
    assert hash_token("t", b"s" * 16, CHEAP) != hash_token("t\0", b"s" * 16, CHEAP)  # HMAC's zero padding
    assert not auth.is_verified("ben.other")


def test_the_real_scrypt_cost_is_the_default(tmp_path):
    auth = Auth.open(tmp_path, ["ana"], params=SCRYPT)
    assert json.loads((tmp_path / HASHES_FILE).read_text())["scrypt"] == {"n": 16384, "r": 8, "p": 1, "dklen": 32}
    assert auth.identify(read_tokens(tmp_path)["ana"]) == "ana"
