"""Trend charts (issue #17 item 6): papers per month for a search, an author and an
organization, as SVG with a table on the pages and as JSON at /api/trend; both databases."""

from __future__ import annotations

import re
from datetime import date

import pytest
from fastapi.testclient import TestClient

from community_support import hf_paper
from paperwire.community.repository import Community
from paperwire.context import open_store
from paperwire.core.trend import count_by_month, months_until
from paperwire.web.app import create_app

# (n, day, upvotes, title, org)
PAPERS = [
    (1, date(2026, 6, 3), 5, "Diffusion language models", "acme"),
    (2, date(2026, 6, 20), 7, "Language diffusion at scale", "acme"),
    (3, date(2026, 8, 2), 11, "Masked diffusion language models", None),
    (4, date(2026, 8, 9), 2, "Diffusion for images", "acme"),
    (5, date(2026, 7, 1), 3, "Language models without diffusion", None),
]


def test_months_and_counts():
    months = months_until(date(2026, 1, 31), 3)
    assert [m.key for m in months] == ["2025-11", "2025-12", "2026-01"]
    assert months[1].end == date(2025, 12, 31)
    series = count_by_month(
        [(date(2025, 12, 5), 4), (date(2025, 12, 31), 1), (date(2024, 1, 1), 9), (None, 3)],
        months,
    )
    assert [(c.month, c.papers, c.upvotes) for c in series] == [
        ("2025-11", 0, 0),
        ("2025-12", 2, 5),
        ("2026-01", 0, 0),
    ]


@pytest.fixture
def site(settings):
    cfg = settings.model_copy(update={"embed_on_import": False})
    store = open_store(cfg)
    store.import_records(
        [
            hf_paper(n, up, day, org=org, title=title, authors=("Ada Lovelace", f"Other {n}"))
            for n, day, up, title, org in PAPERS
        ]
    )
    with TestClient(create_app(cfg, store)) as client:
        yield client


def _series(client, **params) -> dict[str, tuple[int, int]]:
    r = client.get("/api/trend", params={"months": 4, **params})
    assert r.status_code == 200, r.text
    return {m["month"]: (m["papers"], m["upvotes"]) for m in r.json()["months"]}


def test_api_trend_for_a_search_an_author_and_an_organization(site):
    # every word must match: paper 4 has no "language"; the window ends with the newest paper
    assert _series(site, q="diffusion language") == {
        "2026-05": (0, 0),
        "2026-06": (2, 12),
        "2026-07": (1, 3),
        "2026-08": (1, 11),
    }
    assert _series(site, q="diffusion language -masked")["2026-08"] == (0, 0)
    assert _series(site, q="diffusion", org="")["2026-08"] == (2, 13)
    assert _series(site, author="ada  LOVELACE") == {
        "2026-05": (0, 0),
        "2026-06": (2, 12),
        "2026-07": (1, 3),
        "2026-08": (2, 13),
    }
    assert _series(site, org="acme") == {
        "2026-05": (0, 0),
        "2026-06": (2, 12),
        "2026-07": (0, 0),
        "2026-08": (1, 2),
    }
    assert len(site.get("/api/trend", params={"q": "diffusion"}).json()["months"]) == 60
    for bad in ({}, {"q": "a", "author": "b"}, {"q": "a", "months": 0}, {"q": "x" * 251}):
        r = site.get("/api/trend", params=bad)
        assert r.status_code == 400 and r.json()["error"], bad
    assert site.get("/api/trend", params={"author": "Nobody"}).status_code == 404
    assert site.get("/api/trend", params={"org": "nobody"}).status_code == 404


def _chart(html: str) -> tuple[int, list[tuple[str, str, str]]]:
    fig = html.split('<figure class="trend"', 1)[1].split("</figure>", 1)[0]
    bars = len(re.findall(r"<rect ", fig))
    rows = re.findall(r'<th scope="row">([^<]+)</th><td>(\d+)</td><td>(\d+)</td>', fig)
    assert 'role="img"' in fig and "<figcaption" in fig and "<details>" in fig
    return bars, rows


def test_pages_chart_the_series_with_a_table(site):
    bars, rows = _chart(site.get("/search", params={"q": "diffusion language"}).text)
    assert bars == 3 and rows == [
        ("2026-06", "2", "12"),
        ("2026-07", "1", "3"),
        ("2026-08", "1", "11"),
    ]
    bars, rows = _chart(site.get("/authors/Ada%20Lovelace").text)
    assert bars == 3 and ("2026-08", "2", "13") in rows
    bars, rows = _chart(site.get("/organizations/acme").text)
    assert bars == 2 and rows == [("2026-06", "2", "12"), ("2026-08", "1", "2")]
    # a public collection of papers 1, 3 and 5 (published 2026-06-03, 08-02, 07-01)
    from paperwire.collections.repository import CollectionRepository

    store = site.app.state.store
    owner = Community.of(store).accounts.create_user("curator", "x")
    repo = CollectionRepository(store.engine)
    cid = repo.create(owner.id, "Diffusion LMs", public=True)
    repo.add_many(cid, owner.id, [store.paper_id(f"2608.{n:05d}") for n in (1, 3, 5)])
    bars, rows = _chart(site.get(f"/collections/{cid}").text)
    assert bars == 3 and rows == [
        ("2026-06", "1", "5"),
        ("2026-07", "1", "3"),
        ("2026-08", "1", "11"),
    ]
    assert _series(site, collection=cid)["2026-08"] == (1, 11)
    # no match: no chart
    assert '<figure class="trend"' not in site.get("/search", params={"q": "zebra"}).text
