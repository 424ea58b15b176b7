"""The participants' API over real HTTP: tokens, origin validation, invoices, bounds; refusals change nothing."""
from __future__ import annotations

import pytest

from controller.api import RateLimiter

from .conftest import Market, hand_result

#: A request that would succeed for its owner, per route of the API.
ROUTES = [
    ("GET", "/v1/me", None), ("GET", "/v1/book", None), ("GET", "/v1/clearing", None),
    ("GET", "/v1/invoices", None),
    ("POST", "/v1/offers", {"id": "spare", "link": "at1", "capacity": 1, "ask_per_mbps": "1"}),
    ("GET", "/v1/offers/offer-at1", None), ("PATCH", "/v1/offers/offer-at1", {"ask_per_mbps": "0.3"}),
    ("DELETE", "/v1/offers/offer-at1", None),
    ("POST", "/v1/demands", {"src": "h1", "dst": "h2", "max_rate": "1Mbps", "value_per_mbps": "1"}),
    ("GET", "/v1/demands/ana-dev", None), ("PATCH", "/v1/demands/ana-dev", {"max_rate": "1Mbps"}),
    ("DELETE", "/v1/demands/ana-dev", None),
]


def test_openapi_describes_every_route_and_its_bearer_token(unchanging):
    market = unchanging
    spec = market.call(None, "GET", "/openapi.json").json()
    described = {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops}
    assert described == {(m, p.replace("offer-at1", "{offer_id}").replace("ana-dev", "{demand_id}"))
                         for m, p, _ in ROUTES}
    assert spec["components"]["securitySchemes"]["HTTPBearer"] == {
        "type": "http", "scheme": "bearer", "description": "the participant's token, from the run's `tokens` file"}
    for path, ops in spec["paths"].items():
        for op in ops.values():
            assert op["security"] == [{"HTTPBearer": []}], path
            assert {"401", "413", "429"} <= set(op["responses"]), path


@pytest.mark.parametrize("method, path, body", ROUTES)
def test_every_route_refuses_a_missing_or_wrong_token(unchanging, method, path, body):
    market = unchanging
    version = market.book.version
    wrong = ["", "Bearer", "Bearer ana", "Bearer ana.token-of-ben", "Bearer ana.token-of-ana.", "Basic YW5hOmFuYQ==",
             "Bearer " + "x" * 5000, f"Bearer {market.tokens['atlas'].upper()}"]
    for header in [None] + wrong:
        response = market.call(None, method, path, json=body, headers={"Authorization": header} if header else {})
        assert response.status_code == 401, (header, response.text)
        assert response.headers["www-authenticate"] == "Bearer"
        assert "token" in response.json()["detail"]
    assert market.book.version == version


def test_a_participants_session(market):
    """What docs/api.md shows with curl: read, sell, bid, change, withdraw; the next epoch sees it."""
    assert market.call("metro", "GET", "/v1/me").json() == {
        "name": "metro", "role": "last_mile", "links": ["mn-at", "mn-bo", "mn-lk"], "hosts": [],
        "offers": ["offer-mn-at", "offer-mn-bo", "offer-mn-lk"], "demands": []}
    assert market.call("metro", "GET", "/v1/clearing").status_code == 404
    assert market.call("metro", "DELETE", "/v1/offers/offer-mn-lk").status_code == 204
    created = market.call("metro", "POST", "/v1/offers", json={"id": "mn-lk-peak", "link": "mn-lk",
                                                               "capacity": "4Mbps", "ask_per_mbps": "0.09"})
    assert created.status_code == 201 and created.json() == {
        "id": "mn-lk-peak", "link": "mn-lk", "seller": "metro", "capacity_kbps": 4000, "ask_per_mbps": "0.09",
        "tiers": []}
    changed = market.call("metro", "PATCH", "/v1/offers/mn-lk-peak", json={"ask_per_mbps": "0.11"})
    assert changed.status_code == 200 and changed.json()["ask_per_mbps"] == "0.11"
    bid = market.call("ana", "POST", "/v1/demands", json={"src": "h1", "dst": "h6", "max_rate": "2Mbps",
                                                          "value_per_mbps": "1.4", "floor": "0"})
    assert bid.status_code == 201 and bid.json()["id"] == "ana-1" and bid.json()["buyer"] == "ana"
    book = market.call("ben", "GET", "/v1/book").json()
    assert book["epoch"] == 1 and book["version"] == 4
    assert "mn-lk-peak" in [o["id"] for o in book["offers"]] and "ana-1" in [d["id"] for d in book["demands"]]
    nxt = market.book.scenario_for_next_epoch()
    assert nxt.demand["ana-1"].max_kbps == 2000 and "offer-mn-lk" not in [o.id for o in nxt.offers]
    market.ledger.settle(1, hand_result(), nxt)
    market.book.publish(1, hand_result())
    clearing = market.call("ben", "GET", "/v1/clearing").json()
    assert clearing["epoch"] == 1 and clearing["participants"][0]["pays"] == "0.15"
    assert market.call("ben", "GET", "/v1/book").json()["epoch"] == 2


