"""Server-rendered pages against real stores holding the recorded HF daily papers."""

from __future__ import annotations

import re
from datetime import date
from html import unescape

import pytest
from fastapi.testclient import TestClient
from starlette.routing import Match

from conftest import HF_DIR, KAGGLE_SAMPLE, needs_shared
from paperwire.context import open_store
from paperwire.settings import Settings
from paperwire.store.trending import TrendingRepository
from paperwire.web.app import create_app
from web_helpers import (
    HOSTILE_ABSTRACT,
    august_files,
    card_ids,
    cards,
    hf_ids,
    hostile_record,
    import_files,
    old_style_record,
    upvote_counts,
)

DAY = "2026-08-21"


@pytest.fixture(scope="module")
def site(tmp_path_factory, module_db_url):
    """One store (SQLite, then PostgreSQL) for the read-only page tests: August 2026, the
    Kaggle sample, and an old-style id."""
    needs_shared(HF_DIR)
    needs_shared(KAGGLE_SAMPLE)
    tmp = tmp_path_factory.mktemp("site")
    settings = Settings(data_dir=tmp / "data", database_url=module_db_url, secret_key="t")
    store = open_store(settings)
    import_files(store, [*august_files(HF_DIR), KAGGLE_SAMPLE])
    store.import_records([old_style_record()])
    with TestClient(create_app(settings, store)) as client:
        yield client
    store.close()


# -- on both SQLite and PostgreSQL --------------------------------------------------------
def test_day_week_month_on_both_backends(store, settings, shared_hf_dir):
    import_files(store, august_files(shared_hf_dir))
    client = TestClient(create_app(settings, store))

    html = client.get(f"/papers/date/{DAY}").text
    assert cards(html) == 17
    assert set(card_ids(html)) == set(hf_ids(shared_hf_dir, DAY))
    counts = upvote_counts(html)
    assert counts == sorted(counts, reverse=True) and counts[0] == 163

    week = client.get("/papers/week/2026-W34")
    assert week.status_code == 200
    in_week = set()
    for d in range(17, 22):
        in_week |= set(hf_ids(shared_hf_dir, f"2026-08-{d}"))
    week_ids = set(card_ids(week.text))
    assert cards(week.text) == 50 and week_ids <= in_week
    assert f"{len(in_week)} papers" in week.text

    month = client.get("/papers/month/2026-08")
    assert month.status_code == 200 and "331 papers" in month.text

    empty = client.get("/papers/date/2026-08-15").text
    assert cards(empty) == 0 and "No curated papers" in empty
    assert 'href="/papers/date/2026-08-14"' in empty and 'href="/papers/date/2026-08-17"' in empty


def test_empty_database_explains_import(store, settings):
    client = TestClient(create_app(settings, store))
    for url in ("/", f"/papers/date/{DAY}", "/papers/week/2026-W34", "/papers/month/2026-08"):
        r = client.get(url)
        assert r.status_code == 200, url
        assert "paperwire sync" in r.text and "paperwire import PATH" in r.text, url
        assert "../shared" not in r.text  # a path of the development set-up only


# -- the day page --------------------------------------------------------------------------
def test_home_is_latest_day(site):
    r = site.get("/", follow_redirects=False)
    assert r.status_code == 200
    assert cards(r.text) == 17 and "Friday, 21 August 2026" in r.text


