"""The page cache's lane (web/cache_lane.py): a cached page reaches a signed-out reader
before the session and community middleware, with exactly the answer the whole stack gives
(status, headers, body, 304s), the reader's own working CSRF token, and a new session for a
first visit, a forged cookie or an expired one (those two from the stack).  Real app, real
store (both databases)."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner

from community_support import PASSWORD, cached_site_store, token
from paperwire.community.web import SESSION_COOKIE
from paperwire.web.app import create_app
from paperwire.web.cache_lane import CachedHitLane

TODAY = datetime.now(UTC).date()
DAY = f"/papers/date/{TODAY.isoformat()}"


@pytest.fixture
def apps(settings):
    cfg, store = cached_site_store(settings, TODAY)
    with_lane = create_app(cfg, store)
    stack = create_app(cfg, store)  # the same app without the lane: the whole stack answers
    stack.user_middleware = [m for m in stack.user_middleware if m.cls is not CachedHitLane]
    assert len(stack.user_middleware) == len(with_lane.user_middleware) - 1
    yield cfg, store, with_lane, stack
    store.close()


def _lane(app) -> CachedHitLane:
    layer = app.middleware_stack
    while not isinstance(layer, CachedHitLane):
        layer = layer.app
    return layer


def _shape(r, tok: str | None) -> tuple:
    """An answer with the reader's own values (token, cookie, the ETag's token part) blanked."""
    headers = []
    for k, v in r.headers.multi_items():
        if k == "set-cookie":
            v = re.sub(r"^paperwire_session=[^;]+", "paperwire_session=*", v)
        if k == "etag":
            v = re.sub(r"\.[0-9a-f]+\"$", '.*"', v)
        headers.append((k, v))
    body = r.text.replace(tok, "TOKEN") if tok else r.text
    return r.status_code, headers, body


def test_the_lane_answers_exactly_as_the_whole_stack(apps):
    _cfg, _store, with_lane, stack = apps
    with TestClient(with_lane) as a, TestClient(stack) as b:
        for path in (DAY, "/papers/2608.00001", "/api/daily_papers"):
            a.get(path), b.get(path)  # rendered and stored by each app's page cache
            for client in (a, b):
                client.cookies.clear()
            lane_first, stack_first = a.get(path), b.get(path)  # first visits: new sessions
            ta = token(lane_first.text) if "csrf_token" in lane_first.text else None
            tb = token(stack_first.text) if "csrf_token" in stack_first.text else None
            assert _shape(lane_first, ta) == _shape(stack_first, tb)
            # returning readers (each app's own cookie), then a revalidation
            lane_again, stack_again = a.get(path), b.get(path)
            assert _shape(lane_again, ta) == _shape(stack_again, tb)
            assert "set-cookie" not in lane_again.headers
            etag_a, etag_b = lane_again.headers["etag"], stack_again.headers["etag"]
            r_a = a.get(path, headers={"If-None-Match": etag_a})
            r_b = b.get(path, headers={"If-None-Match": etag_b})
            assert r_a.status_code == 304 and _shape(r_a, None) == _shape(r_b, None)
        assert _lane(with_lane).known  # the returning readers went through the lane


def test_a_returning_reader_is_verified_once_and_their_token_works(apps):
    _cfg, _store, with_lane, _stack = apps
    with TestClient(with_lane, follow_redirects=False) as client:
        rendered = client.get(DAY)  # a miss: rendered, stored, and the reader's session made
        lane, cache = _lane(with_lane), with_lane.state.page_cache
        hits, known = cache.hits, len(lane.known)
        first = client.get(DAY)  # their cookie verified once ...
        assert cache.hits == hits + 1 and len(lane.known) == known + 1
        again = client.get(DAY)  # ... and remembered
        assert cache.hits == hits + 2 and len(lane.known) == known + 1
        assert token(again.text) == token(first.text) == token(rendered.text)
        r = client.post("/papers/2608.00001/upvote", data={"csrf_token": token(again.text)})
        assert r.status_code == 303 and "/login" in r.headers["location"]  # not a 403
    # a first visit answered by the lane: the session and cookie it made work in the stack
    with TestClient(with_lane, follow_redirects=False) as newcomer:
        hits = cache.hits
        page = newcomer.get(DAY)
        assert cache.hits == hits + 1 and SESSION_COOKIE in page.headers["set-cookie"]
        r = newcomer.post("/papers/2608.00001/upvote", data={"csrf_token": token(page.text)})
        assert r.status_code == 303 and "/login" in r.headers["location"]
        r = newcomer.post("/papers/2608.00001/upvote", data={"csrf_token": token(again.text)})
        assert r.status_code == 403  # another reader's token


def _cookie(cfg, session_json: bytes, signed_at: int) -> str:
    import base64

    class At(TimestampSigner):
        def get_timestamp(self) -> int:
            return signed_at

    signed = At(cfg.resolved_secret_key()).sign(base64.b64encode(session_json))
    return f"{SESSION_COOKIE}={signed.decode()}"


def test_forged_and_expired_cookies_get_a_new_session(apps):
    cfg, _store, with_lane, _stack = apps
    old = b'{"csrf": "an-old-token-of-this-reader-xxxxxxxxxxxx"}'
    with TestClient(with_lane) as client:
        client.get(DAY)
        now = int(time.time())
        fresh = _cookie(cfg, old, now)
        r = client.get(DAY, headers={"Cookie": fresh})
        assert "set-cookie" not in r.headers and token(r.text) == old.decode()[10:-2]
        expired = _cookie(cfg, old, now - cfg.session_days * 86400 - 60)
        forged = fresh[:-3] + ("AAA" if not fresh.endswith("AAA") else "BBB")
        for cookie in (expired, forged):
            client.cookies.clear()
            r = client.get(DAY, headers={"Cookie": cookie})
            assert r.status_code == 200 and SESSION_COOKIE in r.headers["set-cookie"]
            assert token(r.text) != old.decode()[10:-2]
        # a remembered cookie is checked for its age on every request: past it, the lane
        # forgets it and the stack decides from the cookie itself (still valid here)
        lane = _lane(with_lane)
        known = next(k for k in lane.known if fresh.encode() in k)
        session, signed = lane.known[known]
        lane.known[known] = (session, now - cfg.session_days * 86400 - 60)
        client.cookies.clear()
        r = client.get(DAY, headers={"Cookie": fresh})
        assert known not in lane.known and "set-cookie" not in r.headers
        assert token(r.text) == old.decode()[10:-2]
        client.get(DAY, headers={"Cookie": fresh})
        assert lane.known[known] == (session, signed)  # verified again


def test_a_signed_in_reader_never_gets_the_stored_page(apps):
    _cfg, _store, with_lane, _stack = apps
    with TestClient(with_lane, follow_redirects=False) as alice, TestClient(with_lane) as anon:
        html = alice.get("/signup").text
        r = alice.post(
            "/signup", data={"csrf_token": token(html), "username": "alice", "password": PASSWORD}
        )
        assert r.status_code == 303, r.text
        anon.get(DAY), anon.get(DAY)  # stored after the sign-up's commit, and served
        cache = with_lane.state.page_cache
        hits = cache.hits
        page = alice.get(DAY)
        assert "/users/alice" in page.text and cache.hits == hits
        assert "/users/alice" not in anon.get(DAY).text and cache.hits == hits + 1
