"""Email digests end to end: real SMTP (aiosmtpd on loopback), the real app over HTTP,
messages parsed with the stdlib ``email`` package; on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from datetime import datetime

import httpx
import pytest
from itsdangerous import URLSafeSerializer

from conftest import LiveServer, free_port
from digest_data import (
    csrf,
    hidden_token,
    html_part,
    link,
    load,
    paper_ids,
    send,
    smtp_server,
    text_part,
)
from paperwire.context import open_store
from paperwire.digest.repository import DigestRepository
from paperwire.digest.tokens import MANAGE_SALT, Request, confirm_token
from paperwire.web.app import create_app

AUG22 = datetime(2026, 8, 22, 8, 0)  # the daily digest of the 21st is due
AUG23 = datetime(2026, 8, 23, 8, 0)
AUG24 = datetime(2026, 8, 24, 8, 0)


def digest_settings(settings, port: int, **extra):
    values = dict(
        smtp_host="127.0.0.1",
        smtp_port=port,
        digest_topic_search="keyword",
        search_index_on_import=False,
        digest_trending=2,
        digest_backoff=0.1,
        public_url="http://127.0.0.1:1",
    )
    values.update(extra)
    return settings.model_copy(update=values)


@pytest.fixture
def env(settings, smtp):
    controller, inbox = smtp
    s = digest_settings(settings, controller.port)
    store = open_store(s)
    load(store)
    yield s, store, inbox
    store.close()


def test_subscribe_confirm_digests_and_one_click_unsubscribe(env):
    settings, store, inbox = env
    app = create_app(settings, store)
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=10) as web:
        settings.public_url = server.url
        form = {
            "email": "Reader@Example.org",
            "frequency": "daily",
            "topics": "diffusion for video, skill learning",
            "organizations": "acme-lab",
            **csrf(web.get("/").text),
        }
        r = web.post("/digest/subscribe", data=form)
        assert r.status_code == 200 and "Check your inbox" in r.text
        assert (
            DigestRepository(store.engine).subscription_by_email("reader@example.org") is None
        )  # not yet

        (confirm_mail,) = inbox.wait(1)
        assert confirm_mail["To"] == "reader@example.org"
        page = web.get(link(confirm_mail, "/digest/confirm"))
        assert page.status_code == 200
        assert (
            DigestRepository(store.engine).subscription_by_email("reader@example.org") is None
        )  # GET: no change
        token = hidden_token(page.text)
        r = web.post("/digest/confirm", data={"token": token, **csrf(page.text)})
        assert r.status_code == 200 and "You are subscribed" in r.text
        sub = DigestRepository(store.engine).subscription_by_email("reader@example.org")
        assert sub and sub.active and sub.topics == ["diffusion for video", "skill learning"]

        # Period 1 (the 21st): trending first, then the topic, then the organization.
        report = send(store, settings, now=AUG22)
        assert report.sent == 1, report
        first = inbox.wait(2)[1]
        assert paper_ids(first) == ["2608.00011", "2608.00012", "2608.00013", "2608.00014"]
        text = text_part(first)
        assert "matches your topic 'diffusion for video'" in text
        assert "from acme-lab, which you follow" in text
        assert first["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert first["List-Id"] and first["Date"] and first["Message-ID"].startswith("<digest.")
        assert first.get_content_type() == "multipart/alternative"
        html = html_part(first)
        assert f'href="{server.url}/papers/2608.00011"' in html and "style=" in html
        assert "&lt;results&gt;" in html  # escaped

        # Period 2 (the 22nd): 2608.00013 is a candidate again (published then): not repeated.
        assert send(store, settings, now=AUG23).sent == 1
        second = inbox.wait(3)[2]
        assert paper_ids(second) == ["2608.00021"]
        assert "&lt;b&gt;Bold&lt;/b&gt;" in html_part(second)
        assert second["Message-ID"] != first["Message-ID"]
        # Running again sends nothing twice.
        assert send(store, settings, now=AUG23).sent == 0

        # Period 3 (the 23rd) has no papers: no email.
        report = send(store, settings, now=AUG24)
        assert (report.sent, report.empty) == (0, 1)
        assert len(inbox.messages) == 3
        statuses = [s for _, _, s in DigestRepository(store.engine).deliveries()]
        assert statuses == ["sent", "sent", "empty"]

        # The manage page is reached from the digest and changes the topics.
        manage = web.get(link(second, "/digest/manage"))
        assert manage.status_code == 200 and "skill learning" in manage.text
        data = {
            "token": hidden_token(manage.text),
            "frequency": "weekly",
            "topics": "tokenizers",
            "organizations": "",
            **csrf(manage.text),
        }
        assert web.post("/digest/manage", data=data).status_code == 200
        sub = DigestRepository(store.engine).subscription_by_email("reader@example.org")
        assert (sub.frequency, sub.topics) == ("weekly", ["tokenizers"])

        # The unsubscribe link's GET only asks; RFC 8058 one-click POST, no cookie, no CSRF.
        url = second["List-Unsubscribe"].strip("<>")
        assert web.get(url).status_code == 200
        assert DigestRepository(store.engine).subscription_by_email("reader@example.org").active
        r = httpx.post(url, data={"List-Unsubscribe": "One-Click"}, timeout=10)
        assert r.status_code == 200, r.text
        assert not DigestRepository(store.engine).subscription_by_email("reader@example.org").active
        assert send(store, settings, now=datetime(2026, 8, 31, 8)).sent == 0


def test_forged_and_misused_tokens_are_refused(env):
    settings, store, _inbox = env
    sub = DigestRepository(store.engine).subscribe("a@example.org", "daily", [], [])
    app = create_app(settings, store)
    with LiveServer(app) as server:
        forged = URLSafeSerializer("not-the-secret", salt=MANAGE_SALT).dumps(sub.token)
        confirm = confirm_token(settings, Request("a@example.org", "daily", [], []))
        for token in (forged, confirm, "garbage", sub.token):
            r = httpx.post(f"{server.url}/digest/unsubscribe?token={token}", timeout=10)
            assert r.status_code == 400, (token, r.status_code)
            assert httpx.get(f"{server.url}/digest/manage?token={token}").status_code == 400
        r = httpx.get(f"{server.url}/digest/confirm?token={forged}")
        assert r.status_code == 400
    assert DigestRepository(store.engine).subscription_by_email("a@example.org").active


def test_expired_confirmation_link(env):
    settings, store, _inbox = env
    token = confirm_token(settings, Request("late@example.org", "daily", [], []))
    old = settings.model_copy(update={"digest_confirm_hours": 0})
    time.sleep(1.1)
    app = create_app(old, store)
    with LiveServer(app) as server:
        r = httpx.get(f"{server.url}/digest/confirm?token={token}")
        assert r.status_code == 400 and "expired" in r.text


def test_smtp_down_then_up_retries_without_loss(settings, smtp):
    _controller, inbox = smtp
    port = free_port()
    s = digest_settings(settings, port, digest_backoff=0.2, digest_retries=8)
    store = open_store(s)
    try:
        load(store)
        for i in range(3):
            DigestRepository(store.engine).subscribe(
                f"r{i}@example.org", "daily", ["skill learning"], []
            )
        result = {}
        sender = threading.Thread(target=lambda: result.update(report=send(store, s, now=AUG22)))
        sender.start()
        time.sleep(0.6)  # the server is down: the sender is retrying
        assert not inbox.messages
        controller = smtp_server(port, inbox)
        controller.start()
        try:
            sender.join(30)
            assert result["report"].sent == 3 and not result["report"].deferred
            assert sorted(m["To"] for m in inbox.parsed()) == [
                "r0@example.org",
                "r1@example.org",
                "r2@example.org",
            ]
        finally:
            controller.stop()
    finally:
        store.close()


def test_smtp_down_for_good_defers_then_next_run_sends(settings, smtp):
    controller, inbox = smtp
    s = digest_settings(settings, free_port(), digest_retries=1, digest_backoff=0.05)
    store = open_store(s)
    try:
        load(store)
        DigestRepository(store.engine).subscribe("x@example.org", "daily", [], [])
        DigestRepository(store.engine).subscribe("y@example.org", "daily", [], [])
        report = send(store, s, now=AUG22)
        assert (report.sent, report.deferred) == (0, 2)
        up = s.model_copy(update={"smtp_port": controller.port})
        assert send(store, up, now=AUG22).sent == 2
        assert send(store, up, now=AUG22).sent == 0
        assert len(inbox.messages) == 2
    finally:
        store.close()
