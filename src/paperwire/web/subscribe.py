"""Digest subscriptions on the web: the subscribe form, confirm, manage, unsubscribe.

Double opt-in: the form only sends a confirmation email whose signed, expiring link carries
the request; the subscription exists once the reader confirms.  Signed-in users with an
email address on their account send the form without one (their account's is used), and
still confirm it by email: nothing ever verified that address.  No GET changes state: each
link shows a page with a button.  ``POST /digest/unsubscribe?token=...`` is also the RFC 8058
one-click endpoint mail clients call without a cookie, so it is exempt from CSRF; the signed
token authenticates it.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import deque
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from urllib.parse import urlencode

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import HTMLResponse

from paperwire.digest.compose import sender, site_host
from paperwire.digest.send import send_one
from paperwire.digest.tokens import (
    BadToken,
    confirm_token,
    manage_token,
    read_confirm_token,
    read_manage_token,
)
from paperwire.digest.tokens import Request as SubscribeRequest
from paperwire.digest.views import FREQUENCIES
from paperwire.ui.forms import EMAIL
from paperwire.ui.templating import PageError, render

try:  # the community module's CSRF protection, when installed
    from paperwire.community.security import csrf_exempt, csrf_field
except ImportError:  # pragma: no cover - before the community module
    from markupsafe import Markup

    def csrf_exempt(pattern: str) -> str:
        return pattern

    def csrf_field() -> Markup:
        return Markup("")


log = logging.getLogger("paperwire.digest")
router = APIRouter(include_in_schema=False)
UNSUBSCRIBE = "/digest/unsubscribe"
csrf_exempt(re.escape(UNSUBSCRIBE) + "$")  # RFC 8058: the signed token authenticates it

MAX_ITEMS, MAX_ITEM_CHARS = 10, 100
LIMITS = {"ip": (10, 600.0), "email": (3, 3600.0)}  # (requests, seconds) per window


class Limiter:
    """Moving-window counts in memory (per process); enough to stop form abuse."""

    def __init__(self) -> None:
        self.hits: dict[tuple[str, str], deque[float]] = {}
        self.lock = threading.Lock()

    def hit(self, kind: str, key: str) -> int | None:
        """Count a hit; None if allowed, else seconds until one is."""
        n, window = LIMITS[kind]
        now = time.monotonic()
        with self.lock:
            q = self.hits.setdefault((kind, key), deque())
            while q and q[0] <= now - window:
                q.popleft()
            if len(q) >= n:
                return int(q[0] + window - now) + 1
            q.append(now)
            return None


def _limiter(request: Request) -> Limiter:
    if not hasattr(request.app.state, "digest_limiter"):
        request.app.state.digest_limiter = Limiter()
    return request.app.state.digest_limiter


def split_items(text: str | None) -> list[str]:
    items = [" ".join(t.split()) for t in re.split(r"[,\n;]", text or "")]
    out = list(dict.fromkeys(t for t in items if t))
    if len(out) > MAX_ITEMS or any(len(t) > MAX_ITEM_CHARS for t in out):
        raise PageError(
            400,
            f"at most {MAX_ITEMS} topics, organizations or authors, "
            f"{MAX_ITEM_CHARS} characters each",
        )
    return out


def _frequency(value: str | None) -> str:
    value = value or "daily"
    if value not in FREQUENCIES:
        raise PageError(400, f"unknown frequency {value!r}: choose daily or weekly")
    return value


def _page(request: Request, mode: str, status_code: int = 200, **ctx: object) -> HTMLResponse:
    ctx.setdefault("token", "")
    ctx.setdefault("sub", None)
    ctx.setdefault("req", None)
    return render(
        request,
        "digest.html",
        status_code=status_code,
        title=f"Email digest · {request.app.state.settings.site_name}",
        mode=mode,
        csrf_field=csrf_field,
        frequencies=FREQUENCIES,
        **ctx,
    )


def _subscription(request: Request, token: str | None):
    settings = request.app.state.settings
    try:
        inner = read_manage_token(settings, token or "")
    except BadToken as exc:
        raise PageError(400, f"{exc}: use the link from your latest digest") from None
    sub = request.app.state.ctx.digests.subscription(inner)
    if sub is None:
        raise PageError(
            404,
            "this link no longer works: subscribe again from any page",
            [("Latest papers", "/")],
        )
    return sub


def _confirm_request(request: Request, token: str | None) -> SubscribeRequest:
    try:
        return read_confirm_token(request.app.state.settings, token or "")
    except BadToken as exc:
        hint = "subscribe again" if exc.expired else "use the link from the email"
        raise PageError(400, f"{exc}: {hint}", [("Latest papers", "/")]) from None


def confirmation_message(request: Request, req: SubscribeRequest) -> EmailMessage:
    settings = request.app.state.settings
    url = (
        settings.public_url.rstrip("/")
        + "/digest/confirm?"
        + urlencode({"token": confirm_token(settings, req)})
    )
    msg = EmailMessage()
    msg["Subject"] = f"Confirm your {settings.site_name} digest"
    msg["From"] = sender(settings)
    msg["To"] = req.email
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid("confirm", domain=site_host(settings))
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(
        f"Someone, hopefully you, asked for a {req.frequency} digest of {settings.site_name} "
        f"at {req.email}.\n\nConfirm it here:\n{url}\n\nThe link works for "
        f"{settings.digest_confirm_hours} hours. If you did not ask for this, ignore this "
        "email: nothing is sent until you confirm.\n"
    )
    html = request.app.state.jinja.get_template("email_confirm.html").render(
        req=req, url=url, site_name=settings.site_name, hours=settings.digest_confirm_hours
    )
    msg.add_alternative(html, subtype="html")
    return msg


def _send_confirmation(settings, msg: EmailMessage) -> None:
    try:
        send_one(settings, msg)
    except Exception as exc:  # logged: the reader can send the form again
        log.warning("confirmation email to %s failed: %s", msg["To"], exc)


def _account_email(request: Request) -> str:
    """A form without an address: the signed-in account's (the session says whose, never
    the form).  Still double opt-in: the account's address was never verified."""
    user = request.scope.get("paperwire.user")  # set by the community middleware
    if user is None:
        raise PageError(400, "type your email address in the form and send it again")
    if not getattr(user, "email", None):
        raise PageError(
            400,
            "your account has no email address: add one, or type an address in the form",
            [("Add an email address", "/settings/email")],
        )
    return user.email