def test_offers_and_bids_on_what_the_caller_does_not_own_are_refused_every_time(unchanging):
    """Every (participant, link) and (participant, host) pair of the world, over HTTP."""
    market = unchanging
    s = market.book.scenario
    version, refused = market.book.version, 0
    for p in s.participants:
        for link in s.links:
            if link.owner != p.name:
                r = market.call(p.name, "POST", "/v1/offers", json={"id": f"x-{link.id}", "link": link.id,
                                                                     "capacity": 1, "ask_per_mbps": "0"})
                assert r.status_code == 403 and "cannot offer link" in r.json()["detail"], r.text
                refused += 1
        for host in s.hosts:
            if host.owner != p.name:
                dst = "cdn1" if host.name != "cdn1" else "h1"
                r = market.call(p.name, "POST", "/v1/demands", json={"src": host.name, "dst": dst, "max_rate": 1,
                                                                      "value_per_mbps": "9"})
                assert r.status_code == 403 and "cannot bid from host" in r.json()["detail"], r.text
                refused += 1
    others = [p.name for p in s.participants]
    for i, offer in enumerate(s.offers):  # each offer and demand, changed by someone else in turn
        intruder = next(n for n in others[i % len(others):] + others if n != offer.seller)
        for method, body in (("PATCH", {"ask_per_mbps": "0"}), ("DELETE", None)):
            assert market.call(intruder, method, f"/v1/offers/{offer.id}", json=body).status_code == 403
    for i, demand in enumerate(s.demands):
        intruder = next(n for n in others[i % len(others):] + others if n != demand.buyer)
        for method, body in (("PATCH", {"max_rate": 1}), ("DELETE", None)):
            assert market.call(intruder, method, f"/v1/demands/{demand.id}", json=body).status_code == 403
    assert refused == 14 * 13 - 13 + 14 * 9 - 9 and market.book.version == version


def test_a_participant_reads_only_its_own_invoices(market):
    scenario = market.book.scenario_for_next_epoch()
    for epoch in (1, 2):
        market.ledger.settle(epoch, hand_result(epoch), scenario)
    for p in scenario.participants:
        own = market.call(p.name, "GET", "/v1/invoices").json()
        assert all(i["participant"] == p.name for i in own)
        assert len(own) == (2 if p.name in ("ana", "ben", "metro", "atlas") else 0)
        assert market.call(p.name, "GET", "/v1/invoices", params={"participant": "ana"}).json() == own
    ana = market.call("ana", "GET", "/v1/invoices", params={"epoch": 2}).json()
    assert [(i["epoch"], i["pays"], [d["id"] for d in i["demands"]]) for i in ana] == [(2, "0.30", ["ana-dev"])]
    for epoch in (10 ** 30, 0, -1, "two"):
        assert market.call("ana", "GET", "/v1/invoices", params={"epoch": epoch}).status_code == 422


