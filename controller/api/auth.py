"""Participants' bearer tokens: made at the first start, kept only as salted scrypt hashes.

At the first start of a run directory every participant gets a random token
(``<participant>.<43 random characters>``: 256 bits).  The tokens are written
once, to ``tokens`` in the run directory, mode 0600 (root reads it and hands
each participant its line); the server keeps only ``token-hashes.json``, a
salted scrypt hash per participant.  A later start reads the hashes, and gives
tokens only to participants the scenario added since (appended to ``tokens``).

The participant's name in the token says which one hash to check, so a request
costs one scrypt at most; a token once verified is remembered by its SHA-256
for the life of the process (a 256-bit random token needs no slow hash against
guessing; scrypt protects the file of hashes, not the running process).

>>> auth = Auth.from_tokens({"ana": "ana.secret-1"})
>>> auth.identify("ana.secret-1"), auth.identify("ana.wrong"), auth.identify("bob.secret-1"), auth.identify("")
('ana', None, None, None)
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import threading
from pathlib import Path
from typing import Iterable, Mapping

from controller.errors import ControllerError

__all__ = ["Auth", "AuthError", "TOKENS_FILE", "HASHES_FILE", "hash_token", "new_token"]

TOKENS_FILE = "tokens"
HASHES_FILE = "token-hashes.json"
#: scrypt's cost: 16 MiB and about 0.05-0.1 s per hash here (the usual interactive setting).
SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1, "dklen": 32}
MAX_TOKEN_LENGTH = 200
#: ``<participant>.<secret>``: a name, a dot, URL-safe base64 (what :func:`new_token` makes).
TOKEN_SHAPE = re.compile(r"[A-Za-z][A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\Z")


class AuthError(ControllerError):
    """The tokens of a run directory cannot be made or read."""


def new_token(participant: str) -> str:
    return f"{participant}.{secrets.token_urlsafe(32)}"


def hash_token(token: str, salt: bytes, params: Mapping[str, int] = SCRYPT) -> bytes:
    """The salted scrypt hash of ``token``.

    scrypt's PBKDF2 pads an HMAC key with zero bytes, so ``t`` and ``t + "\\0"`` would hash
    alike: the token is hashed to a fixed length first.
    """
    return hashlib.scrypt(hashlib.sha256(token.encode(errors="surrogatepass")).digest(), salt=salt,
                          maxmem=64 * 2 ** 20, **params)


class Auth:
    """Who a bearer token belongs to: ``identify(token) -> participant name or None``."""

    def __init__(self, hashes: Mapping[str, tuple[bytes, bytes]], params: Mapping[str, int] = SCRYPT,
                 tokens_file: Path | None = None):
        self._hashes = dict(hashes)  # participant -> (salt, hash)
        self._params = dict(params)
        self._verified: dict[bytes, str] = {}  # sha256(token) -> participant
        self._lock = threading.Lock()
        self.tokens_file = tokens_file

    @property
    def participants(self) -> tuple[str, ...]:
        return tuple(sorted(self._hashes))

    @classmethod
    def from_tokens(cls, tokens: Mapping[str, str], params: Mapping[str, int] = SCRYPT) -> "Auth":
        """An in-memory Auth for known tokens (tests, and the recovery path of :meth:`open`)."""
        hashes = {}
        for name, token in tokens.items():
            salt = os.urandom(16)
            hashes[name] = (salt, hash_token(token, salt, params))
        return cls(hashes, params)

    @classmethod
    def open(cls, run_dir: str | Path, participants: Iterable[str], params: Mapping[str, int] = SCRYPT) -> "Auth":
        """The tokens of ``run_dir``: made at the first start, read at later ones.

        Order makes a crash harmless: tokens first (0600, fsync), hashes second
        (written whole, then renamed); a start that finds tokens but no hashes
        makes the hashes from the tokens.
        """
        run_dir = Path(run_dir)
        participants = list(participants)
        try:
            run_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            tokens_path, hashes_path = run_dir / TOKENS_FILE, run_dir / HASHES_FILE
            if hashes_path.exists():
                auth = cls._read(hashes_path, tokens_path)
            elif tokens_path.exists():
                auth = cls.from_tokens(_read_tokens(tokens_path), params)
                auth.tokens_file = tokens_path
            else:
                auth = cls({}, params, tokens_path)
            missing = [p for p in participants if p not in auth._hashes]
            if missing or not hashes_path.exists():
                fresh = {p: new_token(p) for p in missing}
                _append_tokens(tokens_path, fresh)
                auth._hashes.update(cls.from_tokens(fresh, auth._params)._hashes)
                auth._save(hashes_path)
            return auth
        except OSError as exc:
            raise AuthError(f"cannot keep the tokens in {run_dir}: {exc.strerror or exc}") from None

    @classmethod
    def _read(cls, hashes_path: Path, tokens_path: Path) -> "Auth":
        try:
            data = json.loads(hashes_path.read_text())
            hashes = {name: (bytes.fromhex(v["salt"]), bytes.fromhex(v["hash"])) for name, v in data["tokens"].items()}
            return cls(hashes, {k: int(v) for k, v in data["scrypt"].items()}, tokens_path)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise AuthError(f"{hashes_path} is damaged ({exc}); start with a new run directory") from None

    def _save(self, path: Path) -> None:
        data = {"scrypt": self._params,
                "tokens": {n: {"salt": s.hex(), "hash": h.hex()} for n, (s, h) in sorted(self._hashes.items())}}
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    def identify(self, token: str | None) -> str | None:
        """The participant whose token this is, or None (for a missing, malformed or wrong token)."""
        if not token or len(token) > MAX_TOKEN_LENGTH or not TOKEN_SHAPE.match(token):
            return None
        digest = hashlib.sha256(token.encode(errors="surrogatepass")).digest()
        with self._lock:
            known = self._verified.get(digest)
        if known is not None:
            return known
        name = token.split(".", 1)[0]
        salt, expected = self._hashes.get(name, (b"\0" * 16, b""))
        # A token of an unknown participant costs a hash too: timing does not tell names apart.
        actual = hash_token(token, salt, self._params)
        if not expected or not hmac.compare_digest(actual, expected):
            return None
        with self._lock:
            self._verified[digest] = name
        return name

    def is_verified(self, token: str) -> bool:
        """Whether ``token`` is already known good (a request with it costs no scrypt)."""
        digest = hashlib.sha256(token.encode(errors="surrogatepass")).digest()
        with self._lock:
            return digest in self._verified


def _append_tokens(path: Path, tokens: Mapping[str, str]) -> None:
    """Add ``name<TAB>token`` lines to the tokens file, readable by root only."""
    if not tokens and path.exists():
        return
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, "".join(f"{name}\t{token}\n" for name, token in sorted(tokens.items())).encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_tokens(path: Path) -> dict[str, str]:
    tokens = {}
    for line in path.read_text().splitlines():
        if "\t" in line:
            name, token = line.split("\t", 1)
            tokens[name] = token.strip()
    return tokens
