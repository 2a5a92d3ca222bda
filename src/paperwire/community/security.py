"""Sessions, CSRF protection and rate limits for the web app.

- **Sessions.** Starlette's ``SessionMiddleware`` keeps a small signed cookie (itsdangerous,
  keyed by ``Settings.resolved_secret_key()``).  It holds the CSRF token and, once signed
  in, a random session token whose SHA-256 is a row in ``user_sessions``: signing out or
  changing the password deletes rows, so a copied cookie stops working at once.
- **CSRF.** A synchronizer token per session, checked by :class:`CommunityMiddleware` on
  every unsafe method (POST, PUT, PATCH, DELETE) of every route, ours or not, before the
  route runs.  Forms send it as ``csrf_token`` (templates write ``{{ csrf_field() }}``); API
  clients send the ``X-CSRF-Token`` header.  Paths that must accept cross-site POSTs (RFC 8058
  one-click unsubscribe) are exempted with :func:`csrf_exempt`.
- **Rate limits.** ``limits`` moving windows per IP and route (memory by default, so per
  process; a ``redis://`` storage URI shares them between nodes).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from markupsafe import Markup, escape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from paperwire.community.repository import AccountRepository

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
MAX_FORM_BYTES = 1_000_000
USER_KEY = "paperwire.user"

# Regexes of paths exempt from the CSRF check (matched with re.match against the path).
# Only for endpoints that authenticate the request another way, e.g. the RFC 8058 one-click
# unsubscribe POST, which carries a signed token in its URL and no cookie.
CSRF_EXEMPT: list[str] = []


def csrf_exempt(pattern: str) -> str:
    """Exempt paths matching ``pattern`` (a regex, matched at the start) from the CSRF check."""
    re.compile(pattern)
    if pattern not in CSRF_EXEMPT:
        CSRF_EXEMPT.append(pattern)
    return pattern


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class RequestState:
    session: dict[str, Any]
    user: Any  # paperwire.community.views.UserView | None
    path: str
    cache: dict[str, Any] = field(default_factory=dict)  # per-request lookups for templates


_current: ContextVar[RequestState | None] = ContextVar("paperwire_request", default=None)


def csrf_token(session: dict[str, Any] | None = None) -> str:
    """This session's CSRF token (created on first use)."""
    if session is None:
        state = _current.get()
        if state is None:
            return ""
        session = state.session
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def csrf_field() -> Markup:
    """The hidden form field every POST form includes: ``{{ csrf_field() }}``."""
    token = csrf_token()
    if not token:
        return Markup("")
    # an f-string with escape(): Markup.format's Formatter was slow on a page of 150 forms
    return Markup(f'<input type="hidden" name="csrf_token" value="{escape(token)}">')


def current_user_global() -> Any:
    """The signed-in user (a UserView) or None, for templates."""
    state = _current.get()
    return state.user if state else None


def current_state() -> RequestState | None:
    """This request's state (session, user, path), or None outside a request."""
    return _current.get()


def current_path() -> str:
    state = _current.get()
    return state.path if state else "/"


def current_user(request: Request) -> Any:
    return request.scope.get(USER_KEY)


def _forbidden(scope: Scope, message: str):
    if scope["path"].startswith("/api/"):
        return JSONResponse({"error": message}, status_code=403)
    body = (
        "<!doctype html><title>403 Forbidden</title><h1>403 Forbidden</h1><p>"
        f'{escape(message)}</p><p><a href="/">Back to the papers</a></p>'
    )
    return HTMLResponse(body, status_code=403)


class CommunityMiddleware:
    """Finds the signed-in user and checks the CSRF token of every unsafe request.

    Runs inside ``SessionMiddleware`` (it needs ``scope["session"]``).
    """

    def __init__(self, app: ASGIApp, accounts: AccountRepository) -> None:
        self.app = app
        self.accounts = accounts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        session = scope.setdefault("session", {})
        user = None
        sid = session.get("sid")
        if sid:
            user = await run_in_threadpool(self.accounts.session_user, token_hash(sid))
            if user is None:
                session.pop("sid", None)
        scope[USER_KEY] = user

        if (
            scope["method"] not in SAFE_METHODS
            and not _exempt(scope["path"])
            and _handled(scope)  # else the router answers 404 or 405 and nothing runs
        ):
            ok, receive, why = await _check_csrf(scope, receive, session)
            if not ok:
                await _forbidden(scope, why)(scope, receive, send)
                return

        qs = scope.get("query_string", b"").decode("latin-1")
        state = RequestState(session, user, scope["path"] + ("?" + qs if qs else ""))
        reset = _current.set(state)
        try:
            await self.app(scope, receive, send)
        finally:
            _current.reset(reset)


HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def route_methods(scope: Scope) -> set[str] | None:
    """The methods some route of the app takes at this path (None: no app to ask)."""
    routes = getattr(getattr(scope.get("app"), "router", None), "routes", None)
    if routes is None:
        return None
    found = {
        m
        for m in HTTP_METHODS
        if any(r.matches({**scope, "method": m})[0] == Match.FULL for r in routes)
    }
    return found | {"HEAD"} if "GET" in found else found


def _handled(scope: Scope) -> bool:
    """Whether a route takes this path with this method: else the router answers 404 or 405,
    nothing runs, and a CSRF 403 would only hide the real answer."""
    methods = route_methods(scope)
    return methods is None or scope["method"] in methods


def _exempt(path: str) -> bool:
    return any(re.match(p, path) for p in CSRF_EXEMPT)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _check_csrf(
    scope: Scope, receive: Receive, session: dict[str, Any]
) -> tuple[bool, Receive, str]:
    expired = (
        "This form has expired or came from another site (missing or wrong CSRF token). "
        "Reload the page and send it again."
    )
    expected = session.get("csrf")
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    sent = headers.get(CSRF_HEADER)
    ctype = headers.get("content-type", "").split(";")[0].strip().lower()
    if sent is None and ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_FORM_BYTES:
                return False, receive, "This form is too large."
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        form = await Request(scope, _replay(body)).form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
        await form.close()
        receive = _replay(body)
    if not expected or not sent or not hmac.compare_digest(str(expected), str(sent)):
        return False, receive, expired
    return True, receive, ""


class RateLimiter:
    """Moving-window limits per key (``limits``); ``rule`` is e.g. ``"10/minute"``."""

    def __init__(self, storage_uri: str = "memory://") -> None:
        from limits import storage, strategies

        self.storage = storage.storage_from_string(storage_uri)
        self.limiter = strategies.MovingWindowRateLimiter(self.storage)

    def hit(self, rule: str, *keys: str) -> int | None:
        """Count one hit; None if allowed, else the seconds until the next one is."""
        import time

        from limits import parse

        item = parse(rule)
        if self.limiter.hit(item, *keys):
            return None
        reset = self.limiter.get_window_stats(item, *keys).reset_time
        return max(1, int(reset - time.time()) + 1)


def client_ip(request: Request) -> str:
    """The peer address (run uvicorn with --proxy-headers behind a proxy)."""
    return request.client.host if request.client else "unknown"
