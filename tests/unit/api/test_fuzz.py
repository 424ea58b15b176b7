"""Schemathesis against the API's own OpenAPI: over 1,000 generated requests, no 5xx.

Every operation gets requests that fit its schema (positive) and requests that
do not (negative), each as a participant drawn at random, or, for half of them,
aimed at a real link, host, offer or demand as its owner, so they get past the
ownership checks.  Besides "no server error", every answer must have a status
code, content type and body the OpenAPI declares.  Seeded (the book changes as
it runs, so the counts vary a little).  In process (ASGI) for speed;
``test_app.py`` covers the same routes over real HTTP.  About 10 s of CPU
(measured 17-37 s of wall time on a 2-core machine busy with other work).
"""
from __future__ import annotations

import collections

import pytest
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (content_type_conformance, not_a_server_error, response_schema_conformance,
                                 status_code_conformance)

from .conftest import Market

#: Requests per operation and mode: 12 operations x 2 modes x this.
EXAMPLES = 45
AT_LEAST = 1000
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory):
    market = Market(tmp_path_factory.mktemp("fuzz"))
    yield market
    market.close()


def realistic(case, book, data) -> str:
    """Point half the generated requests at things that exist, as their owner: they get past the
    ownership checks to the language's rules and to real changes.  Returns the caller."""
    s = book.scenario
    body = case.body if isinstance(case.body, dict) else None
    params = case.path_parameters or {}
    if "offer_id" in params and s.offers:
        offer = data.draw(st.sampled_from(s.offers))
        params["offer_id"] = offer.id
        return offer.seller
    if "demand_id" in params and s.demands:
        demand = data.draw(st.sampled_from(s.demands))
        params["demand_id"] = demand.id
        return demand.buyer
    if body is not None and "link" in body:
        link = data.draw(st.sampled_from(s.links))
        body["link"] = link.id
        if data.draw(st.booleans()):  # a small offer the language accepts: some creations must succeed
            body.update(ask_per_mbps="0.5", capacity="1kbps")
            for key in ("tiers", "id", "seller"):
                body.pop(key, None)
        return link.owner
    if body is not None and "src" in body:
        src, dst = data.draw(st.lists(st.sampled_from(s.hosts), min_size=2, max_size=2, unique=True))
        body.update(src=src.name, dst=dst.name)
        if data.draw(st.booleans()):
            body.update(max_rate="1Mbps", value_per_mbps="1")
            for key in ("floor", "id", "buyer"):
                body.pop(key, None)
        return src.owner
    return data.draw(st.sampled_from(sorted(s.participant)))


@pytest.mark.fuzz
def test_generated_requests_never_get_a_server_error(fuzzed):
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzzed.app)
    names = sorted(fuzzed.tokens)
    statuses: collections.Counter = collections.Counter()
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 12
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @seed(16)
            @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode), who=st.sampled_from(names), data=st.data())
            def call(case, who, data):
                if data.draw(st.booleans()):
                    who = realistic(case, fuzzed.book, data)
                response = case.call(headers=fuzzed.headers(who))
                statuses[response.status_code] += 1
                try:
                    case.validate_response(response, checks=CHECKS)
                except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - every failure is collected
                    failures.append(f"{case.method} {case.formatted_path} ({mode.value}, {who}): "
                                    f"{response.status_code}: {str(exc)[:300]}")
            call()
    total, errors = sum(statuses.values()), sum(n for code, n in statuses.items() if code >= 500)
    print(f"schemathesis: {total} requests, {errors} answered 5xx; statuses {dict(sorted(statuses.items()))}")
    assert errors == 0 and not failures, "\n".join(failures[:20])
    assert total >= AT_LEAST
    assert statuses[200] and statuses[201] and statuses[204], "the fuzzing never got past the checks"
