"""The whole community flow over HTTP (no browser): sign up, sign in, submit, upvote,
comment, follow, sign out; forged CSRF and GET mutations refused; hostile text inert."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from html import unescape

import pytest
from fastapi.testclient import TestClient

from community_support import PASSWORD, ArxivReplay, community_settings, hf_paper, token
from conftest import FIXTURES
from paperwire.community.repository import Community
from paperwire.context import open_store
from paperwire.web.app import create_app


@pytest.fixture
def today() -> date:
    """The server's "today" (UTC), read when the test starts, not when the module was
    collected: submissions are listed on the server's day, and a suite may run across
    midnight.  A test starting in a UTC day's last minute waits for the next day."""
    now = datetime.now(UTC)
    left = (datetime.combine(now.date() + timedelta(days=1), dtime.min, UTC) - now).total_seconds()
    if left < 60:
        time.sleep(left + 0.5)
    return datetime.now(UTC).date()


@pytest.fixture
def arxiv():
    if not (FIXTURES / "arxiv-api").exists():
        pytest.skip(f"shared fixtures missing: {FIXTURES / 'arxiv-api'}")
    with ArxivReplay(FIXTURES / "arxiv-api") as server:
        yield server


@pytest.fixture
def site(settings, arxiv, today):
    cfg = community_settings(settings, arxiv_api_url=arxiv.url, submission_window_days=0)
    store = open_store(cfg)
    store.import_records([hf_paper(1, 10, today, org="acme"), hf_paper(2, 3, today)])
    with TestClient(create_app(cfg, store), follow_redirects=False) as client:
        yield client, store
    store.close()


def _post(client, url, page, **data):
    """POST a form with the CSRF token found on ``page``."""
    html = client.get(page).text
    return client.post(url, data={"csrf_token": token(html), **data})


def test_whole_flow(site, today):
    client, store = site
    # sign up (signs in), sign out, sign in again
    r = _post(client, "/signup", "/signup", username="alice", password=PASSWORD, fullname="Al")
    assert r.status_code == 303, r.text
    assert "alice" in client.get("/").text
    assert _post(client, "/logout", "/").status_code == 303
    home = client.get("/").text
    assert "Sign in" in home and "/users/alice" not in home
    r = _post(client, "/login", "/login", username="alice", password="wrong password")
    assert r.status_code == 400 and "Wrong username or password" in r.text
    r = _post(client, "/login", "/login", username="alice", password=PASSWORD, next="/papers/week")
    assert r.status_code == 303 and r.headers["location"] == "/papers/week"

    # submit a paper by URL: fetched through the arXiv client, listed today, submitted by alice
    r = _post(
        client, "/papers/submit", "/papers/submit", paper="https://arxiv.org/abs/1605.08386v1"
    )
    assert r.status_code == 303 and r.headers["location"] == "/papers/1605.08386"
    page = client.get("/papers/1605.08386").text
    assert "Heat-bath random walks with Markov bases" in page and "Al" in page
    day = client.get("/api/daily_papers", params={"date": today.isoformat()}).json()
    mine = [d for d in day if d["paper"]["id"] == "1605.08386"]
    assert mine and mine[0]["paper"]["submittedOnDailyBy"]["name"] == "alice"
    # the same paper again, and a paper already on HF's list: refused politely
    r = _post(client, "/papers/submit", "/papers/submit", paper="1605.08386")
    assert r.status_code == 409 and "already on" in r.text
    r = _post(client, "/papers/submit", "/papers/submit", paper="arXiv:2608.00001")
    assert r.status_code == 409 and "Hugging Face" in r.text
    r = _post(client, "/papers/submit", "/papers/submit", paper="not an id")
    assert r.status_code == 400 and "not an arXiv id" in r.text

    # upvote: one number (HF + local) and the split on the paper page
    r = _post(client, "/papers/2608.00001/upvote", "/papers/2608.00001")
    assert r.status_code == 303
    page = client.get("/papers/2608.00001").text
    assert "10 on Hugging Face + 1 here" in page
    assert client.get("/api/papers/2608.00001").json()["upvotes"] == 11
    assert Community.of(store).votes.vote_state("2608.00001").total == 11
    # the daily list shows and ranks by the total
    day = client.get("/api/daily_papers", params={"date": today.isoformat()}).json()
    assert {d["paper"]["id"]: d["paper"]["upvotes"] for d in day}["2608.00001"] == 11
    assert store.listed(today, sort="upvotes").items[0].upvotes == 11
    # trending: the page says why, the API sorts by the same score
    trending = client.get("/papers/trending").text
    assert "Why trending:" in trending and "11 upvotes, listed" in trending
    ranked = client.get("/api/daily_papers", params={"sort": "trending"}).json()
    assert ranked[0]["paper"]["id"] == "2608.00001"
    ranked = client.get(
        "/api/daily_papers", params={"sort": "trending", "date": today.isoformat()}
    ).json()
    assert ranked[0]["paper"]["id"] == "2608.00001"

    # comment: plain text, links kept, counted in numComments
    r = _post(
        client,
        "/papers/2608.00001/comments",
        "/papers/2608.00001",
        body="Nice.\n\nCode: https://example.org/code?a=1&b=2.",
    )
    assert r.status_code == 303
    page = client.get("/papers/2608.00001").text
    assert '<a href="https://example.org/code?a=1&amp;b=2" rel="nofollow noopener ugc">' in page
    assert client.get("/api/papers/2608.00001").json()["numComments"] == 1
    day = client.get("/api/daily_papers", params={"date": today.isoformat()}).json()
    assert {d["paper"]["id"]: d["numComments"] for d in day}["2608.00001"] == 1

    # follow the organization
    r = _post(client, "/organizations/acme/follow", "/organizations/acme")
    assert r.status_code == 303
    org = client.get("/organizations/acme").text
    assert "1 follower" in org and "Unfollow" in org

    # the user page lists upvotes and submissions
    user = client.get("/users/alice").text
    assert "Heat-bath random walks" in user and "Paper 1" in user

    # sign out: the old session is gone; voting now asks to sign in and changes nothing
    assert _post(client, "/logout", "/").status_code == 303
    r = _post(client, "/papers/2608.00002/upvote", "/papers/2608.00002")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert Community.of(store).votes.vote_state("2608.00002").local == 0


