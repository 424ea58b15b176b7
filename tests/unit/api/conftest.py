"""A market behind the participants' API, served by uvicorn on a free loopback port."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from controller.api import ApiServer, Auth, RateLimiter, make_app
from controller.book import Book
from controller.ledger import Ledger

ROOT = Path(__file__).resolve().parents[3]
DEFAULT = ROOT / "topologies" / "default.yaml"
#: scrypt made cheap for tests (the real cost is tested once, in test_auth.py).
CHEAP = {"n": 2 ** 4, "r": 8, "p": 1, "dklen": 32}


def pytest_configure(config):
    """``-m "not fuzz"`` leaves out the long schemathesis run (``make unit`` runs it)."""
    config.addinivalue_line("markers", "fuzz: schemathesis over the API's OpenAPI, over 1,000 requests")


class Market:
    """Book, tokens, ledger and a running API; ``call(name, method, path, ...)`` as that participant."""

    def __init__(self, tmp_path: Path, **limits):
        self.book = Book.from_file(DEFAULT)
        self.tokens = {p.name: f"{p.name}.token-of-{p.name}" for p in self.book.scenario.participants}
        self.auth = Auth.from_tokens(self.tokens, CHEAP)
        self.ledger = Ledger(tmp_path / "ledger.sqlite", clock=lambda: 0.0)
        limits.setdefault("limiter", RateLimiter(rate=1000, burst=1000))
        limits.setdefault("unverified_limiter", RateLimiter(rate=1000, burst=1000))
        self.app = make_app(self.book, self.auth, self.ledger, **limits)
        self.server = ApiServer(self.app).start()
        self.client = httpx.Client(base_url=self.server.url, timeout=10)

    def headers(self, name: str | None) -> dict:
        return {"Authorization": f"Bearer {self.tokens[name]}"} if name else {}

    def call(self, name: str | None, method: str, path: str, **kwargs) -> httpx.Response:
        headers = {**self.headers(name), **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)

    def close(self) -> None:
        self.client.close()
        self.server.stop()
        self.ledger.close()


@pytest.fixture
def market(tmp_path):
    m = Market(tmp_path)
    yield m
    m.close()


@pytest.fixture(scope="module")
def unchanging(tmp_path_factory):
    """One market for a module's tests that change nothing (each asserts so): refusals."""
    m = Market(tmp_path_factory.mktemp("unchanging"))
    yield m
    m.close()


def hand_result(scale: int = 1):
    """A clearing of the default world, made by hand (the ledger and API do not care how)."""
    from controller.market.result import (DemandAllocation, LinkAllocation, MarketResult, ParticipantSettlement,
                                          PathFlow)
    d = Decimal
    return MarketResult(
        mechanism="lmp", welfare=d("3.5"),
        demands=(DemandAllocation("ana-dev", "h1", "h4", 3000, (PathFlow(("mn-lk",), ("mn1", "lk1"), 3000),),
                                  d("0.15") * scale),
                 DemandAllocation("ben-gus", "h2", "h7", 1000, (PathFlow(("mn-at", "at1"), ("mn1", "at-nyc"), 1000),),
                                  d("0.40") * scale)),
        links=(LinkAllocation("mn-lk", "metro", 3000, d("0.05")), LinkAllocation("at1", "atlas", 1000, d("0.2"))),
        participants=(ParticipantSettlement("ana", "customer", d("0.15") * scale, d(0)),
                      ParticipantSettlement("ben", "customer", d("0.40") * scale, d(0)),
                      ParticipantSettlement("metro", "last_mile", d(0), d("0.15") * scale),
                      ParticipantSettlement("atlas", "backbone", d(0), d("0.40") * scale)),
        budget_balance=d(0))
