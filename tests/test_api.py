"""The HF-compatible JSON API: shapes compared with the recorded HF responses."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from fastapi.testclient import TestClient

from conftest import HF_DIR, needs_shared
from paperwire.context import open_store
from paperwire.settings import Settings
from paperwire.store.trending import TrendingRepository
from paperwire.web.app import create_app
from web_helpers import august_files, hf_ids, import_files, old_style_record

DAY = "2026-08-21"
HF_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


@pytest.fixture(scope="module")
def api(tmp_path_factory, module_db_url):
    needs_shared(HF_DIR)
    tmp = tmp_path_factory.mktemp("api")
    settings = Settings(data_dir=tmp / "data", database_url=module_db_url, secret_key="t")
    store = open_store(settings)
    import_files(store, august_files(HF_DIR))
    store.import_records([old_style_record()])
    with TestClient(create_app(settings, store)) as client:
        yield client
    store.close()


def recorded(day: str) -> list[dict]:
    return json.loads((HF_DIR / f"{day}.json").read_text())


def key_paths(obj: dict, prefix: str = "") -> set[str]:
    out = set()
    for k, v in obj.items():
        out.add(prefix + k)
        if isinstance(v, dict):
            out |= key_paths(v, f"{prefix}{k}.")
    return out


# HF fields we do not keep: per-user flags, media and who added the repo.
NOT_KEPT = {
    "mediaUrls",
    "paper.mediaUrls",
    "paper.githubRepoAddedBy",
    "paper.submittedOnDailyBy.isPro",
}


def test_daily_papers_on_both_backends(store, settings, shared_hf_dir):
    import_files(store, august_files(shared_hf_dir))
    client = TestClient(create_app(settings, store))
    items = client.get("/api/daily_papers", params={"date": DAY}).json()
    assert [i["paper"]["id"] for i in items] == [
        i["paper"]["id"] for i in client.get("/api/daily_papers").json()
    ]  # no date: the latest day
    assert {i["paper"]["id"] for i in items} == set(hf_ids(shared_hf_dir, DAY))
    week = []
    for page in (0, 1):
        params = {"week": "2026-W34", "limit": 100, "p": page}
        week += client.get("/api/daily_papers", params=params).json()
    expected = set()
    for d in range(17, 22):
        expected |= set(hf_ids(shared_hf_dir, f"2026-08-{d}"))
    assert len(week) == len(expected) == 110
    assert {i["paper"]["id"] for i in week} == expected
    trending = client.get("/api/daily_papers", params={"month": "2026-08", "sort": "trending"})
    ids = [i["paper"]["id"] for i in trending.json()]
    # sort=trending is the documented formula (docs/ranking.md), not plain upvotes.
    ranked = TrendingRepository(store.engine).trending_in(
        date(2026, 8, 1), date(2026, 8, 31), limit=50
    )
    scores = [item.trending.score for item in ranked.items]
    assert len(ids) == 50 and ids == [item.paper.arxiv_id for item in ranked.items]
    assert scores == sorted(scores, reverse=True)
    votes = [i["paper"]["upvotes"] for i in trending.json()]
    assert votes != sorted(votes, reverse=True)  # age matters, so it is not an upvote sort


def test_item_shape_matches_hf(api):
    ours = {i["paper"]["id"]: i for i in api.get("/api/daily_papers", params={"date": DAY}).json()}
    theirs_all = recorded(DAY)
    assert len(theirs_all) >= 10 and set(ours) == {t["paper"]["id"] for t in theirs_all}
    with_org = [t for t in theirs_all if t["paper"].get("organization")]
    assert with_org, "the recorded day must exercise the organization fields"
    for theirs in with_org:
        mine = ours[theirs["paper"]["id"]]
        missing = key_paths(theirs) - key_paths(mine) - NOT_KEPT
        missing = {k for k in missing if not k.startswith("submittedBy.is")}
        missing.discard("submittedBy.followerCount")
        assert not missing, (theirs["paper"]["id"], missing)
        assert key_paths(mine) <= key_paths(theirs), key_paths(mine) - key_paths(theirs)
        for key in ("title", "summary", "upvotes", "publishedAt", "submittedOnDailyAt"):
            assert mine["paper"][key] == theirs["paper"][key], key
        for key in ("githubRepo", "githubStars", "projectPage", "ai_keywords"):
            assert mine["paper"].get(key) == theirs["paper"].get(key), key
        assert mine["paper"]["organization"]["name"] == theirs["paper"]["organization"]["name"]
        assert mine["organization"]["avatar"] == theirs["organization"]["avatar"]
        assert mine["paper"]["authors"][0]["name"] == theirs["paper"]["authors"][0]["name"]
        assert mine["paper"]["authors"][0]["hidden"] is False
        assert len(mine["paper"]["authors"][0]["_id"]) == 24
        assert mine["submittedBy"]["name"] == theirs["submittedBy"]["name"]
        assert mine["numComments"] == theirs["numComments"]
        assert mine["thumbnail"] == theirs["thumbnail"]
        assert mine["isAuthorParticipating"] is False
        assert HF_DATE.match(mine["publishedAt"])


def test_missing_values_are_omitted_not_null(api):
    for item in api.get("/api/daily_papers", params={"month": "2026-08", "limit": 100}).json():
        assert None not in item.values()
        assert None not in item["paper"].values()
    no_repo = next(i for i in recorded(DAY) if "githubRepo" not in i["paper"])["paper"]["id"]
    paper = api.get(f"/api/papers/{no_repo}").json()
    assert "githubRepo" not in paper and "githubStars" not in paper


def test_paging_and_submitter(api):
    first = api.get("/api/daily_papers", params={"month": "2026-08", "limit": 10}).json()
    second = api.get("/api/daily_papers", params={"month": "2026-08", "limit": 10, "p": 1}).json()
    assert len(first) == len(second) == 10
    assert not {i["paper"]["id"] for i in first} & {i["paper"]["id"] for i in second}
    mine = api.get("/api/daily_papers", params={"submitter": "taesiri"}).json()
    assert mine and all(i["submittedBy"]["name"] == "taesiri" for i in mine)
    assert api.get("/api/daily_papers", params={"date": "2026-08-15"}).json() == []


def test_paper_object(api):
    r = api.get("/api/papers/2608.19880")
    assert r.status_code == 200
    paper = r.json()
    theirs = recorded(DAY)[0]["paper"]
    assert paper["id"] == "2608.19880" and paper["title"] == theirs["title"]
    assert paper["githubStars"] == 8 and paper["upvotes"] == 163
    assert paper["organization"]["name"] == "google"
    assert api.get("/api/papers/arXiv:2608.19880v3").json()["id"] == "2608.19880"
    old = api.get("/api/papers/hep-th/9901001").json()
    assert old["id"] == "hep-th/9901001" and old["authors"][0]["name"] == "A. Physicist"
    assert "submittedOnDailyAt" not in old and "organization" not in old


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"date": "2026-13-45"}, "not a valid date"),
        ({"date": "tomorrow"}, "YYYY-MM-DD"),
        ({"week": "2026-W60"}, "ISO week"),
        ({"month": "2026-00"}, "01 to 12"),
        ({"date": DAY, "week": "2026-W34"}, "at most one"),
        ({"sort": "random"}, "sort must be"),
        ({"p": "-1"}, "p must be"),
        ({"p": "x"}, "p must be an integer"),
        ({"limit": "0"}, "limit must be between 1 and 100"),
        ({"limit": "101"}, "limit must be between 1 and 100"),
    ],
)
def test_bad_params_are_400_json(api, params, needle):
    r = api.get("/api/daily_papers", params=params)
    assert r.status_code == 400
    assert needle in r.json()["error"]


def test_paper_errors(api):
    r = api.get("/api/papers/2609.00001")
    assert r.status_code == 404 and "not found" in r.json()["error"]
    r = api.get("/api/papers/nonsense")
    assert r.status_code == 400 and "not an arXiv id" in r.json()["error"]
    assert api.get("/api/nowhere").json() == {"error": "Not Found"}


def test_empty_database_gives_empty_list(settings):
    store = open_store(settings)
    try:
        client = TestClient(create_app(settings, store))
        assert client.get("/api/daily_papers").json() == []
        assert client.get("/api/papers/2608.19880").status_code == 404
    finally:
        store.close()


def test_all_papers_by_cursor(api):
    """``GET /api/papers`` walks every paper once, newest added first, by the Link header's
    opaque cursor, as the Hub paginates; bad cursors and limits are 400s."""
    seen, url, pages = [], "/api/papers?limit=120", 0
    while url:
        r = api.get(url)
        assert r.status_code == 200
        batch = r.json()
        assert len(batch) <= 120 and all("id" in p and "title" in p for p in batch)
        seen += [p["id"] for p in batch]
        url = r.links.get("next", {}).get("url")
        pages += 1
    assert pages > 2 and len(seen) == len(set(seen))  # no paper twice across pages
    assert len(seen) == api.app.state.store.counts().papers  # and none left out
    assert seen[0] == "hep-th/9901001"  # the last one imported comes first
    assert [p["id"] for p in api.get("/api/papers", params={"limit": 3}).json()] == seen[:3]
    for bad, needle in (({"cursor": "zzz"}, "cursor"), ({"limit": "121"}, "between 1 and 120")):
        r = api.get("/api/papers", params=bad)
        assert r.status_code == 400 and needle in r.json()["error"]


def test_search_limits_are_the_hubs(api):
    assert len(api.get("/api/papers/search", params={"q": "model", "limit": 120}).json()) == 120
    r = api.get("/api/papers/search", params={"q": "model", "limit": 121})
    assert r.status_code == 400 and "between 1 and 120" in r.json()["error"]
    # q: at most 250 characters, as the Hub (the HTML search page takes a whole paragraph)
    longest = ("model " * 50)[:250]
    assert api.get("/api/papers/search", params={"q": longest}).status_code == 200
    r = api.get("/api/papers/search", params={"q": longest + "s"})
    assert r.status_code == 400 and r.json() == {"error": "q must be at most 250 characters long"}
    assert api.get("/search", params={"q": longest + " and more words"}).status_code == 200


def test_paper_page_answers_markdown_when_asked(api):
    md = api.get("/papers/2608.19880", headers={"Accept": "text/markdown"})
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
    assert md.text == api.get("/papers/2608.19880.md").text
    assert "Accept" in md.headers["vary"]
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    html = api.get("/papers/2608.19880", headers={"Accept": browser})
    assert html.headers["content-type"].startswith("text/html") and "<html" in html.text
    assert "Accept" in html.headers["vary"]
    # asked for, but less than HTML: HTML
    both = api.get("/papers/2608.19880", headers={"Accept": "text/markdown;q=0.5, text/html"})
    assert both.headers["content-type"].startswith("text/html")