@router.post("/digest/subscribe", response_class=HTMLResponse)
async def subscribe(request: Request, tasks: BackgroundTasks) -> HTMLResponse:
    form = await request.form()
    email = str(form.get("email") or "").strip().lower()
    if not email:
        email = _account_email(request)
    if len(email) > 254 or not EMAIL.match(email):
        raise PageError(400, f"{email!r} is not an email address: check it and send the form again")
    req = SubscribeRequest(
        email=email,
        frequency=_frequency(str(form.get("frequency") or "")),
        topics=split_items(str(form.get("topics") or "")),
        organizations=split_items(str(form.get("organizations") or "")),
        send_empty=bool(form.get("send_empty")),
        authors=split_items(str(form.get("authors") or "")),
    )
    limiter = _limiter(request)
    ip = request.client.host if request.client else "unknown"
    wait = limiter.hit("ip", ip) or limiter.hit("email", email)
    if wait:
        raise PageError(429, f"too many subscription requests: try again in {wait // 60 + 1} min")
    msg = confirmation_message(request, req)
    tasks.add_task(_send_confirmation, request.app.state.settings, msg)
    # The same answer whether or not the address is subscribed: nothing to enumerate.
    return _page(request, "check", req=req)


@router.get("/digest/confirm", response_class=HTMLResponse)
def confirm_page(request: Request, token: str | None = None) -> HTMLResponse:
    return _page(request, "confirm", req=_confirm_request(request, token), token=token)


@router.post("/digest/confirm", response_class=HTMLResponse)
async def confirm(request: Request) -> HTMLResponse:
    form = await request.form()
    token = str(form.get("token") or "")
    req = _confirm_request(request, token)
    sub = request.app.state.ctx.digests.subscribe(
        req.email, req.frequency, req.topics, req.organizations, req.send_empty, req.authors
    )
    mtoken = manage_token(request.app.state.settings, sub.token)
    return _page(request, "confirmed", sub=sub, token=mtoken)


@router.get("/digest/manage", response_class=HTMLResponse)
def manage_page(request: Request, token: str | None = None) -> HTMLResponse:
    return _page(request, "manage", sub=_subscription(request, token), token=token)


@router.post("/digest/manage", response_class=HTMLResponse)
async def manage(request: Request) -> HTMLResponse:
    form = await request.form()
    token = str(form.get("token") or "")
    sub = _subscription(request, token)
    if not sub.active:
        return _page(request, "unsubscribed", sub=sub, token=token)
    request.app.state.ctx.digests.update(
        sub.token,
        _frequency(str(form.get("frequency") or "")),
        split_items(str(form.get("topics") or "")),
        split_items(str(form.get("organizations") or "")),
        bool(form.get("send_empty")),
        foryou=bool(form.get("foryou")),
        authors=split_items(str(form.get("authors") or "")),
    )
    sub = request.app.state.ctx.digests.subscription(sub.token)
    return _page(request, "manage", sub=sub, token=token, saved=True)


@router.get(UNSUBSCRIBE, response_class=HTMLResponse)
def unsubscribe_page(request: Request, token: str | None = None) -> HTMLResponse:
    return _page(request, "unsubscribe", sub=_subscription(request, token), token=token)


@router.post(UNSUBSCRIBE, response_class=HTMLResponse)
async def unsubscribe(request: Request, token: str | None = None) -> HTMLResponse:
    """The button's POST and RFC 8058's one-click POST (``List-Unsubscribe=One-Click``)."""
    if not token:
        form = await request.form()
        token = str(form.get("token") or "")
    sub = _subscription(request, token)
    request.app.state.ctx.digests.unsubscribe(sub.token)
    return _page(request, "unsubscribed", sub=sub, token=token)
