"""Author pages (issue #17): /authors/{name}, its API, feeds, follow button, the author filter
of search (API and CLI), and followed authors in the digest; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import feedparser
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from community_support import PASSWORD, hf_paper, token
from paperwire.authors.names import author_feed_url, author_url, display, key
from paperwire.community.repository import Community
from paperwire.context import open_store
from paperwire.web.app import create_app

DAY = date(2026, 8, 10)
ADA = "Ada Lovelace"


def _papers():
    """Three papers by Ada (three spellings), one by a longer name, one whose author list
    runs "Ada" and "Lovelace" together across two people, and one without her."""
    return [
        hf_paper(1, 5, DAY, org="acme", authors=(ADA, "Charles Babbage"), title="Engines one"),
        hf_paper(
            2, 40, DAY + timedelta(days=3), authors=("ada  lovelace", "Charles Babbage"),
            title="Engines two",
        ),
        hf_paper(
            3, 1, DAY + timedelta(days=9), org="acme", authors=("Mary Somerville", "Ａda Lovelace"),
            title="Engines three",
        ),
        hf_paper(4, 2, DAY, authors=("Ada Lovelace-Byron",), title="Engines four"),
        hf_paper(5, 2, DAY, authors=("Grace Ada", "Lovelace Smith"), title="Engines five"),
        hf_paper(6, 9, DAY, authors=("Charles Babbage",), title="Engines six"),
        hf_paper(7, 1, DAY + timedelta(days=8), authors=("Charles Babbage",), title="Gears"),
    ]  # fmt: skip


@pytest.fixture
def site(settings):
    cfg = settings.model_copy(update={"argon2_profile": "CHEAPEST", "embed_on_import": False})
    store = open_store(cfg)
    store.import_records(_papers())
    with TestClient(create_app(cfg, store), follow_redirects=False) as client:
        yield client, store, cfg
    store.close()


def test_names_compare_after_unicode_and_space_normalization():
    assert display("  Ａda \t Lovelace ") == "Ada Lovelace"
    assert key("ADA  LOVELACE") == key("Ａda Lovelace") == "ada lovelace"
    assert key("Ada Lovelace-Byron") != key(ADA)
    assert author_url("Ada  Lovelace") == "/authors/Ada%20Lovelace"


def test_author_api_page_and_feeds(site):
    client, _store, _cfg = site
    r = client.get("/api/authors/ada lovelace")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["name"] == ADA  # the spelling most of her papers use
    assert body["numPapers"] == 3
    # newest first; neither the longer name nor the list that runs the words together
    assert [p["paper"]["id"] for p in body["papers"]] == ["2608.00003", "2608.00002", "2608.00001"]
    assert body["coauthors"] == [{"name": "Charles Babbage", "papers": 2}]
    assert body["organizations"] == [{"name": "acme", "fullname": "Acme", "papers": 2}]
    assert body["firstPublished"] == DAY.isoformat()
    by_votes = client.get("/api/authors/Ada Lovelace", params={"sort": "upvotes"}).json()
    assert [p["paper"]["id"] for p in by_votes["papers"]] == [
        "2608.00002",
        "2608.00001",
        "2608.00003",
    ]
    since = client.get("/api/authors/Ada Lovelace", params={"from": "2026-08-12", "limit": 1})
    assert since.json()["numMatching"] == 2 and since.headers["x-total-count"] == "2"
    assert [p["paper"]["id"] for p in since.json()["papers"]] == ["2608.00003"]
    assert client.get("/api/authors/Nobody Known").status_code == 404
    for bad in (
        {"sort": "stars"},
        {"from": "yesterday"},
        {"from": "2026-09-01", "to": "2026-08-01"},
    ):
        r = client.get("/api/authors/Ada Lovelace", params=bad)
        assert r.status_code == 400 and "error" in r.json()

    page = client.get("/authors/Ada%20Lovelace")
    assert page.status_code == 200
    html = page.text
    assert html.count('<article class="card">') == 3
    assert "can belong to several people" in html
    assert 'href="/authors/Charles%20Babbage"' in html  # co-authors link to their pages
    assert 'href="/feeds/author/Ada%20Lovelace.xml"' in html
    assert client.get("/authors/Nobody%20Known").status_code == 404
    # every card and paper page links its authors here
    paper = client.get("/papers/2608.00001").text
    assert 'href="/authors/Ada%20Lovelace"' in paper

    for ext in ("xml", "atom"):
        feed = feedparser.parse(client.get(f"/feeds/author/Ada%20Lovelace.{ext}").content)
        assert not feed.bozo
        assert len(feed.entries) == 3
        assert "Ada Lovelace" in feed.feed.title


def test_coauthors_most_papers_first_then_by_name(settings):
    """The co-author list: most papers together first, ties by name, only those with more
    than one paper together when there are any, else the first twelve by name; each shown
    as their first paper writes them."""
    crowd = [f"Member {c}" for c in "NMLKJIHGFEDCBA"]  # 14 names, each on one paper
    papers = [
        hf_paper(1, 0, DAY, authors=(ADA, "zed Quill", "Bob Ray", *crowd[:7])),
        hf_paper(2, 0, DAY, authors=("Amy Ng", ADA, "Zed  Quill", *crowd[7:])),
        hf_paper(3, 0, DAY, authors=(ADA, "Amy Ng", "Bob Ray", "Zed Quill")),
        hf_paper(4, 0, DAY, authors=("Solo Writer", *crowd)),
    ]
    cfg = settings.model_copy(update={"embed_on_import": False})
    store = open_store(cfg)
    try:
        store.import_records(papers)
        with TestClient(create_app(cfg, store)) as client:
            ada = client.get("/api/authors/Ada Lovelace").json()["coauthors"]
            solo = client.get("/api/authors/Solo Writer").json()["coauthors"]
    finally:
        store.close()
    assert ada == [
        {"name": "zed Quill", "papers": 3},
        {"name": "Amy Ng", "papers": 2},
        {"name": "Bob Ray", "papers": 2},
    ]
    assert [c["name"] for c in solo] == sorted(crowd)[:12]
    assert {c["papers"] for c in solo} == {1}


def test_a_name_with_a_slash_has_its_page_api_and_feed(settings):
    """Author lists carry affiliations written as names ("Inria / Irma"): the link on the
    card, the page, the API and the feeds take the name whole, slash included."""
    name = "Matthieu Hillairet (IMT/MIP)"
    cfg = settings.model_copy(update={"embed_on_import": False})
    store = open_store(cfg)
    try:
        store.import_records([hf_paper(1, 0, DAY, authors=(name, ADA), title="Fluids")])
        with TestClient(create_app(cfg, store)) as client:
            link = author_url(name)
            assert link == "/authors/Matthieu%20Hillairet%20%28IMT%2FMIP%29"
            assert f'href="{link}"' in client.get("/papers/2608.00001").text
            page = client.get(link)
            assert page.status_code == 200 and "Fluids" in page.text
            api = client.get("/api/authors/" + link.removeprefix("/authors/"))
            assert api.status_code == 200 and api.json()["name"] == name
            assert [c["name"] for c in api.json()["coauthors"]] == [ADA]
            feed = feedparser.parse(client.get(author_feed_url(name, "atom")).content)
            assert not feed.bozo and [e.title for e in feed.entries] == ["Fluids"]
            assert client.get("/authors/Matthieu%20Hillairet%20%28IMT").status_code == 404
    finally:
        store.close()


def test_search_filters_by_author(site):
    client, store, cfg = site
    for mode in ("hybrid", "lexical"):
        r = client.get(
            "/api/papers/search", params={"q": "engines", "author": "ADA LOVELACE", "mode": mode}
        )
        assert r.status_code == 200
        ids = {i["paper"]["id"] for i in r.json()}
        # exactly her papers: not the longer name, not the list that runs the words together
        assert ids == {"2608.00001", "2608.00002", "2608.00003"}, mode
    wide = client.get("/api/papers/search", params={"q": "engines"}).json()
    assert "2608.00006" in {i["paper"]["id"] for i in wide}
    long_name = "x" * 201
    assert (
        client.get("/api/papers/search", params={"q": "e", "author": long_name}).status_code == 400
    )

    from paperwire.cli import app

    db = ["--db", cfg.database_url]
    env = {"PAPERWIRE_DATA_DIR": str(cfg.data_dir)}
    listing = CliRunner().invoke(app, ["search", "--author", "ada lovelace", *db], env=env)
    assert listing.exit_code == 0, listing.output
    assert "3 paper(s) by Ada Lovelace" in listing.output
    assert listing.output.index("2608.00003") < listing.output.index("2608.00001")
    both = CliRunner().invoke(
        app, ["search", "engines", "--author", "Charles Babbage", "--mode", "lexical", *db], env=env
    )
    assert both.exit_code == 0, both.output
    assert "2608.00006" in both.output and "2608.00003" not in both.output
    missing = CliRunner().invoke(app, ["search", "--author", "Nobody Known", *db], env=env)
    assert missing.exit_code == 1 and "No paper has an author" in missing.output


def test_follow_an_author(site):
    client, store, _cfg = site
    page = client.get("/authors/Ada%20Lovelace").text
    assert "Sign in</a> to follow" in page
    # a POST without signing in goes to sign in; a GET changes nothing
    assert client.get("/authors/Ada%20Lovelace/follow").status_code == 405
    html = client.get("/signup").text
    client.post(
        "/signup", data={"csrf_token": token(html), "username": "ann", "password": PASSWORD}
    )
    page = client.get("/authors/Ada%20Lovelace").text
    forged = client.post("/authors/Ada%20Lovelace/follow", data={"csrf_token": "x"})
    assert forged.status_code == 403
    r = client.post("/authors/Ada%20Lovelace/follow", data={"csrf_token": token(page)})
    assert r.status_code == 303 and r.headers["location"] == "/authors/Ada%20Lovelace"
    page = client.get("/authors/ada%20lovelace").text  # any spelling: the same follow
    assert "1 follower<" in page and ">Unfollow<" in page
    from paperwire.authors.repository import AuthorRepository

    user = Community.of(store).accounts.user("ann")
    assert AuthorRepository(store.engine).followed(user.id) == [ADA]
    nobody = client.post("/authors/Nobody%20Known/follow", data={"csrf_token": token(page)})
    assert nobody.status_code == 404
    r = client.post(
        "/authors/Ada%20Lovelace/follow", data={"csrf_token": token(page), "follow": "0"}
    )
    assert r.status_code == 303
    assert AuthorRepository(store.engine).followed(user.id) == []
    assert "0 followers" in client.get("/authors/Ada%20Lovelace").text


def test_digest_has_a_section_per_followed_author(site):
    from paperwire.authors.repository import AuthorRepository
    from paperwire.digest.compose import Composer
    from paperwire.digest.repository import DigestRepository
    from paperwire.digest.schedule import weekly_period
    from paperwire.search.indexer import open_index

    _client, store, cfg = site
    digests = DigestRepository(store.engine)
    # an address without an account names the author; an account follows one on the site
    digests.subscribe("reader@example.org", "weekly", [], [], authors=["ada lovelace"])
    bea = Community.of(store).accounts.create_user("bea", "x", email="bea@example.org")
    AuthorRepository(store.engine).follow(bea.id, "Charles Babbage")
    digests.subscribe("bea@example.org", "weekly", [], [])
    assert digests.subscription_by_email("reader@example.org").authors == ["ada lovelace"]
    period = weekly_period(date(2026, 8, 17))  # 17-23 August: papers 3 and 7 only
    quiet = cfg.model_copy(update={"digest_trending": 0})
    composer = Composer(store, quiet, index=lambda: open_index(quiet))
    got = {}
    for claim in digests.due("weekly", period.key):
        d = composer.compose(claim, period)
        got[claim.subscription.email] = {s.title: [i.arxiv_id for i in s.items] for s in d.sections}
    assert got["reader@example.org"] == {"Author: ada lovelace": ["2608.00003"]}
    assert got["bea@example.org"] == {"Author: Charles Babbage": ["2608.00007"]}