def test_day_cards_show_what_a_reader_needs(site):
    html = site.get(f"/papers/date/{DAY}").text
    first = html[html.index('<article class="card">') : html.index("</article>")]
    assert 'href="/papers/2608.19880"' in first
    assert "EnvHarness: Awakening Static Worlds for Agent Learning" in first
    authors = re.search(r'<p class="authors">(.*?)</p>', first).group(1)
    assert re.sub(r"<[^>]+>", "", authors) == "Chengsong Huang, Zifeng Wang, Rujun Han et al."
    assert '<a href="/authors/Chengsong%20Huang">Chengsong Huang</a>' in authors
    assert '<span class="count">163</span>' in first
    assert 'href="/organizations/google"' in first and ">Google</span>" in first
    # Pages load nothing from outside: remote avatars become local initials.
    assert "cdn-avatars.huggingface.co" not in html and "<img" not in html
    assert "submitted by taesiri" in first
    assert 'href="https://github.com/google-research/envharness"' in first and "★ 8" in unescape(
        first
    )
    assert 'href="https://envharness.com/"' in first
    assert "<details>" in first and "<summary>Abstract</summary>" in first
    assert html.count('class="org"') == 17
    # navigation: previous/next day skip empty days; week and month links
    assert 'rel="prev" href="/papers/date/2026-08-20"' in html
    assert "no later day" in html
    assert 'href="/papers/week/2026-W34"' in html and 'href="/papers/month/2026-08"' in html
    # header on every page
    assert '<form class="search" action="/search" method="get"' in html


def test_sort_by_published_at(site):
    html = site.get("/papers/week/2026-W34?sort=publishedAt").text
    ids = card_ids(html)
    newest = set(hf_ids(HF_DIR, DAY))
    assert set(ids[: len(newest)]) == newest
    by_votes = upvote_counts(site.get("/papers/week/2026-W34").text)
    assert by_votes == sorted(by_votes, reverse=True)


@pytest.mark.parametrize(
    ("url", "start", "end"),
    [
        (f"/papers/date/{DAY}", date(2026, 8, 21), date(2026, 8, 21)),
        ("/papers/week/2026-W34", date(2026, 8, 17), date(2026, 8, 23)),
    ],
)
def test_sort_by_trending_is_the_documented_formula(site, url, start, end):
    store = site.app.state.store
    html = site.get(f"{url}?sort=trending").text
    expected = [
        i.paper.arxiv_id
        for i in TrendingRepository(store.engine).trending_in(start, end, limit=50).items
    ]
    assert card_ids(html) == expected
    assert card_ids(html) != card_ids(site.get(url).text)  # age counts: not the upvote order
    assert "<strong>trending</strong>" in html


def test_prev_next_skip_weekend(site):
    html = site.get("/papers/date/2026-08-17").text
    assert 'rel="prev" href="/papers/date/2026-08-14"' in html
    assert 'rel="next" href="/papers/date/2026-08-18"' in html


def test_week_and_month_link_back_to_days(site):
    week = site.get("/papers/week/2026-W34").text
    assert 'href="/papers/date/2026-08-21">Day view' in week
    for d in ("2026-08-17", "2026-08-18", "2026-08-19", "2026-08-20", DAY):
        assert f'href="/papers/date/{d}"' in week
    assert 'href="/papers/week/2026-W33"' in week and 'href="/papers/week/2026-W35"' in week
    month = site.get("/papers/month/2026-08").text
    assert 'href="/papers/month/2026-07"' in month and 'href="/papers/date/2026-08-03"' in month
    assert cards(month) == 50 and "Next page" in month
    page2 = site.get("/papers/month/2026-08?p=1").text
    assert cards(page2) == 50 and not set(card_ids(page2)) & set(card_ids(month))
    assert site.get("/papers/week", follow_redirects=False).headers["location"] == (
        "/papers/week/2026-W34"
    )
    assert site.get("/papers/month", follow_redirects=False).headers["location"] == (
        "/papers/month/2026-08"
    )


def test_empty_week_points_to_nearest_days(site):
    html = site.get("/papers/week/2026-W27").text  # 29 Jun to 5 Jul: July files not imported
    assert "No curated papers" in html and 'href="/papers/date/2026-08-03"' in html


def test_arxiv_tab_lists_snapshot_papers_by_category(site):
    day = "2007-04-02"
    html = site.get(f"/papers/date/{day}?tab=arxiv").text
    assert 'aria-current="page">arXiv' in html
    assert "?tab=arxiv&amp;category=hep-ph" in html
    all_count = int(re.search(r'aria-current="true">All <span class="n">(\d+)', html).group(1))
    assert all_count == 108
    hep = site.get(f"/papers/date/{day}?tab=arxiv&category=hep-ph").text
    assert 0 < cards(hep) < 50 and 'href="/papers/0704.0001"' in hep
    curated = site.get(f"/papers/date/{day}").text
    assert cards(curated) == 0  # arXiv papers never mix into the curated list
    assert site.get(f"/papers/date/{DAY}?tab=arxiv").status_code == 200


