"""Accounts: sign up, sign in, sign out, change password, a user's page, whoami."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from paperwire.community.helpers import (
    community_of,
    end_session,
    post_only,
    rate_limited,
    require_user,
    safe_next,
    see_other,
    settings_of,
    start_session,
    store_of,
)
from paperwire.community.passwords import (
    email_problem,
    hash_password,
    needs_rehash,
    password_problem,
    username_problem,
    verify_password,
)
from paperwire.community.security import csrf_token, current_user
from paperwire.community.views import EmailTaken, UsernameTaken
from paperwire.ui.api_schema import Whoami
from paperwire.ui.templating import PageError, render

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["community"])
post_only(router, "/logout")
EMAIL_TAKEN = "That email address belongs to another account."


def _form(request: Request, name: str, status: int = 200, **ctx) -> HTMLResponse:
    ctx.setdefault("error", None)
    ctx.setdefault("message", None)
    ctx.setdefault("next", safe_next(request.query_params.get("next")))
    titles = {
        "signin.html": "Sign in",
        "signup.html": "Sign up",
        "password.html": "Password",
        "account_email.html": "Email address",
    }
    site = settings_of(request).site_name
    return render(request, name, status_code=status, title=f"{titles[name]} · {site}", **ctx)


@router.get("/signup", response_class=HTMLResponse)
def signup_form(request: Request) -> Response:
    return _form(request, "signup.html", username="", fullname="", email="")


@router.post("/signup")
def signup(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    fullname: str = Form(""),
    email: str = Form(""),
    next: str = Form("/"),
) -> Response:
    settings = settings_of(request)
    rate_limited(request, "signup", settings.signup_rate_limit)
    username, fullname = username.strip(), fullname.strip()[:255]
    email = email.strip().lower()
    problem = (
        username_problem(username)
        or (email_problem(email) if email else None)
        or password_problem(password, username)
    )
    if problem is None:
        try:
            user = community_of(request).accounts.create_user(
                username,
                hash_password(password, settings.argon2_profile),
                fullname=fullname or None,
                email=email or None,
            )
        except UsernameTaken:
            problem = f"The username {username!r} is taken; pick another or sign in."
        except EmailTaken:
            problem = EMAIL_TAKEN
    if problem:
        return _form(
            request,
            "signup.html",
            400,
            error=problem,
            username=username,
            fullname=fullname,
            email=email,
            next=safe_next(next),
        )
    start_session(request, user)
    return see_other(safe_next(next))


@router.get("/login", response_class=HTMLResponse)
def signin_form(request: Request) -> Response:
    return _form(request, "signin.html", username="")


@router.post("/login")
def signin(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    next: str = Form("/"),
) -> Response:
    settings = settings_of(request)
    rate_limited(request, "login", settings.login_rate_limit)
    if username.strip():
        rate_limited(request, "login-account", settings.login_account_rate_limit, username.strip())
    accounts = community_of(request).accounts
    found = accounts.user_credentials(username.strip())
    stored = found[1] if found else None
    if found is None or not verify_password(stored, password, settings.argon2_profile):
        return _form(
            request,
            "signin.html",
            400,
            error="Wrong username or password.",
            username=username.strip(),
            next=safe_next(next),
        )
    user, stored = found
    if needs_rehash(stored, settings.argon2_profile):
        accounts.set_password_hash(user.id, hash_password(password, settings.argon2_profile))
    start_session(request, user)
    return see_other(safe_next(next))


@router.post("/logout")
def signout(request: Request) -> Response:
    end_session(request)
    return see_other("/")


@router.get("/settings/password", response_class=HTMLResponse)
def password_form(request: Request) -> Response:
    require_user(request, "/settings/password")
    return _form(request, "password.html")


@router.post("/settings/password")
def change_password(
    request: Request,
    current: str = Form(""),
    new: str = Form(""),
    confirm: str = Form(""),
) -> Response:
    user = require_user(request, "/settings/password")
    settings = settings_of(request)
    rate_limited(request, "password", settings.login_rate_limit)
    accounts = community_of(request).accounts
    found = accounts.user_credentials(user.username)
    stored = found[1] if found else None  # (an account deleted meanwhile: "wrong")
    problem = None
    if not verify_password(stored, current, settings.argon2_profile):
        problem = "The current password is wrong."
    elif new != confirm:
        problem = "The two new passwords differ."
    else:
        problem = password_problem(new, user.username)
    if problem:
        return _form(request, "password.html", 400, error=problem)
    accounts.set_password_hash(user.id, hash_password(new, settings.argon2_profile))
    accounts.end_sessions(user.id)  # every other browser is signed out
    start_session(request, user)
    return _form(request, "password.html", message="Password changed; other sessions signed out.")


@router.get("/settings/email", response_class=HTMLResponse)
def email_form(request: Request) -> Response:
    user = require_user(request, "/settings/email")
    return _form(request, "account_email.html", email=user.email or "")


@router.post("/settings/email")
def change_email(request: Request, email: str = Form("")) -> Response:
    """Set, change or (empty) remove the account's address; it is never shown to others."""
    user = require_user(request, "/settings/email")
    email = email.strip().lower()
    problem = email_problem(email) if email else None
    if problem is None:
        try:
            community_of(request).accounts.set_user_email(user.id, email or None)
        except EmailTaken:
            problem = EMAIL_TAKEN
    if problem:
        return _form(request, "account_email.html", 400, error=problem, email=email)
    message = f"Your email address is now {email}." if email else "Email address removed."
    return _form(request, "account_email.html", message=message, email=email)


@router.get("/users/{username}", response_class=HTMLResponse)
def user_page(request: Request, username: str) -> Response:
    store, community = store_of(request), community_of(request)
    person = community.accounts.user(username)
    if person is None:
        raise PageError(404, f"there is no user {username!r} here.", [("Latest papers", "/")])
    submitted = store.listed(date.min, date.max, submitter=username, sort="publishedAt", limit=100)
    return render(
        request,
        "user.html",
        title=f"{person.display_name} · {settings_of(request).site_name}",
        person=person,
        upvoted=store.cards(community.votes.upvoted_by(username)),
        submitted=submitted.items,
        orgs=community.orgs.memberships(person.id),
        following=community.orgs.following(person.id),
    )


@api.get(
    "/whoami",
    summary="The signed-in user and the CSRF token for API writes",
    responses={200: {"model": Whoami, "description": "Who you are (nulls: signed out)"}},
)
def whoami(request: Request) -> JSONResponse:
    user = current_user(request)
    return JSONResponse(
        {
            "name": user.username if user else None,
            "fullname": user.fullname if user else None,
            "isAdmin": bool(user and user.is_admin),
            "csrfToken": csrf_token(request.session),
        }
    )
