"""The parts of the pages the browser tests lean on, without a browser: error pages (404,
400, 500), the calendar jump, the search-suggestion fragment, the vendor files being optional,
and the CSP staying strict."""

from __future__ import annotations

import re
from datetime import date

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from conftest import HF_DIR, needs_shared
from paperwire.context import open_store
from paperwire.sources.files import read_file
from paperwire.ui import templating
from paperwire.web.app import create_app
from web_helpers import hostile_record

SCRIPTS = re.compile(r'<script src="([^"]+)" defer></script>')


def _boom_router() -> APIRouter:
    """A route that fails, for this test app only (never part of the real app)."""
    router = APIRouter()

    @router.get("/test-only/boom")
    def boom() -> None:
        raise RuntimeError("secret internal detail")

    @router.get("/api/test-only/boom")
    def api_boom() -> None:
        raise RuntimeError("secret internal detail")

    return router


@pytest.fixture(scope="module")
def client(tmp_path_factory, module_db_url):
    needs_shared(HF_DIR)
    from paperwire.settings import Settings

    tmp = tmp_path_factory.mktemp("enhance")
    settings = Settings(
        data_dir=tmp / "data",
        database_url=module_db_url,
        secret_key="enhance-test-secret",
        embed_on_import=False,
    )
    store = open_store(settings)
    for day in ("2026-08-20", "2026-08-21"):
        store.import_records(read_file(HF_DIR / f"{day}.json"))
    store.import_records([hostile_record(date(2026, 8, 20))])
    app = create_app(settings, store)
    app.include_router(_boom_router())
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c
    store.close()


def test_server_error_page_helps_and_hides_the_details(client):
    r = client.get("/test-only/boom")
    assert r.status_code == 500
    assert r.headers["content-type"].startswith("text/html")
    assert "Something went wrong" in r.text
    assert 'href="/search"' in r.text and 'href="/"' in r.text
    assert "secret internal detail" not in r.text and "Traceback" not in r.text
    assert "script-src 'self'" in r.headers["content-security-policy"]
    api = client.get("/api/test-only/boom")
    assert api.status_code == 500 and "logged" in api.json()["error"]
    assert "secret" not in api.text


def test_missing_paper_and_bad_dates(client):
    r = client.get("/papers/2401.99999")
    assert r.status_code == 404
    assert "https://arxiv.org/abs/2401.99999" in r.text
    assert 'role="search"' in r.text
    for bad in ("/papers/date/2026-02-30", "/papers/week/2026-W60", "/papers/month/2026-13"):
        r = client.get(bad)
        assert r.status_code == 400, bad
        assert "That address does not work" in r.text and 'href="/papers/date/2026-08-21"' in r.text


def test_calendar_jump(client):
    for kind, url in (
        ("day", "/papers/date/2026-08-12"),
        ("week", "/papers/week/2026-W33"),
        ("month", "/papers/month/2026-08"),
    ):
        r = client.get(
            "/papers/jump", params={"day": "2026-08-12", "kind": kind}, follow_redirects=False
        )
        assert r.status_code == 303 and r.headers["location"] == url
    assert client.get("/papers/jump", params={"day": "12/08/2026"}).status_code == 400
    assert client.get("/papers/jump", params={"day": "2026-08-12", "kind": "x"}).status_code == 400
    page = client.get("/papers/date/2026-08-21").text
    assert 'action="/papers/jump"' in page and 'value="2026-08-21"' in page


def test_search_suggestions_fragment(client):
    r = client.get("/search/suggest", params={"q": "agent"})
    assert r.status_code == 200
    assert "<html" not in r.text and r.text.count('<a href="/papers/') >= 1
    assert 'href="/search?q=agent"' in r.text
    assert client.get("/search/suggest", params={"q": ""}).text.strip() == ""
    none = client.get("/search/suggest", params={"q": "zzqqxxyy"})
    assert "No papers match" in none.text
    hostile = client.get("/search/suggest", params={"q": "Attention Mallory bound"}).text
    assert "<script>" not in hostile and "&lt;script&gt;" in hostile


def test_pages_work_without_the_vendor_build(client, monkeypatch, tmp_path):
    built = client.get("/").text
    assert '<script src="/static/app.js" defer></script>' in built
    assert "<script>" not in built  # no inline scripts: the CSP forbids them
    monkeypatch.setattr(templating, "VENDOR", tmp_path / "no-vendor")
    client.app.state.page_cache.bump()  # "/" is cached (web/cache.py): the build changed
    bare = client.get("/").text
    assert SCRIPTS.findall(bare) == ["/static/app.js"]
    assert "/static/vendor/" not in bare
    for path in ("/static/app.js", "/static/app.css"):
        assert client.get(path).status_code == 200
    assert "/static/vendor/katex.min.js" in SCRIPTS.findall(built)  # shipped in the package


def test_the_vendored_files_are_the_pinned_versions_with_their_licences(client):
    """htmx and KaTeX ship inside the package (pip install gives the whole UI); after a
    version change in package.json, scripts/update-assets must be run and its output
    committed, or this fails."""
    import json
    from pathlib import Path

    vendor = Path(templating.VENDOR)
    lock = json.loads((Path(__file__).parents[1] / "package-lock.json").read_text())
    pinned = lock["packages"][""]["dependencies"]
    versions = dict(line.split() for line in (vendor / "VERSIONS").read_text().splitlines())
    assert versions == {"htmx.org": pinned["htmx.org"], "katex": pinned["katex"]}
    for name in ("htmx.min.js", "katex.min.js", "katex.min.css", "auto-render.min.js"):
        assert (vendor / name).stat().st_size > 1000
        assert client.get(f"/static/vendor/{name}").status_code == 200
    assert "MIT" in (vendor / "LICENSE.katex").read_text()
    assert "Zero-Clause BSD" in (vendor / "LICENSE.htmx.org").read_text()
    fonts = {f.name for f in (vendor / "fonts").iterdir()}
    assert "KaTeX_Main-Regular.woff2" in fonts
    css = (vendor / "katex.min.css").read_text()
    assert "fonts/KaTeX_Main-Regular.woff2" in css


def test_cards_carry_their_day_for_the_new_badge(client):
    html = client.get("/papers/date/2026-08-21").text
    assert html.count('data-day="2026-08-21"') >= 10
    assert '<article class="card">' in html  # the card markup other tests count
