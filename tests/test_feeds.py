"""RSS 2.0 and Atom feeds, parsed with feedparser (no bozo), on SQLite and PostgreSQL."""

from __future__ import annotations

import feedparser
import pytest
from fastapi.testclient import TestClient

from digest_data import ACME, D22, load, record
from paperwire.context import open_store
from paperwire.web.app import create_app

PUBLIC = "https://papers.example.org"
HOSTILE = record("2608.00031", 'Escapes <b>&amp; \x0bcontrol</b> "quotes"', D22, 7, org=ACME)


@pytest.fixture
def client(settings):
    s = settings.model_copy(update={"public_url": PUBLIC, "embed_on_import": False})
    store = open_store(s)
    load(store)
    load(store, [HOSTILE])
    with TestClient(create_app(s, store)) as c:
        yield c
    store.close()


def parse(client, url: str, kind: str):
    r = client.get(url)
    assert r.status_code == 200, (url, r.text[:300])
    assert r.headers["content-type"].startswith(f"application/{kind}+xml")
    feed = feedparser.parse(r.content)
    assert not feed.bozo, (url, feed.bozo_exception)
    assert feed.version.startswith("rss20" if kind == "rss" else "atom10")
    for entry in feed.entries:
        assert entry.link.startswith(PUBLIC + "/papers/")
    return feed


@pytest.mark.parametrize("ext,kind", [("xml", "rss"), ("atom", "atom")])
def test_feeds_parse_and_hold_the_right_papers(client, ext, kind):
    daily = parse(client, f"/feeds/daily.{ext}", kind)
    ids = [e.link.rsplit("/", 1)[1] for e in daily.entries]
    assert set(ids[:2]) == {"2608.00031", "2608.00021"}  # the newest day first
    assert len(ids) == 8
    hostile = next(e for e in daily.entries if e.link.endswith("2608.00031"))
    if kind == "atom":  # text survives, as text
        assert hostile.title_detail.type == "text/plain" and "<b>" in hostile.title
    else:  # RSS readers take <title> as HTML: the tag arrives escaped, shown as text
        assert "&lt;b&gt;" in hostile.title and "<b>" not in hostile.title

    trending = parse(client, f"/feeds/trending.{ext}", kind)
    assert trending.entries and trending.entries[0].title

    search = parse(client, f"/feeds/search.{ext}?q=skill+learning", kind)
    found = {e.link.rsplit("/", 1)[1] for e in search.entries}
    assert {"2608.00001", "2608.00011", "2608.00021"} <= found

    org = parse(client, f"/feeds/org/acme-lab.{ext}", kind)
    assert sorted(e.link.rsplit("/", 1)[1] for e in org.entries) == ["2608.00014", "2608.00031"]


def test_feed_errors_and_alternate_links(client):
    assert client.get("/feeds/org/nobody.xml").status_code == 404
    assert client.get("/feeds/search.xml").status_code == 400
    page = client.get("/papers/date/2026-08-21").text
    assert 'rel="alternate" type="application/rss+xml"' in page
    assert 'href="/feeds/daily.atom"' in page
    org_page = client.get("/organizations/acme-lab").text
    assert 'href="/feeds/org/acme-lab.xml"' in org_page