@pytest.mark.parametrize("method, path, body, status, says", [
    ("POST", "/v1/offers", {"link": "at1", "ask_per_mbps": 0.25, "id": "x"}, 422, "quoted decimal"),
    ("POST", "/v1/offers", {"link": "at1", "ask_per_mbps": "1", "id": "x", "capacity": "40Mbps"}, 422, "20000 kbps"),
    ("POST", "/v1/offers", {"link": "at1", "ask_per_mbps": "1", "id": "x", "colour": "red"}, 422, "Extra inputs"),
    ("POST", "/v1/offers", {"link": "at1", "ask_per_mbps": "1"}, 409, "already holds"),
    ("POST", "/v1/offers", {"link": "at1", "ask_per_mbps": "1", "seller": "borealis"}, 403, "only for itself"),
    ("POST", "/v1/offers", [1, 2], 422, "valid dictionary"),
    ("POST", "/v1/demands", {"src": "cdn1", "dst": "h1", "max_rate": "1Mbps", "value_per_mbps": "1"}, 403,
     "belongs to streamco"),
    ("PATCH", "/v1/offers/offer-at1", {"capacity": "-5Mbps"}, 422, "rate"),
    ("PATCH", "/v1/offers/offer-at1", {"link": "at2"}, 422, "Extra inputs"),
    ("PATCH", "/v1/offers/nope", {"capacity": "5Mbps"}, 404, "no offer 'nope'"),
    ("DELETE", "/v1/demands/nope", None, 404, "no demand 'nope'"),
    ("PATCH", "/v1/demands/ana-dev", {"floor": "9Mbps"}, 403, "belongs to ana"),
])
def test_refusals_say_why_and_change_nothing(unchanging, method, path, body, status, says):
    market = unchanging
    version, scenario = market.book.version, market.book.scenario
    response = market.call("atlas", method, path, json=body)
    assert response.status_code == status, response.text
    assert says in response.text
    assert market.book.version == version and market.book.scenario is scenario


def test_bodies_over_the_limit_are_refused_declared_or_streamed(unchanging):
    market = unchanging
    big = b'{"link": "at1", "ask_per_mbps": "1", "id": "' + b"x" * 20_000 + b'"}'
    declared = market.call("atlas", "POST", "/v1/offers", content=big, headers={"content-type": "application/json"})
    assert declared.status_code == 413 and "larger than 16384 bytes" in declared.json()["detail"]

    def chunks():
        for _ in range(40):
            yield b" " * 1000
    streamed = market.call("atlas", "POST", "/v1/offers", content=chunks(),
                           headers={"content-type": "application/json"})
    assert streamed.status_code == 413
    small = market.call("atlas", "POST", "/v1/offers", content=iter([b'{"link": "at1",', b' "ask_per_mbps": "1"}']),
                        headers={"content-type": "application/json"})
    assert small.status_code == 409  # read whole, judged: offer-at1 exists


def test_each_participant_is_rate_limited_on_its_own(tmp_path):
    market = Market(tmp_path, limiter=RateLimiter(rate=0.01, burst=3),
                    unverified_limiter=RateLimiter(rate=0.01, burst=4))
    try:
        codes = [market.call("ana", "GET", "/v1/me").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        refused = market.call("ana", "POST", "/v1/demands", json={"src": "h1", "dst": "h2", "max_rate": 1,
                                                                  "value_per_mbps": "1"})
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert "ana" not in [d.buyer for d in market.book.scenario.demands if d.id != "ana-dev"]
        assert market.call("ben", "GET", "/v1/me").status_code == 200
        # Unverified tokens share one bucket (ana's and ben's first requests took 2 of its 4), so
        # guessing cannot make the server hash without end.
        guesses = [market.call(None, "GET", "/v1/me", headers={"Authorization": f"Bearer ana.guess{i}"}).status_code
                   for i in range(3)]
        assert guesses == [401, 401, 429]
        assert market.call("chloe", "GET", "/v1/me").status_code == 429  # not verified yet either
        assert market.call("ben", "GET", "/v1/me").status_code == 200  # known good: no hashing, own bucket
    finally:
        market.close()
