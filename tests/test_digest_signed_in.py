"""Signed-in digest subscriptions: the account's email address, no retyping.

Real SMTP (aiosmtpd on loopback), the real app under uvicorn over HTTP, on SQLite and
PostgreSQL.  The account's address was never verified, so the confirmation email still
goes out (double opt-in); the signed-in reader only skips typing it.
"""

from __future__ import annotations

import time

import httpx
import pytest
from sqlalchemy import create_engine, inspect, text

from community_support import PASSWORD, community_settings
from conftest import LiveServer
from digest_data import Inbox, csrf, hidden_token, link, load
from paperwire.community.repository import Community
from paperwire.community.views import EmailTaken
from paperwire.context import open_store
from paperwire.digest.repository import DigestRepository
from paperwire.store.db import migrate
from paperwire.web.app import create_app
from test_digest import digest_settings


@pytest.fixture
def site(settings, smtp):
    """The app under uvicorn, an SMTP inbox, and a store with the digest corpus."""
    controller, inbox = smtp
    cfg = community_settings(
        digest_settings(settings, controller.port), signup_rate_limit="100/hour"
    )
    store = open_store(cfg)
    load(store)
    with LiveServer(create_app(cfg, store)) as server:
        cfg.public_url = server.url
        yield server, store, inbox
    store.close()


def _client(server) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=10)


def _signup(web: httpx.Client, username: str, email: str = "") -> httpx.Response:
    page = web.get("/signup").text
    data = {"username": username, "password": PASSWORD, "email": email, **csrf(page)}
    return web.post("/signup", data=data)


def _footer_form(html: str) -> str:
    start = html.index('<form class="digest-form"')
    return html[start : html.index("</form>", start)]


def _quiet(inbox: Inbox, seconds: float = 0.8) -> None:
    """No message arrives (the confirmation is sent in a background task)."""
    time.sleep(seconds)
    assert inbox.messages == []


def test_signed_in_reader_subscribes_without_typing_the_address(site):
    server, store, inbox = site
    with _client(server) as web:
        assert _signup(web, "ada", email="  Ada@Example.ORG ").status_code == 303
        assert web.post("/logout", data=csrf(web.get("/").text)).status_code == 303
        page = web.get("/login").text
        data = {"username": "ada", "password": PASSWORD, **csrf(page)}
        assert web.post("/login", data=data).status_code == 303

        home = web.get("/").text
        form = _footer_form(home)
        assert "Subscribe as ada@example.org" in form
        assert 'name="email"' not in form  # nothing to retype

        # The POST carries no email field at all: the account's address is used.
        data = {"frequency": "weekly", "topics": "skill learning", **csrf(home)}
        r = web.post("/digest/subscribe", data=data)
        assert r.status_code == 200 and "Check your inbox" in r.text, r.text
        assert "ada@example.org" in r.text
        assert (
            DigestRepository(store.engine).subscription_by_email("ada@example.org") is None
        )  # not yet

        # Still double opt-in: the unverified address gets a confirmation email.
        (mail,) = inbox.wait(1)
        assert mail["To"] == "ada@example.org"
        assert inbox.messages[0][0] == ["ada@example.org"]  # the SMTP envelope too
        page = web.get(link(mail, "/digest/confirm"))
        assert page.status_code == 200 and "ada@example.org" in page.text
        r = web.post("/digest/confirm", data={"token": hidden_token(page.text), **csrf(page.text)})
        assert r.status_code == 200 and "You are subscribed" in r.text

    sub = DigestRepository(store.engine).subscription_by_email("ada@example.org")
    assert sub and sub.active and sub.email == "ada@example.org"
    assert sub.frequency == "weekly" and sub.topics == ["skill learning"]