def test_forged_csrf_and_get_mutations_are_refused(site):
    client, store = site
    _post(client, "/signup", "/signup", username="bob", password=PASSWORD)
    assert client.get("/").text.count("bob") >= 1
    for url in ("/papers/2608.00001/upvote", "/logout", "/organizations/acme/follow"):
        assert client.post(url, data={"csrf_token": "forged"}).status_code == 403
        assert client.post(url).status_code == 403
        assert client.post(url, headers={"X-CSRF-Token": "forged"}).status_code == 403
        assert client.get(url).status_code == 405
    assert client.get("/papers/2608.00001/comments").status_code == 405
    assert client.get("/api/papers/2608.00001/upvote").status_code == 405
    assert Community.of(store).votes.vote_state("2608.00001").local == 0
    assert Community.of(store).orgs.followers("acme") == []
    # a forged sign-in (login CSRF) is refused too
    fresh = TestClient(client.app, follow_redirects=False)
    assert fresh.post("/login", data={"username": "bob", "password": PASSWORD}).status_code == 403
    # the API works with the header token from /api/whoami
    csrf = client.get("/api/whoami").json()["csrfToken"]
    r = client.post("/api/papers/2608.00001/upvote?vote=1", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json()["upvotes"] == 11 and r.json()["localUpvotes"] == 1


def test_hostile_text_renders_inert(site, today):
    client, store = site
    store.import_records(
        [
            hf_paper(
                9,
                1,
                today,
                title='<script>alert("t")</script>Evil',
                abstract='<img src=x onerror=alert("a")> <a href="javascript:alert(1)">x</a>',
                github_repo="javascript:alert(1)",
                project_page="javascript:alert(2)",
            )
        ]
    )
    _post(client, "/signup", "/signup", username="mallory", password=PASSWORD)
    body = (
        '<script>alert("c")</script>\n<img src=x onerror=alert(1)>\n'
        'javascript:alert(3) [x](javascript:alert(4)) https://ok.example/"onmouseover=alert(5)'
    )
    assert _post(client, "/papers/2608.00009/comments", "/papers/2608.00009", body=body)
    for url in ("/papers/2608.00009", f"/papers/date/{today.isoformat()}", "/users/mallory"):
        html = client.get(url).text
        assert "<script>alert" not in html
        assert "<img src=x" not in html
        assert 'href="javascript:' not in html and "href='javascript:" not in html
        assert "onmouseover=alert" not in html or "&#34;onmouseover" in html
    html = client.get("/papers/2608.00009").text
    assert "&lt;script&gt;alert" in html and "onerror=alert" in html  # shown, as text
    assert '<a href="https://ok.example/" rel="nofollow noopener ugc">' in html


def _signed_out_sees(reader: TestClient, store, arxiv_id: str, comments: list[str]) -> None:
    page = unescape(reader.get(f"/papers/{arxiv_id}").text)
    state = Community.of(store).votes.vote_state(arxiv_id)
    assert state.local > 0 and f"{state.total} upvote" in page
    assert f"{state.hf} on Hugging Face + {state.local} here" in page
    for body in comments:
        assert body in page
    assert ("No comments yet." in page) == (not comments)
    assert "hidden by a moderator" not in page


def test_comments_edit_delete_and_hide(site):
    client, store = site
    _post(client, "/signup", "/signup", username="carol", password=PASSWORD)
    _post(client, "/papers/2608.00001/comments", "/papers/2608.00001", body="first")
    (c,) = Community.of(store).comments.comments("2608.00001")
    _post(client, f"/comments/{c.id}/edit", "/papers/2608.00001", body="first, edited")
    assert Community.of(store).comments.comment(c.id).body == "first, edited"
    # a reader who is not signed in sees the comment and the vote split (from the paper's
    # own counts, not asked again: they must agree with the database)
    _post(client, "/papers/2608.00001/upvote", "/papers/2608.00001")
    reader = TestClient(client.app, follow_redirects=False)
    _signed_out_sees(reader, store, "2608.00001", ["first, edited"])
    # someone else cannot edit or delete it, nor hide it without being an admin
    other = TestClient(client.app, follow_redirects=False)
    _post(other, "/signup", "/signup", username="dave", password=PASSWORD)
    assert _post(other, f"/comments/{c.id}/edit", "/", body="x").status_code == 403
    assert _post(other, f"/comments/{c.id}/delete", "/").status_code == 403
    assert _post(other, f"/comments/{c.id}/hide", "/").status_code == 403
    Community.of(store).accounts.set_admin("dave")
    assert _post(other, f"/comments/{c.id}/hide", "/").status_code == 303
    assert Community.of(store).comments.comments("2608.00001") == []
    assert client.get("/api/papers/2608.00001").json()["numComments"] == 0
    assert "hidden by a moderator" in other.get("/papers/2608.00001").text
    _signed_out_sees(reader, store, "2608.00001", [])  # hidden: not for readers
    _post(other, f"/comments/{c.id}/hide", "/", hidden="0")
    assert _post(client, f"/comments/{c.id}/delete", "/").status_code == 303
    assert Community.of(store).comments.comment(c.id) is None


def test_submission_window_and_arxiv_down(settings, arxiv):
    cfg = community_settings(settings, arxiv_api_url=arxiv.url)  # default 14-day window
    store = open_store(cfg)
    Community.of(store).accounts.create_user("erin", "x")
    with TestClient(create_app(cfg, store), follow_redirects=False) as client:
        accounts = Community.of(store).accounts
        accounts.set_password_hash(accounts.user("erin").id, _hash(cfg))
        _post(client, "/login", "/login", username="erin", password=PASSWORD)
        r = _post(client, "/papers/submit", "/papers/submit", paper="1605.08386")
        assert r.status_code == 422 and "14 days" in r.text and "2016-05-26" in r.text
        arxiv.down = True
        r = _post(client, "/papers/submit", "/papers/submit", paper="1707.08567")
        assert r.status_code == 503 and "Cannot fetch arXiv metadata right now" in r.text
        csrf = client.get("/api/whoami").json()["csrfToken"]
        r = client.post(
            "/api/papers/submit", json={"paperId": "1707.08567"}, headers={"X-CSRF-Token": csrf}
        )
        assert r.status_code == 503 and "right now" in r.json()["error"]
    assert store.paper("1707.08567") is None
    store.close()


def _hash(cfg):
    from paperwire.community.passwords import hash_password

    return hash_password(PASSWORD, cfg.argon2_profile)


def test_api_submit_and_org_membership(settings, arxiv):
    cfg = community_settings(settings, arxiv_api_url=arxiv.url, submission_window_days=0)
    store = open_store(cfg)
    Community.of(store).accounts.create_user("fay", _hash(cfg))
    Community.of(store).orgs.add_member("lab", "fay")
    with TestClient(create_app(cfg, store), follow_redirects=False) as client:
        _post(client, "/login", "/login", username="fay", password=PASSWORD)
        csrf = client.get("/api/whoami").json()["csrfToken"]
        r = client.post(
            "/api/papers/submit",
            json={"paperId": "1707.08567", "organization": "nope"},
            headers={"X-CSRF-Token": csrf},
        )
        assert r.status_code == 403
        r = client.post(
            "/api/papers/submit",
            json={"paperId": "1707.08567", "organization": "lab"},
            headers={"X-CSRF-Token": csrf},
        )
        assert r.status_code == 201, r.text
        assert r.json()["id"] == "1707.08567" and r.json()["organization"]["name"] == "lab"
        assert "1707.08567" in client.get("/organizations/lab").text
        day = client.get("/api/daily_papers", params={"submitter": "fay"}).json()
        assert [d["paper"]["id"] for d in day] == ["1707.08567"]
    store.close()


def test_login_is_rate_limited(settings):
    cfg = community_settings(settings, login_rate_limit="3/minute")
    store = open_store(cfg)
    with TestClient(create_app(cfg, store), follow_redirects=False) as client:
        codes = [
            _post(client, "/login", "/login", username="x", password="y" * 8).status_code
            for _ in range(4)
        ]
        assert codes == [400, 400, 400, 429]
    store.close()


def test_password_change_signs_out_other_sessions(settings):
    cfg = community_settings(settings)
    store = open_store(cfg)
    Community.of(store).accounts.create_user("gus", _hash(cfg))
    app = create_app(cfg, store)
    with TestClient(app, follow_redirects=False) as a, TestClient(app) as b:
        for c in (a, b):
            _post(c, "/login", "/login", username="gus", password=PASSWORD)
        assert "/users/gus" in b.get("/").text
        r = _post(
            a,
            "/settings/password",
            "/settings/password",
            current=PASSWORD,
            new="another long one",
            confirm="another long one",
        )
        assert r.status_code == 200 and "Password changed" in r.text
        assert "/users/gus" in a.get("/").text
        assert "/users/gus" not in b.get("/").text
    store.close()
