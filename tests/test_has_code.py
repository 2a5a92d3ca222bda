"""Papers with code (issue #17 item 3): the has_code filter and the GitHub-stars sort on list
pages, the API and search, the "code" badge, and related papers sorted three ways; on SQLite
and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from community_support import hf_paper
from paperwire.context import open_store
from paperwire.web.app import create_app

DAY = date(2026, 8, 12)
REPO = "https://github.com/example/{}"
# (n, upvotes, stars or None for no repository)
PAPERS = [(1, 50, None), (2, 30, 900), (3, 20, 10), (4, 10, None), (5, 5, 4000), (6, 1, 0)]
WITH_CODE = {"2608.00002", "2608.00003", "2608.00005", "2608.00006"}
TITLE = re.compile(r'<h2 class="title"><a href="/papers/([^"]+)">')


def _records():
    out = []
    for n, up, stars in PAPERS:
        code = {} if stars is None else {"github_repo": REPO.format(n), "github_stars": stars}
        out.append(
            hf_paper(
                n,
                up,
                DAY,
                title=f"Tensor sketching {n}",
                abstract="Tensor sketches.",
                published_at=datetime(2026, 7, n, tzinfo=UTC),
                **code,
            )  # fmt: skip
        )
    return out


@pytest.fixture
def site(settings):
    cfg = settings.model_copy(update={"embed_on_import": True})  # static vectors: related
    store = open_store(cfg)
    store.import_records(_records())
    with TestClient(create_app(cfg, store)) as client:
        yield client, store, cfg


def _ids(html: str) -> list[str]:
    return TITLE.findall(html)


def test_list_pages_filter_and_sort_by_code(site):
    client, _store, _cfg = site
    for url in (f"/papers/date/{DAY}", "/papers/week/2026-W33", "/papers/month/2026-08"):
        every = client.get(url).text
        assert len(_ids(every)) == 6
        assert every.count('<span class="badge code"') == 4  # one per paper with a repository
        assert 'has_code=1">with code only</a>' in every
        code = client.get(url, params={"has_code": "1"}).text
        assert set(_ids(code)) == WITH_CODE
        stars = _ids(client.get(url, params={"sort": "stars"}).text)
        # most stars first; without a repository last, by upvotes
        assert stars == ["2608.00005", "2608.00002", "2608.00003", "2608.00006"] + [
            "2608.00001",
            "2608.00004",
        ]
        both = client.get(url, params={"sort": "trending", "has_code": "1"}).text
        assert set(_ids(both)) == WITH_CODE
        # a page also takes the words people type (the API keeps to its enum, 0 or 1)
        assert set(_ids(client.get(url, params={"has_code": "true"}).text)) == WITH_CODE
        assert len(_ids(client.get(url, params={"has_code": "off"}).text)) == 6
        bad = client.get(url, params={"has_code": "maybe"})
        assert bad.status_code == 400 and "has_code must be 0 or 1" in bad.text
        assert client.get(url, params={"sort": "forks"}).status_code == 400


def test_api_has_code_and_stars(site):
    client, _store, _cfg = site
    base = {"date": DAY.isoformat()}
    ids = [i["paper"]["id"] for i in client.get("/api/daily_papers", params=base).json()]
    assert len(ids) == 6
    code = client.get("/api/daily_papers", params={**base, "has_code": "1"}).json()
    assert {i["paper"]["id"] for i in code} == WITH_CODE
    assert all(i["paper"]["githubRepo"] for i in code)
    stars = client.get("/api/daily_papers", params={**base, "sort": "stars"}).json()
    assert [i["paper"]["id"] for i in stars][:2] == ["2608.00005", "2608.00002"]
    trend = client.get("/api/daily_papers", params={**base, "sort": "trending", "has_code": "1"})
    assert {i["paper"]["id"] for i in trend.json()} == WITH_CODE
    bad = client.get("/api/daily_papers", params={**base, "has_code": "yes"})
    assert bad.status_code == 400 and "has_code" in bad.json()["error"]

    for mode in ("hybrid", "lexical"):
        r = client.get(
            "/api/papers/search", params={"q": "tensor sketching", "has_code": "1", "mode": mode}
        )
        assert {i["paper"]["id"] for i in r.json()} == WITH_CODE, mode
    ranked = client.get("/api/papers/search", params={"q": "tensor sketching", "sort": "stars"})
    assert [i["paper"]["id"] for i in ranked.json()][:3] == [
        "2608.00005",
        "2608.00002",
        "2608.00003",
    ]
    assert client.get("/api/papers/search", params={"q": "x", "has_code": "2"}).status_code == 400
    page = client.get("/search", params={"q": "tensor sketching", "has_code": "1"}).text
    assert set(_ids(page)) == WITH_CODE
    assert 'name="has_code" value="1" checked' in page


def test_cli_search_has_code(site):
    _client, _store, cfg = site
    from paperwire.cli import app

    out = CliRunner().invoke(
        app,
        ["search", "tensor sketching", "--has-code", "--sort", "stars", "--db", cfg.database_url],
        env={"PAPERWIRE_DATA_DIR": str(cfg.data_dir)},
    )
    assert out.exit_code == 0, out.output
    assert "2608.00001" not in out.output and "2608.00004" not in out.output
    assert out.output.index("2608.00005") < out.output.index("2608.00002")


def test_related_papers_sort_three_ways(site):
    client, _store, _cfg = site
    url = "/papers/2608.00001"

    def related(html: str) -> list[str]:
        part = html.split('<section class="related" id="related">', 1)[1].split("</section>")[0]
        return re.findall(r'<li><a href="/papers/([^"]+)"', part)

    nearest = related(client.get(url).text)
    assert len(nearest) == 5 and "2608.00001" not in nearest
    by_votes = related(client.get(url, params={"related": "upvotes"}).text)
    ups = {f"2608.{n:05d}": up for n, up, _ in PAPERS}
    assert sorted(by_votes) == sorted(nearest)
    assert [ups[i] for i in by_votes] == sorted((ups[i] for i in by_votes), reverse=True)
    newest = related(client.get(url, params={"related": "date"}).text)
    assert sorted(newest) == sorted(nearest)
    assert newest == sorted(newest, reverse=True)  # paper n was published on 2026-07-n
    assert client.get(url, params={"related": "stars"}).status_code == 400