# -- one paper, its markdown, an organization ----------------------------------------------
def test_paper_page(site):
    r = site.get("/papers/2608.19880")
    assert r.status_code == 200
    html = r.text
    assert "<h1>EnvHarness: Awakening Static Worlds for Agent Learning</h1>" in html
    assert "Chen-Yu Lee" in html  # all authors
    assert 'href="https://github.com/google-research/envharness"' in html and "★ 8" in unescape(
        html
    )
    assert 'href="https://envharness.com/"' in html
    assert 'href="https://arxiv.org/pdf/2608.19880"' in html
    assert "▲ 163" in html and 'href="/organizations/google"' in html
    assert "Environment Harness" in html  # keyword chip
    assert f'href="/papers/date/{DAY}"' in html  # the day it was listed


def test_paper_ids_are_normalized(site):
    for raw in ("2608.19880v2", "arXiv:2608.19880"):
        r = site.get(f"/papers/{raw}", follow_redirects=False)
        assert r.status_code == 301 and r.headers["location"] == "/papers/2608.19880"


def test_old_style_and_snapshot_papers(site):
    r = site.get("/papers/hep-th/9901001")
    assert r.status_code == 200
    assert "Strings on old-style identifiers" in r.text and "Nucl.Phys. B550" in r.text
    assert 'href="https://arxiv.org/abs/hep-th/9901001"' in r.text
    assert "10.1016/S0550-3213(99)00001-1" in r.text and "12 pages, 3 figures" in r.text
    assert site.get("/papers/hep-th/9901001v2", follow_redirects=False).headers["location"] == (
        "/papers/hep-th/9901001"
    )
    md = site.get("/papers/hep-th/9901001.md")
    assert md.status_code == 200 and md.text.startswith("# Strings on old-style identifiers")
    snap = site.get("/papers/0704.0001")
    assert snap.status_code == 200 and "Phys.Rev.D76:013009,2007" in snap.text
    assert "hep-ph" in snap.text


def _first_route(app, path: str) -> int:
    """The position of the route that takes a GET of ``path`` (routes are tried in order)."""
    scope = {"type": "http", "method": "GET", "path": path, "root_path": "", "headers": []}
    routes = app.router.routes
    return next(i for i, r in enumerate(routes) if r.matches(dict(scope))[0] == Match.FULL)


def test_paper_and_day_pages_are_tried_first_and_take_no_other_address(site):
    """Readers ask for a paper or a day most: their routes come before the ninety others
    (about 0.1 ms a request at the end), and the paper's takes only a canonical id."""
    paper = _first_route(site.app, "/papers/2608.19880")
    assert paper <= 3 and _first_route(site.app, "/papers/hep-th/9901001") == paper
    assert _first_route(site.app, "/") <= 3
    assert _first_route(site.app, f"/papers/date/{DAY}") <= 3
    for other in (
        "/papers/trending",
        "/papers/submit",
        "/papers/jump",
        "/papers/week",
        "/papers/2608.19880.md",
        "/papers/2608.19880v2",
        "/papers/arXiv:2608.19880",
        "/papers/2608.19880/comments",
        "/papers/2608.19880/upvote",
        "/papers/hep-th/9901001.md",
    ):
        assert _first_route(site.app, other) != paper, other
    assert "Trending" in site.get("/papers/trending").text


def test_markdown(site):
    r = site.get("/papers/2608.19880.md")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/markdown")
    assert r.text.startswith("# EnvHarness: Awakening Static Worlds for Agent Learning\n")
    assert "https://github.com/google-research/envharness" in r.text
    assert "## Abstract" in r.text
    assert site.get("/papers/2609.00001.md").status_code == 404


