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
- a first visit (no session cookie at all): the new session (its CSRF token) and its cookie
  are made as Starlette's ``SessionMiddleware`` makes them, with its signer and settings
  (JSON, base64, signed; ``Vary: Cookie`` and ``Set-Cookie``), which the tests compare
  header by header with the stack's.  Through that middleware itself a first visit cost
  33-36 us in process; so 22.  A cookie that does not verify, or has expired, goes down
  the stack.

Anything else (not a GET of a cacheable path, no fresh entry, a render in flight) goes down
the stack unchanged; the page cache there renders, stores and coalesces as before.
"""

from __future__ import annotations

import json
import time
from base64 import b64decode, b64encode

from itsdangerous import TimestampSigner
from itsdangerous.exc import BadSignature
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paperwire.community.web import session_options
from paperwire.web.cache import CACHEABLE, ResponseCache, answer, cache_key, request_header
from paperwire.web.security_headers import with_security_headers

KNOWN_MAX = 10_000  # verified Cookie headers remembered per process (then forgotten at once)


class CachedHitLane:
    def __init__(self, app: ASGIApp, cache: ResponseCache, session: dict) -> None:
        self.app = app
        self.cache = cache
        self.cookie_name = session["session_cookie"]
        self.max_age = session["max_age"]
        # the session cookie's settings and signer, as the stack's SessionMiddleware has them
        self.sessions = SessionMiddleware(app, **session)
        self.signer = _KeptKeySigner(self.sessions.signer)
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
        else:  # a first visit: a new session, its cookie made as SessionMiddleware makes it
            cache.hits += 1
            fresh: dict = {}
            await answer(scope, self._with_new_session(fresh, _secured(send)), entry, fresh)

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

    def _with_new_session(self, session: dict, send: Send) -> Send:
        """``send`` with the new ``session``'s cookie, as Starlette's ``SessionMiddleware``
        writes it for a session made during the request (``Vary: Cookie`` and
        ``Set-Cookie``); nothing when the answer left the session empty."""
        sm = self.sessions

        async def with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and session:
                data = self.signer.sign(b64encode(json.dumps(session).encode("utf-8")))
                max_age = f"Max-Age={sm.max_age}; " if sm.max_age is not None else ""
                cookie = f"{sm.session_cookie}={data.decode('utf-8')}; path={sm.path}; "
                headers = []
                vary = False
                for k, v in message["headers"]:
                    if k == b"vary" and not vary:
                        v, vary = v + b", Cookie", True
                    headers.append((k, v))
                if not vary:
                    headers.append((b"vary", b"Cookie"))
                headers.append((b"set-cookie", f"{cookie}{max_age}{sm.security_flags}".encode()))
                message["headers"] = headers
            await send(message)

        return with_cookie


class _KeptKeySigner(TimestampSigner):
    """The stack's signer, with its derived key computed once instead of on every sign and
    unsign (itsdangerous derives it from the secret each time): the same signatures."""

    def __init__(self, signer: TimestampSigner) -> None:
        super().__init__(
            signer.secret_keys, signer.salt, signer.sep, signer.key_derivation,
            signer.digest_method, signer.algorithm,
        )  # fmt: skip
        self._key = super().derive_key()

    def derive_key(self, secret_key=None) -> bytes:
        return self._key if secret_key is None else super().derive_key(secret_key)


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
