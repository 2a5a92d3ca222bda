"""Small helpers the community routes share."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from paperwire.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperwire.community.repository import Community
from paperwire.community.security import client_ip, current_user, token_hash
from paperwire.community.views import UserView
from paperwire.core.clock import utcnow
from paperwire.ui.templating import PageError


def store_of(request: Request) -> Any:
    return request.app.state.store


def community_of(request: Request) -> Community:
    """The community slice's repositories (``community.web.install`` builds them once)."""
    community: Community = request.app.state.community
    return community


def settings_of(request: Request) -> Any:
    return request.app.state.settings


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get(
        "accept", ""
    )


def safe_next(value: str | None, default: str = "/") -> str:
    """A same-site path to go back to; anything else (``//evil``, ``https://...``) is ignored."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    if any(c in value for c in "\r\n\t"):
        return default
    return value


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def error(request: Request, status: int, message: str, links=None) -> Response:
    if wants_json(request):
        return JSONResponse({"error": message}, status_code=status)
    raise PageError(status, message, links or [("Latest papers", "/")])


def sign_in_first(request: Request, back: str | None = None) -> Response:
    if wants_json(request):
        return JSONResponse({"error": "Sign in first (POST /login)."}, status_code=401)
    return see_other("/login?next=" + quote(safe_next(back), safe="/"))


class SignInFirst(Exception):
    """Raised by :func:`require_user`; answered by :func:`sign_in_first` (a handler that
    ``community.web.install`` adds): 401 JSON for the API, else a redirect to sign in."""

    def __init__(self, back: str | None) -> None:
        super().__init__("sign in first")
        self.back = back


def answer_sign_in_first(request: Request, exc: Exception) -> Response:
    """The app's handler for :class:`SignInFirst`."""
    return sign_in_first(request, exc.back if isinstance(exc, SignInFirst) else None)


def require_user(request: Request, back: str | None = None) -> UserView:
    """The signed-in user; a visitor is sent to sign in and come back to ``back``."""
    user = current_user(request)
    if user is None:
        raise SignInFirst(back)
    return user


def canonical_id(request: Request, raw: str) -> str:
    try:
        return parse_arxiv_id(raw).id
    except InvalidArxivId as exc:
        if wants_json(request):
            raise HTTPException(400, str(exc)) from None
        raise PageError(400, str(exc), [("Latest papers", "/")]) from None


def rate_limited(request: Request, name: str, rule: str, account: str | None = None) -> None:
    """Count a hit on ``name`` for this IP (or, given ``account``, for that account name
    from any address); raise 429 once over ``rule``."""
    key = f"account:{account.casefold()}" if account is not None else client_ip(request)
    wait = request.app.state.rate_limiter.hit(rule, name, key)
    if wait is None:
        return
    who = "for this account" if account is not None else "from your address"
    message = f"Too many attempts {who}. Try again in {wait} seconds."
    exc = PageError(429, message, [("Latest papers", "/")])
    exc.headers = {"Retry-After": str(wait)}
    raise exc


def start_session(request: Request, user) -> None:
    """Sign ``user`` in: a fresh session token (and a fresh CSRF token) for this browser."""
    settings = settings_of(request)
    token = secrets.token_urlsafe(32)
    expires = utcnow() + timedelta(days=settings.session_days)
    community_of(request).accounts.create_session(user.id, token_hash(token), expires)
    old = request.session.get("sid")
    if old:
        community_of(request).accounts.end_session(token_hash(old))
    request.session.clear()
    request.session["sid"] = token
    request.session["csrf"] = secrets.token_urlsafe(32)


def end_session(request: Request) -> None:
    sid = request.session.get("sid")
    if sid:
        community_of(request).accounts.end_session(token_hash(sid))
    request.session.clear()


def post_only(router: APIRouter, *paths: str) -> None:
    """GET on a state-changing path answers 405 (nothing changes on GET)."""

    def refuse(request: Request) -> Response:
        message = "This address only accepts POST (a form button); nothing was changed."
        if wants_json(request):
            return JSONResponse({"error": message}, status_code=405, headers={"Allow": "POST"})
        exc = PageError(405, message, [("Latest papers", "/")])
        exc.headers = {"Allow": "POST"}
        raise exc

    for path in paths:
        router.add_api_route(path, refuse, methods=["GET"], include_in_schema=False)
