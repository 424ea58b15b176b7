"""The open market's front door: participants' HTTP API, their tokens, and the exchange of a run.

- :func:`make_app` (``app.py``): the FastAPI app over a book, tokens and a ledger;
- :class:`Auth` (``auth.py``): bearer tokens, stored as salted scrypt hashes;
- :class:`RateLimiter`, :class:`BodyLimit` (``limits.py``): per-participant bounds;
- :class:`ApiServer` (``server.py``): uvicorn on 127.0.0.1 in a thread;
- :class:`Exchange` (``exchange.py``): book + tokens + ledger of one run directory.

Nothing here imports os_ken, mininet or scapy.
"""
from .app import make_app
from .auth import Auth, AuthError
from .exchange import Exchange
from .limits import BodyLimit, RateLimiter
from .server import ApiServer, ServerError

__all__ = ["make_app", "Auth", "AuthError", "Exchange", "BodyLimit", "RateLimiter", "ApiServer", "ServerError"]
