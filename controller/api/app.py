"""The participants' HTTP API: read the book, the last clearing and one's invoices; change one's offers and bids.

``make_app(book, auth, ledger)`` returns a FastAPI app; every route needs a
participant's bearer token and answers only for that participant where it
matters (invoices).  Refusals are 4xx with a message, and change nothing:

- 401 no token, or a wrong one;        - 403 not the owner (origin validation);
- 404 no such offer or demand;          - 409 the id is taken, or too many items;
- 413 body over the limit;              - 422 a value the scenario language refuses;
- 429 over the participant's rate limit (``Retry-After`` says when to come back).

``docs/api.md`` is the reference with a curl session; ``/openapi.json`` the same for machines.
"""

import math
from typing import Annotated

from fastapi import Depends, FastAPI, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from controller.book import Book, BookError, Conflict, Invalid, NotOwner, UnknownItem

from .auth import Auth
from .limits import MAX_BODY_BYTES, BodyLimit, RateLimiter
from .models import (BookOut, ClearingOut, DemandChange, DemandIn, DemandOut, InvalidOut, InvoiceOut, MeOut,
                     OfferChange, OfferIn, OfferOut, ProblemOut)

__all__ = ["make_app", "API_VERSION", "UNVERIFIED"]

API_VERSION = "1.0.0"
#: The rate-limit bucket of requests whose token is not yet known good (each costs one scrypt).
UNVERIFIED = "<unverified>"
_STATUS = {NotOwner: 403, UnknownItem: 404, Conflict: 409}
_ERRORS = {code: {"model": ProblemOut, "description": text} for code, text in (
    (401, "no bearer token, or a wrong one"), (413, "request body too large"), (429, "rate limit exceeded"))}
_CHANGE_ERRORS = {**_ERRORS, **{code: {"model": ProblemOut, "description": text} for code, text in (
    (400, "a body that cannot be read as JSON"), (403, "the caller does not own the link, host, offer or demand"),
    (404, "no such offer or demand"),
    (409, "the id is taken, or the caller holds as many items as it may"))},
    422: {"model": InvalidOut, "description": "a value the scenario language refuses"}}


class _Refusal(Exception):
    def __init__(self, status_code: int, detail: str, headers: dict | None = None):
        self.status_code, self.detail, self.headers = status_code, detail, headers


