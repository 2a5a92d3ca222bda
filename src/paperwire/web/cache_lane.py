"""The hot path: a page already in the page cache, answered to a signed-out reader before the
session, community and security-header middleware run.

Through the whole middleware stack a cached hit cost about 34 us of CPU in process, most of
it checking the session cookie's signature again on every request (itsdangerous: key
derivation, HMAC, base64, JSON), then the community middleware and three ``send``
wrappers.  Under uvicorn a bare ASGI app serves the same 65 KB page at 40-45k requests a
second on 2 workers and paperwire served it at 20k (docs/benchmarks.md, "The hot path").

The lane answers only what it can answer exactly as the stack would (``cache.answer`` is
the one answer of both; a test holds the two to the same status, headers and body):

- a returning reader: the ``Cookie`` header is verified once by this process (Starlette's
  own signer and the session cookie's settings, ``community.web.session_options``) and
  remembered with its signing time, so a repeat costs a dictionary lookup and an age check
  (``max_age``, as the signer checks it).  A session that is signed in (``sid``) or has no
  CSRF token yet goes down the stack;
- a first visit (no session cookie at all): Starlette's ``SessionMiddleware`` itself wraps
  the answer, so the new session and its cookie are made by the same code as for every
  other page.  A cookie that does not verify, or has expired, goes down the stack.

Anything else (not a GET of a cacheable path, no fresh entry, a render in flight) goes down
the stack unchanged; the page cache there renders, stores and coalesces as before.
"""

from __future__ import annotations

import json
import time
from base64 import b64decode

from itsdangerous.exc import BadSignature
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paperwire.community.web import session_options
from paperwire.web.cache import CACHEABLE, ResponseCache, answer, cache_key, request_header
from paperwire.web.security_headers import with_security_headers

KNOWN_MAX = 10_000  # verified Cookie headers remembered per process (then forgotten at once)
ENTRY = "paperwire.cached_entry"  # the scope key that hands a first visit's entry inward


class CachedHitLane:
    def __init__(self, app: ASGIApp, cache: ResponseCache, session: dict) -> None:
        self.app = app
        self.cache = cache
        self.cookie_name = session["session_cookie"]
        self.max_age = session["max_age"]
        # a first visit's session and cookie: Starlette's middleware, around the answer
        self.first_visit = SessionMiddleware(self._answer_first_visit, **session)
        self.signer = self.first_visit.signer
        self.known: dict[bytes, tuple[dict, int]] = {}  # Cookie header -> (session, signed at)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or not CACHEABLE.match(scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        cache = self.cache
        await cache.refresh()
        entry = cache.get(cache_key(scope))
        if entry is None:
            await self.app(scope, receive, send)
            return
        cookie = request_header(scope, b"cookie")
        session = self._session(cookie) if cookie else None
        if session is not None:
            if "sid" in session or not session.get("csrf"):  # signed in, or no token yet
                await self.app(scope, receive, send)
                return
            cache.hits += 1
            await answer(scope, _secured(send), entry, session)
        elif cookie and self.cookie_name in cookie_parser(cookie.decode("latin-1")):
            await self.app(scope, receive, send)  # forged or expired: the stack decides
        else:  # a first visit
            scope[ENTRY] = entry
            await self.first_visit(scope, receive, _secured(send))

    def _session(self, cookie: bytes) -> dict | None:
        """The session this ``Cookie`` header carries, if it verifies and has not expired
        (Starlette's ``SessionMiddleware`` decodes it the same way); None otherwise."""
        known = self.known.get(cookie)
        if known is None:
            value = cookie_parser(cookie.decode("latin-1")).get(self.cookie_name)
            if value is None:
                return None
            try:
                data, signed = self.signer.unsign(
                    value.encode("utf-8"), max_age=self.max_age, return_timestamp=True
                )
                session = json.loads(b64decode(data))
            except (BadSignature, ValueError):
                return None
            if not isinstance(session, dict):
                return None
            if len(self.known) >= KNOWN_MAX:
                self.known.clear()
            known = self.known[cookie] = (session, int(signed.timestamp()))
        age = int(time.time()) - known[1]
        if self.max_age is not None and not 0 <= age <= self.max_age:
            self.known.pop(cookie, None)
            return None  # expired: a new session, as the signer would decide
        return known[0]

    async def _answer_first_visit(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.cache.hits += 1
        await answer(scope, send, scope.pop(ENTRY), scope["session"])


def _secured(send: Send) -> Send:
    async def secured(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = with_security_headers(message)
        await send(message)

    return secured


def install(app) -> None:
    """Put the lane in front of every middleware of ``app`` (call after the last
    ``add_middleware``).  Nothing when the page cache is off."""
    cache = getattr(app.state, "page_cache", None)
    if cache is not None:
        options = session_options(app.state.settings)
        app.add_middleware(CachedHitLane, cache=cache, session=options)
