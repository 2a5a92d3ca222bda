"""The anonymous response cache (web/cache.py): fresh after writes, never shared with signed-in
readers, a reader's own CSRF token on every cached page, ETags and Cache-Control."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from community_support import PASSWORD, cached_site_store, community_settings, hf_paper, token
from paperwire.community.repository import Community
from paperwire.context import open_store
from paperwire.web.app import create_app

TODAY = datetime.now(UTC).date()
DAY = f"/papers/date/{TODAY.isoformat()}"


@pytest.fixture
def site(settings):
    cfg, store = cached_site_store(settings, TODAY)
    app = create_app(cfg, store)
    with TestClient(app, follow_redirects=False) as client:
        yield client, store, app
    store.close()


def _cache(app):
    return app.state.page_cache


def test_second_anonymous_get_is_a_hit_and_an_import_shows_at_once(site):
    client, store, app = site
    first = client.get(DAY)
    assert first.status_code == 200 and "Paper 1" in first.text
    misses, hits = _cache(app).misses, _cache(app).hits
    again = client.get(DAY)
    assert again.text == first.text
    assert (_cache(app).misses, _cache(app).hits) == (misses, hits + 1)

    store.import_records([hf_paper(3, 50, TODAY, title="Freshly imported paper")])
    assert "Freshly imported paper" in client.get(DAY).text
    assert "Freshly imported paper" in client.get("/").text
    api = client.get("/api/daily_papers", params={"date": TODAY.isoformat()}).json()
    assert "2608.00003" in [item["paper"]["id"] for item in api]


def test_collection_edits_and_follows_by_another_process_show_at_once(site, settings):
    """Anonymous readers get a public collection's page and an author page from the cache;
    an edit of the collection or a follow written by another process (another engine: the
    cache's commit hook does not see it) shows within page_cache_check (0 here)."""
    from paperwire.authors.repository import AuthorRepository
    from paperwire.collections.repository import CollectionRepository
    from paperwire.search.follow import IndexFollower
    from paperwire.search.indexer import open_index

    client, store, app = site
    owner = Community.of(store).accounts.create_user("curator", "x")
    store.import_records([hf_paper(7, 1, TODAY, authors=("Ada Lovelace",))])
    IndexFollower(open_index(app.state.settings), store).step()  # (this site indexes later)
    cid = CollectionRepository(store.engine).create(owner.id, "Cached list", public=True)
    other = open_store(community_settings(settings))
    try:
        repo, follows = CollectionRepository(other.engine), AuthorRepository(other.engine)
        assert "This collection is empty." in client.get(f"/collections/{cid}").text
        hits = _cache(app).hits
        assert "This collection is empty." in client.get(f"/collections/{cid}").text
        assert _cache(app).hits == hits + 1  # served from the cache
        repo.add(cid, owner.id, store.paper_id("2608.00001"))
        assert "Paper 1" in client.get(f"/collections/{cid}").text
        repo.update(cid, owner.id, "Renamed list", "", True)
        assert "<h1>Renamed list</h1>" in client.get(f"/collections/{cid}").text
        assert "0 followers" in client.get("/authors/Ada%20Lovelace").text
        follows.follow(owner.id, "Ada Lovelace")
        assert "1 follower<" in client.get("/authors/Ada%20Lovelace").text
        follows.follow(owner.id, "Ada Lovelace", on=False)
        assert "0 followers" in client.get("/authors/Ada%20Lovelace").text
        repo.delete(cid, owner.id)
        assert client.get(f"/collections/{cid}").status_code == 404
    finally:
        other.close()


def test_a_write_by_another_process_shows_on_the_next_request(site, settings):
    client, _store, _app = site
    assert "Written elsewhere" not in client.get(DAY).text
    other = open_store(community_settings(settings))  # its own engine: another process
    try:
        other.import_records([hf_paper(4, 99, TODAY, title="Written elsewhere")])
    finally:
        other.close()
    assert "Written elsewhere" in client.get(DAY).text


def test_each_reader_gets_their_own_csrf_token_from_the_cached_page(site):
    client, _store, app = site
    with TestClient(app, follow_redirects=False) as other:
        mine, theirs = client.get(DAY), other.get(DAY)
        assert _cache(app).hits >= 1
        assert token(mine.text) != token(theirs.text)
        assert "paperwire-csrf-token" not in theirs.text
        # the token on the cached page is the one in the reader's session: the form works
        r = other.post("/papers/2608.00001/upvote", data={"csrf_token": token(theirs.text)})
        assert r.status_code == 303 and "/login" in r.headers["location"]
        r = other.post("/papers/2608.00001/upvote", data={"csrf_token": token(mine.text)})
        assert r.status_code == 403


def test_signed_in_pages_are_never_cached_nor_served_from_the_cache(site):
    client, _store, app = site
    anonymous = client.get(DAY).text
    html = client.get("/signup").text
    r = client.post(
        "/signup", data={"csrf_token": token(html), "username": "alice", "password": PASSWORD}
    )
    assert r.status_code == 303, r.text
    hits = _cache(app).hits
    page = client.get(DAY)
    assert "/users/alice" in page.text and "/users/alice" not in anonymous
    assert page.headers["cache-control"] == "private, no-cache"
    assert "etag" not in page.headers
    client.get(DAY)
    assert _cache(app).hits == hits  # neither signed-in request touched the cache

    # a vote by alice shows to signed-out readers at once, and her page was not stored
    r = client.post("/papers/2608.00002/upvote", data={"csrf_token": token(page.text)})
    assert r.status_code == 303
    with TestClient(app) as stranger:
        seen = stranger.get(DAY).text
        assert "/users/alice" not in seen and "Sign in" in seen
        assert stranger.get("/api/papers/2608.00002").json()["upvotes"] == 4


def test_etag_answers_304_until_the_data_changes(site):
    client, store, _app = site
    first = client.get(DAY)
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "private, no-cache"  # it carries the session
    assert first.headers["vary"] == "Accept, Cookie"  # the key holds Accept's kind too
    r = client.get(DAY, headers={"If-None-Match": etag})
    assert r.status_code == 304 and r.content == b""
    store.import_records([hf_paper(1, 11, TODAY, org="acme")])  # one more upvote on HF
    r = client.get(DAY, headers={"If-None-Match": etag})
    assert r.status_code == 200 and r.headers["etag"] != etag


def test_api_answers_without_a_session_carry_no_cookie_and_revalidate(site):
    _client, _store, app = site
    with TestClient(app) as api:
        r = api.get("/api/daily_papers", params={"sort": "trending"})
        again = api.get("/api/daily_papers", params={"sort": "trending"})
    assert r.status_code == again.status_code == 200
    assert r.json() == again.json()
    assert "set-cookie" not in again.headers
    assert again.headers["cache-control"] == "no-cache" and again.headers["etag"]


def test_ttl_zero_turns_the_cache_off(settings):
    cfg = community_settings(settings, page_cache_ttl=0)
    store = open_store(cfg)
    try:
        app = create_app(cfg, store)
        assert app.state.page_cache is None
        store.import_records([hf_paper(1, 10, TODAY)])
        with TestClient(app) as client:
            r = client.get(DAY)
        assert r.status_code == 200 and "etag" not in r.headers
    finally:
        store.close()


def test_least_recently_used_answers_go_first_when_full(store):
    from paperwire.web.cache import Entry, ResponseCache

    cache = ResponseCache(store, ttl=60, check=1, max_bytes=8000)  # eight answers of 1000 B

    def entry(n: int) -> Entry:
        return Entry(cache.version, 1e18, 200, [], (b"x" * 1000,), 1000, str(n))

    for n in range(8):
        cache.put(("k", n), entry(n))
    assert cache.get(("k", 0)) is not None  # now the most recently used
    cache.put(("k", 8), entry(8))
    assert cache.get(("k", 1)) is None and cache.get(("k", 0)) is not None
    assert cache.size == 8000
    cache.bump()  # the data changed: nothing old is served
    assert cache.get(("k", 8)) is None


def test_a_serving_worker_freezes_what_it_loaded_at_start(settings):
    """A real worker (an app that opens its own store) puts its start-up objects out of the
    garbage collector's reach: full collections over them were the hot path's p99 pauses.
    An app handed a store (the tests') freezes nothing."""
    import gc

    gc.unfreeze()
    try:
        with TestClient(create_app(settings.model_copy(update={"index_follow_interval": 0}))):
            frozen = gc.get_freeze_count()
        gc.unfreeze()
        store = open_store(settings)
        with TestClient(create_app(settings, store)):
            assert gc.get_freeze_count() == 0
        store.close()
    finally:
        gc.unfreeze()
    assert frozen > 50_000  # the modules alone are well over this
