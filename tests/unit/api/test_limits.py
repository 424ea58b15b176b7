"""The rate limiter's arithmetic (bodies over the limit are tested over HTTP in test_app.py)."""
from __future__ import annotations

import pytest

from controller.api.limits import RateLimiter


def test_a_bucket_refills_at_its_rate_up_to_its_burst():
    now = [0.0]
    limiter = RateLimiter(rate=2, burst=3, clock=lambda: now[0])
    assert [limiter.allow("a")[0] for _ in range(4)] == [True, True, True, False]
    allowed, wait = limiter.allow("a")
    assert not allowed and wait == pytest.approx(0.5)
    now[0] = 0.5
    assert limiter.allow("a") == (True, 0.0) and not limiter.allow("a")[0]
    now[0] = 100.0  # a long pause refills to the burst, not beyond
    assert [limiter.allow("a")[0] for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b")[0]


def test_a_refused_request_costs_nothing():
    now = [0.0]
    limiter = RateLimiter(rate=1, burst=1, clock=lambda: now[0])
    limiter.allow("a")
    for _ in range(10):
        assert not limiter.allow("a")[0]
    now[0] = 1.0
    assert limiter.allow("a")[0]


@pytest.mark.parametrize("rate, burst", [(0, 1), (-1, 1), (1, 0)])
def test_a_limit_must_let_something_through(rate, burst):
    with pytest.raises(ValueError):
        RateLimiter(rate=rate, burst=burst)
