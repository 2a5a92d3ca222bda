"""Search over HTTP: /api/papers/search with the real huggingface_hub client, /search, related."""

from __future__ import annotations

import httpx
import pytest
from huggingface_hub import HfApi

from conftest import LiveServer
from paperwire.context import open_store
from paperwire.sources.files import read_file
from paperwire.web.app import create_app


@pytest.fixture
def server(settings, shared_hf_dir):
    store = open_store(settings)
    for name in ("2026-08-20.json", "2026-08-21.json"):
        store.import_records(read_file(shared_hf_dir / name))
    with LiveServer(create_app(settings, store)) as live:
        yield live
    store.close()


def test_hf_client_list_papers(server):
    api = HfApi(endpoint=server.url)
    papers = list(api.list_papers(query="agent", limit=5))
    assert 0 < len(papers) <= 5
    assert all(p.id and p.title for p in papers)
    assert any("agent" in (p.title + (p.summary or "")).lower() for p in papers)


def test_api_search_shape_filters_and_errors(server):
    r = httpx.get(f"{server.url}/api/papers/search", params={"q": "model", "limit": 3})
    assert r.status_code == 200
    items = r.json()
    assert len(items) == 3 and {"paper", "title", "summary", "publishedAt"} <= set(items[0])
    r = httpx.get(
        f"{server.url}/api/papers/search",
        params={"q": "model", "min_upvotes": 40, "sort": "upvotes", "limit": 100},
    )
    ups = [i["paper"]["upvotes"] for i in r.json()]
    assert ups and min(ups) >= 40 and ups == sorted(ups, reverse=True)
    for params in (
        {"q": ""},
        {"q": "AND OR"},
        {"q": "x", "limit": "many"},
        {"q": "x", "from": "yesterday"},
        {"q": "x", "sort": "random"},
    ):
        r = httpx.get(f"{server.url}/api/papers/search", params=params)
        assert r.status_code == 400 and r.json()["error"], params
    r = httpx.get(f"{server.url}/api/papers/search", params={"q": '"unbalanced ' + "y" * 3000})
    assert r.status_code == 400 and "at most 250 characters" in r.json()["error"]  # the Hub's
    r = httpx.get(f"{server.url}/api/papers/search", params={"q": '"unbalanced ' + "y" * 200})
    assert r.status_code == 200 and "X-Search-Notes" in r.headers


def test_search_page(server):
    r = httpx.get(f"{server.url}/search", params={"q": "agent", "min_upvotes": "1"})
    assert r.status_code == 200
    assert "<mark>" in r.text and 'name="min_upvotes"' in r.text
    for q in ("", "AND", '"', "-x", "z" * 2000):
        assert httpx.get(f"{server.url}/search", params={"q": q}).status_code == 200
    assert httpx.get(f"{server.url}/search", params={"q": "a", "to": "nope"}).status_code == 400


def test_related_papers(server):
    first = httpx.get(f"{server.url}/api/papers/search", params={"q": "agent"}).json()[0]
    pid = first["paper"]["id"]
    data = httpx.get(f"{server.url}/api/papers/{pid}").json()
    related = data["relatedPapers"]
    assert len(related) == 5 and pid not in [r["id"] for r in related]
    page = httpx.get(f"{server.url}/papers/{pid}")
    assert page.status_code == 200 and "Related papers" in page.text
