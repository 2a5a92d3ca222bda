"""Wiring the community into the web app: routers, session and CSRF middleware, Jinja globals.

``paperwire.web.app`` adds :data:`ROUTERS` to its extra routers and calls :func:`install`.
Templates get ``csrf_field()`` (the hidden field every POST form includes),
``current_user()``, ``current_path()`` and the ``comment_html`` filter.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware

from paperwire.community import accounts, comments, orgs, submit, votes
from paperwire.community.helpers import SignInFirst, answer_sign_in_first
from paperwire.community.repository import Community
from paperwire.community.security import (
    CommunityMiddleware,
    RateLimiter,
    csrf_exempt,
    csrf_field,
    current_path,
    current_user_global,
)
from paperwire.community.text import comment_html

ROUTERS = [accounts.router, accounts.api, votes.router, submit.router, comments.router, orgs.router]
SESSION_COOKIE = "paperwire_session"

__all__ = ["ROUTERS", "csrf_exempt", "install", "session_options"]


def session_options(settings) -> dict:
    """The session cookie's settings (``SessionMiddleware``'s arguments): one place, so the
    page cache's lane (web/cache_lane.py) reads and writes the very same cookie."""
    return {
        "secret_key": settings.resolved_secret_key(),
        "session_cookie": SESSION_COOKIE,
        "max_age": settings.session_days * 86400,
        "same_site": "lax",
        "https_only": settings.public_url.startswith("https://"),
    }


def install(app: FastAPI) -> None:
    """Add the session and CSRF middleware, the rate limiter and the template helpers."""
    settings = app.state.settings
    app.state.rate_limiter = RateLimiter(settings.rate_limit_storage)
    env = app.state.jinja
    env.globals.update(
        csrf_field=csrf_field, current_user=current_user_global, current_path=current_path
    )
    env.filters["comment_html"] = comment_html
    app.add_exception_handler(SignInFirst, answer_sign_in_first)
    # Added last = runs first: SessionMiddleware decodes the cookie for CommunityMiddleware.
    app.state.community = Community.of(app.state.store)
    app.add_middleware(CommunityMiddleware, accounts=app.state.community.accounts)
    app.add_middleware(SessionMiddleware, **session_options(settings))