def make_app(book: Book, auth: Auth, ledger=None, *, limiter: RateLimiter | None = None,
             unverified_limiter: RateLimiter | None = None, max_body_bytes: int = MAX_BODY_BYTES) -> FastAPI:
    """The API over ``book`` (offers, demands, last clearing), ``auth`` (tokens) and ``ledger`` (invoices).

    ``limiter`` bounds each participant's requests; ``unverified_limiter`` the requests
    whose token is not yet verified, all participants together (each costs one scrypt).
    """
    limiter = limiter or RateLimiter()
    unverified_limiter = unverified_limiter or RateLimiter(rate=5, burst=20)
    app = FastAPI(title="openisp market API", version=API_VERSION, docs_url=None, redoc_url=None,
                  description="The open bandwidth market's front door: participants read the book, the last "
                              "clearing and their own invoices, and change their own offers and demands for "
                              "the next epoch. Every route needs `Authorization: Bearer <token>`.")
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    bearer = HTTPBearer(auto_error=False, description="the participant's token, from the run's `tokens` file")

    def participant(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> str:
        if credentials is None:
            raise _Refusal(401, "missing bearer token (send Authorization: Bearer <token>)")
        token = credentials.credentials
        if not auth.is_verified(token):
            allowed, wait = unverified_limiter.allow(UNVERIFIED)
            if not allowed:
                raise _Refusal(429, "too many requests with unverified tokens", _retry_after(wait))
        name = auth.identify(token)
        if name is None or name not in book.scenario.participant:
            raise _Refusal(401, "wrong bearer token")
        allowed, wait = limiter.allow(name)
        if not allowed:
            raise _Refusal(429, f"{name}: more than {limiter.burst} requests at once or {limiter.rate:g} per "
                                "second", _retry_after(wait))
        return name

    Caller = Annotated[str, Depends(participant)]

    @app.exception_handler(_Refusal)
    async def refused(_: Request, exc: _Refusal):
        headers = dict(exc.headers or {})
        if exc.status_code == 401:
            headers["WWW-Authenticate"] = "Bearer"
        return JSONResponse({"detail": exc.detail}, exc.status_code, headers=headers)

    @app.exception_handler(BookError)
    async def book_refused(_: Request, exc: BookError):
        if isinstance(exc, Invalid):
            return JSONResponse({"detail": [{"loc": ["body", *([f] if f else [])], "msg": m, "type": "scenario"}
                                            for f, m in exc.problems]}, 422)
        return JSONResponse({"detail": str(exc)}, _STATUS.get(type(exc), 400))

    @app.exception_handler(RequestValidationError)
    async def malformed(_: Request, exc: RequestValidationError):
        # FastAPI's own format, with only what JSON can carry (its ``input`` and ``ctx`` may not be).
        return JSONResponse({"detail": [{"loc": [p if isinstance(p, (str, int)) else str(p) for p in e["loc"]],
                                         "msg": str(e["msg"]), "type": str(e["type"])} for e in exc.errors()]}, 422)

    @app.get("/v1/me", response_model=MeOut, responses=_ERRORS, tags=["participant"])
    def me(name: Caller) -> MeOut:
        """Who the token belongs to, and what it owns and holds in the book."""
        s = book.scenario
        return MeOut(name=name, role=s.participant[name].role,
                     links=[l.id for l in s.links if l.owner == name],
                     hosts=[h.name for h in s.hosts if h.owner == name],
                     offers=[o.id for o in s.offers if o.seller == name],
                     demands=[d.id for d in s.demands if d.buyer == name])

    @app.get("/v1/book", response_model=BookOut, responses=_ERRORS, tags=["book"])
    def read_book(_: Caller) -> BookOut:
        """Every offer and demand the next epoch will clear."""
        s = book.scenario
        return BookOut(epoch=book.next_epoch, version=book.version, offers=[OfferOut.of(o) for o in s.offers],
                       demands=[DemandOut.of(d) for d in s.demands])

    @app.get("/v1/clearing", response_model=ClearingOut, tags=["market"],
             responses={**_ERRORS, 404: {"model": ProblemOut, "description": "no epoch cleared yet"}})
    def clearing(_: Caller):
        """The last clearing: allocations, paths, prices and payments."""
        last = book.last_clearing()
        if last is None:
            raise _Refusal(404, "no epoch has been cleared yet")
        epoch, result = last
        return {"epoch": epoch, **result.to_json_dict()}

    @app.get("/v1/invoices", response_model=list[InvoiceOut], tags=["ledger"],
             responses={**_ERRORS, 422: {"model": InvalidOut, "description": "a malformed epoch"}})
    def invoices(name: Caller, epoch: Annotated[int | None, Query(ge=1, le=2 ** 62)] = None):
        """The caller's own invoices from the ledger, oldest first (one epoch with ``?epoch=N``)."""
        if ledger is None:
            return []
        return [i.to_json_dict() for i in ledger.invoices(participant=name, epoch=epoch)]

    @app.post("/v1/offers", response_model=OfferOut, status_code=201, responses=_CHANGE_ERRORS, tags=["book"])
    def submit_offer(name: Caller, offer: OfferIn) -> OfferOut:
        """Offer capacity on a link the caller owns, from the next epoch on."""
        return OfferOut.of(book.submit_offer(name, offer.model_dump(exclude_none=True)))

    @app.get("/v1/offers/{offer_id}", response_model=OfferOut, responses=_CHANGE_ERRORS, tags=["book"])
    def read_offer(_: Caller, offer_id: str) -> OfferOut:
        return OfferOut.of(book.offer(offer_id))

    @app.patch("/v1/offers/{offer_id}", response_model=OfferOut, responses=_CHANGE_ERRORS, tags=["book"])
    def change_offer(name: Caller, offer_id: str, change: OfferChange) -> OfferOut:
        """Change the ask, capacity or tiers of the caller's offer, from the next epoch on."""
        return OfferOut.of(book.change_offer(name, offer_id, change.model_dump(exclude_unset=True)))

    @app.delete("/v1/offers/{offer_id}", status_code=204, response_class=Response, responses=_CHANGE_ERRORS,
                tags=["book"])
    def withdraw_offer(name: Caller, offer_id: str) -> Response:
        """Withdraw the caller's offer from the next epoch on."""
        book.withdraw_offer(name, offer_id)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @app.post("/v1/demands", response_model=DemandOut, status_code=201, responses=_CHANGE_ERRORS, tags=["book"])
    def submit_demand(name: Caller, demand: DemandIn) -> DemandOut:
        """Bid for a rate from a host the caller owns, from the next epoch on."""
        return DemandOut.of(book.submit_demand(name, demand.model_dump(exclude_none=True)))

    @app.get("/v1/demands/{demand_id}", response_model=DemandOut, responses=_CHANGE_ERRORS, tags=["book"])
    def read_demand(_: Caller, demand_id: str) -> DemandOut:
        return DemandOut.of(book.demand(demand_id))

    @app.patch("/v1/demands/{demand_id}", response_model=DemandOut, responses=_CHANGE_ERRORS, tags=["book"])
    def change_demand(name: Caller, demand_id: str, change: DemandChange) -> DemandOut:
        """Change the max rate, value or floor of the caller's demand, from the next epoch on."""
        return DemandOut.of(book.change_demand(name, demand_id, change.model_dump(exclude_unset=True)))

    @app.delete("/v1/demands/{demand_id}", status_code=204, response_class=Response, responses=_CHANGE_ERRORS,
                tags=["book"])
    def withdraw_demand(name: Caller, demand_id: str) -> Response:
        """Withdraw the caller's demand from the next epoch on."""
        book.withdraw_demand(name, demand_id)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return app


def _retry_after(wait: float) -> dict:
    return {"Retry-After": str(max(1, math.ceil(wait)))}