def test_organization_page(site):
    r = site.get("/organizations/google")
    assert r.status_code == 200
    assert "<h1>Google</h1>" in r.text and cards(r.text) >= 1
    assert 'href="/papers/2608.19880"' in r.text
    missing = site.get("/organizations/no-such-org")
    assert missing.status_code == 404 and "no organization named" in missing.text


# -- errors: 4xx with help, never 500 ------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "status", "text"),
    [
        ("/papers/date/2026-13-45", 400, "not a valid date"),
        ("/papers/date/yesterday", 400, "YYYY-MM-DD"),
        ("/papers/week/2026-W60", 400, "not a valid ISO week"),
        ("/papers/week/2026-34", 400, "YYYY-Www"),
        ("/papers/month/2026-13", 400, "01 to 12"),
        ("/papers/month/august", 400, "YYYY-MM"),
        ("/papers/not-an-id", 400, "not an arXiv id"),
        ("/papers/2613.00001", 400, "month 13 is invalid"),
        ("/papers/2609.00001", 404, "is not in this database"),
        ("/papers/date/2026-08-21?sort=random", 400, "unknown sort"),
        ("/papers/date/2026-08-21?p=-1", 400, "cannot be negative"),
        ("/papers/date/2026-08-21?p=two", 400, "not a number"),
        ("/papers/date/2026-08-21?tab=nope", 400, "unknown tab"),
        ("/nowhere", 404, "Not Found"),
    ],
)
def test_bad_addresses_get_helpful_4xx(site, url, status, text):
    r = site.get(url)
    assert r.status_code == status, r.text[:300]
    assert text in r.text
    assert "text/html" in r.headers["content-type"] and 'href="/"' in r.text


def test_security_headers_and_static(site):
    r = site.get(f"/papers/date/{DAY}")
    assert r.headers["x-content-type-options"] == "nosniff"
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert r.headers["referrer-policy"]
    assert "<script" not in without_our_scripts(r.text).lower()  # ours only, never inline
    css = site.get("/static/style.css")
    assert css.status_code == 200 and "prefers-color-scheme: dark" in css.text
    assert "http" not in css.text  # no external fonts or CDNs
    docs = site.get("/docs")
    assert docs.status_code == 200 and "/api/daily_papers" in docs.text
    assert "<script" not in without_our_scripts(docs.text).lower()
    assert site.get("/openapi.json").json()["paths"]["/api/daily_papers"]


# -- untrusted text -------------------------------------------------------------------------
OUR_SCRIPT = re.compile(r'<script src="/static/(?:app\.js|vendor/[\w.-]+\.js)" defer></script>')


def without_our_scripts(html: str) -> str:
    """The page without its own external scripts (static/app.js, static/vendor/*.js)."""
    return OUR_SCRIPT.sub("", html)


def test_hostile_text_renders_inert(settings):
    store = open_store(settings)
    try:
        store.import_records([hostile_record(date(2026, 8, 21))])
        client = TestClient(create_app(settings, store))
        pages = [
            client.get("/papers/date/2026-08-21").text,
            client.get("/papers/2608.99999").text,
            client.get("/organizations/evil-org").text,
        ]
        for html in pages:
            low = without_our_scripts(html).lower()
            # (the organization page's own chart is an <svg role="img">; the hostile keyword
            # is an <svg onload=...>)
            assert "<script" not in low and "<img src=x" not in low and "<svg onload" not in low
            assert low.count("<svg") == low.count('<svg viewbox="0 0 600 100" preserveaspectratio')
            assert "javascript:" not in low
            assert "<b>evil</b>" not in low and "<i>mallory</i>" not in low
        day, paper, _ = pages
        assert "&lt;script&gt;alert(1)&lt;/script&gt; Attention Is All You" in day
        assert "&lt;img src=x onerror=alert(1)&gt;" in paper
        assert "$L^p$" in paper  # LaTeX stays readable as text
        assert "&lt;b&gt;Evil&lt;/b&gt; Org" in paper
        assert 'src="x"' not in paper
        md = client.get("/papers/2608.99999.md")
        assert md.headers["content-type"].startswith("text/markdown")
        assert HOSTILE_ABSTRACT in md.text  # markdown is plain text, served as such
    finally:
        store.close()