def test_signed_in_without_email_gets_a_clear_message_and_can_add_one(site):
    server, store, inbox = site
    with _client(server) as web:
        assert _signup(web, "bob").status_code == 303
        home = web.get("/").text
        form = _footer_form(home)
        assert 'name="email"' in form and 'href="/settings/email"' in form
        assert "Subscribe as" not in form

        r = web.post("/digest/subscribe", data={"frequency": "daily", **csrf(home)})
        assert r.status_code == 400
        assert "your account has no email address" in r.text
        assert "/settings/email" in r.text
        # The normal form still works for him: he types an address.
        data = {"email": "bob@example.net", "frequency": "daily", **csrf(home)}
        assert web.post("/digest/subscribe", data=data).status_code == 200
        assert inbox.wait(1)[0]["To"] == "bob@example.net"

        # Set it on the account page: a POST with CSRF; without the token it is refused.
        assert web.post("/settings/email", data={"email": "bob@example.org"}).status_code == 403
        assert Community.of(store).accounts.user("bob").email is None
        page = web.get("/settings/email").text
        r = web.post("/settings/email", data={"email": "Bob@Example.org", **csrf(page)})
        assert r.status_code == 200 and "bob@example.org" in r.text
        assert Community.of(store).accounts.user("bob").email == "bob@example.org"
        assert "Subscribe as bob@example.org" in _footer_form(web.get("/").text)

        r = web.post("/settings/email", data={"email": "not an address", **csrf(page)})
        assert r.status_code == 400 and "is not an email address" in r.text
        assert Community.of(store).accounts.user("bob").email == "bob@example.org"
        assert web.post("/settings/email", data={"email": "", **csrf(page)}).status_code == 200
        assert Community.of(store).accounts.user("bob").email is None

    with _client(server) as anon:  # signed out, the page needs a sign-in
        r = anon.get("/settings/email")
        assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_signup_email_is_validated_and_unique(site):
    server, store, _ = site
    with _client(server) as web:
        r = _signup(web, "carol", email="carol@")
        assert r.status_code == 400 and "is not an email address" in r.text
        assert Community.of(store).accounts.user("carol") is None
        assert _signup(web, "carol", email="carol@example.org").status_code == 303
    with _client(server) as other:
        r = _signup(other, "carol2", email="CAROL@example.org")
        assert r.status_code == 400 and "belongs to another account" in r.text
        assert Community.of(store).accounts.user("carol2") is None
        assert _signup(other, "dave").status_code == 303  # no address: any number of them
        assert _signup(other, "erin").status_code == 303
        page = other.get("/settings/email").text
        r = other.post("/settings/email", data={"email": "carol@example.org", **csrf(page)})
        assert r.status_code == 400 and "belongs to another account" in r.text
    with pytest.raises(EmailTaken):
        accounts = Community.of(store).accounts
        accounts.set_user_email(accounts.user("dave").id, "Carol@Example.org")


def test_forged_posts_cannot_subscribe_an_accounts_address(site):
    server, store, inbox = site
    with _client(server) as victim:
        assert _signup(victim, "frank", email="frank@example.org").status_code == 303
        # CSRF still enforced for signed-in readers: the session cookie alone is not enough.
        r = victim.post("/digest/subscribe", data={"frequency": "daily"})
        assert r.status_code == 403
        r = victim.post("/digest/subscribe", data={"frequency": "daily", "csrf_token": "forged"})
        assert r.status_code == 403

    with _client(server) as attacker:
        # No session at all: refused before the route runs.
        r = attacker.post("/digest/subscribe", data={"frequency": "daily", "username": "frank"})
        assert r.status_code == 403
        # Its own (anonymous) session and token: the form names nobody's account, so an
        # address must be typed; naming the victim does not make the account's address used.
        home = attacker.get("/").text
        for extra in ({}, {"username": "frank"}, {"user": "frank", "email": ""}):
            data = {"frequency": "daily", **extra, **csrf(home)}
            r = attacker.post("/digest/subscribe", data=data)
            assert r.status_code == 400 and "type your email address" in r.text
    _quiet(inbox)
    assert DigestRepository(store.engine).subscription_by_email("frank@example.org") is None


def test_migration_adds_the_column_to_an_existing_database(db_url):
    """From empty to 0004 (accounts without addresses), then to the heads with 0005."""
    engine = create_engine(db_url)
    try:
        migrate(engine, "0004_community")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO users (username, password_hash, is_admin, created_at) "
                    "VALUES ('old', 'x', false, CURRENT_TIMESTAMP)"
                )
            )
        assert "email" not in {c["name"] for c in inspect(engine).get_columns("users")}
        migrate(engine)
        assert "email" in {c["name"] for c in inspect(engine).get_columns("users")}
        indexes = {i["name"]: i for i in inspect(engine).get_indexes("users")}
        assert indexes["ix_users_email"]["unique"]
        with engine.begin() as conn:
            assert conn.scalar(text("SELECT email FROM users WHERE username = 'old'")) is None
    finally:
        engine.dispose()
