"""Hostile input never breaks the service: each repro of the hostile-input issue, as a test."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
import unicodedata
from xml.etree import ElementTree

import feedparser
import httpx
import pytest
from fastapi.testclient import TestClient

from community_support import PASSWORD, community_settings, token
from digest_data import D22, load, record
from paperwire.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperwire.community.passwords import hash_password
from paperwire.community.repository import Community
from paperwire.context import open_store
from paperwire.safetext import xml_safe
from paperwire.sources.files import read_file
from paperwire.sources.text import clean_abstract, clean_line
from paperwire.web.app import create_app
from serve_process import ServeProcess

NONCHAR = "Nonchar \uffff title \ufffe and lone"
# a JSON "\ud800" escape decodes to a lone surrogate, which no database can store: the
# sources drop it with the rest (see the last test)
SURROGATE = "Nonchar \uffff title \ufffe and \ud800lone"


@pytest.fixture
def client(settings):
    s = settings.model_copy(update={"embed_on_import": False})
    store = open_store(s)
    load(store)
    # straight into the store, past the sources' cleaning: the writers must cope on their own
    load(store, [record("2608.00077", NONCHAR, D22, 3, abstract="<img src=x onerror=alert(1)>")])
    with TestClient(create_app(s, store), follow_redirects=False) as c:
        yield c
    store.close()


FEEDS = ["daily.xml", "daily.atom", "trending.xml", "trending.atom", "search.xml?q=title",
         "search.atom?q=title", "search.xml?q=%EF%BF%BF"]  # fmt: skip


@pytest.mark.parametrize("path", FEEDS)
def test_a_paper_with_characters_xml_forbids_does_not_break_feeds(client, path):
    r = client.get(f"/feeds/{path}")
    assert r.status_code == 200, r.text[:300]
    ElementTree.fromstring(r.content)  # well-formed XML
    feed = feedparser.parse(r.content)
    assert not feed.bozo, feed.bozo_exception


def test_rss_sends_titles_and_abstracts_as_text_not_markup(client):
    feed = feedparser.parse(client.get("/feeds/daily.xml").content)
    entry = next(e for e in feed.entries if e.link.endswith("2608.00077"))
    # a reader that decodes <description> as HTML sees the tag as text, never as an element
    assert "&lt;img" in entry.summary and "<img" not in entry.summary
    assert "\uffff" not in entry.title and "Nonchar" in entry.title
    atom = feedparser.parse(client.get("/feeds/daily.atom").content)
    entry = next(e for e in atom.entries if e.link.endswith("2608.00077"))
    assert entry.summary_detail.type == "text/plain"


def test_pages_drop_characters_xml_forbids(client):
    html = client.get("/papers/2608.00077").text
    assert "Nonchar" in html and "\uffff" not in html and "\ufffe" not in html


@pytest.mark.parametrize(
    "url",
    [
        "/api/daily_papers?p=9223372036854775807",
        "/?p=9223372036854775807",
        "/papers/date/2026-08-20?p=9223372036854775807",
        "/papers/week/2026-W34?p=9223372036854775807",
        "/papers/month/2026-08?p=99999999999999999999999",
        "/organizations/acme-lab?p=9223372036854775807",
        "/papers/week/9999-W52",
        "/api/daily_papers?week=9999-W52",
        "/papers/jump?day=9999-12-31&kind=week",
        "/papers/date/0001-01-01",
        "/api/daily_papers?date=%D9%A2%D9%A0%D9%A2%D9%A6-08-20",
    ],
)
def test_out_of_range_numbers_and_dates_are_clear_400s(client, url):
    r = client.get(url)
    assert r.status_code == 400, (url, r.status_code, r.text[:200])
    if url.startswith("/api/"):
        assert "error" in r.json()


def test_arxiv_ids_in_other_scripts_digits_are_refused(client):
    arabic = "\u0662\u0666\u0660\u0668.\u0661\u0669\u0668\u0668\u0660"  # 2608.19880
    with pytest.raises(InvalidArxivId):
        parse_arxiv_id(arabic)
    with pytest.raises(InvalidArxivId):
        parse_arxiv_id("hep-th/\u0669\u0669\u0660\u0661\u0660\u0660\u0661")
    r = client.get(f"/api/papers/{arabic}")
    assert r.status_code == 400, r.text


def test_an_hf_item_with_such_an_id_is_rejected_not_a_second_row(tmp_path):
    item = json.loads('{"paper": {"id": "x", "title": "T", "summary": "S"}}')
    item["paper"]["id"] = "\u0662\u0666\u0660\u0668.\u0661\u0669\u0668\u0668\u0660"
    f = tmp_path / "2026-08-20.json"
    f.write_text(json.dumps([item]))
    out = list(read_file(f))
    assert len(out) == 1 and "not an arXiv id" in str(out[0])


def test_html_error_pages_keep_retry_after_and_allow(settings):
    cfg = community_settings(settings, login_rate_limit="1/minute")
    store = open_store(cfg)
    with TestClient(create_app(cfg, store), follow_redirects=False) as client:
        for _ in range(2):
            html = client.get("/login").text
            r = client.post(
                "/login", data={"csrf_token": token(html), "username": "x", "password": "y" * 8}
            )
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
        assert "text/html" in r.headers["content-type"]
        r = client.put("/login")
        assert r.status_code == 405 and "POST" in r.headers["allow"]
        assert "text/html" in r.headers["content-type"]
        r = client.delete("/api/daily_papers")  # an unknown method: 405, not a CSRF 403
        assert r.status_code == 405 and r.headers["allow"] == "GET, HEAD", r.headers
        assert r.json()["error"]
    store.close()


def run_import(*args):
    return subprocess.run(
        [sys.executable, "-m", "paperwire.cli", "import", *map(str, args)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def _hf_item(aid: str) -> dict:
    return {"paper": {"id": aid, "title": f"Paper {aid}", "summary": "S", "upvotes": 1}}


def test_deeply_nested_json_is_one_rejected_file_and_the_rest_imports(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    (d / "2026-08-20.json").write_text(json.dumps([_hf_item("2608.00101")]))
    (d / "2026-08-21.json").write_text("[" * 100_000)
    (d / "2026-08-22.json").write_text(json.dumps([_hf_item("2608.00103")]))
    db = tmp_path / "x.db"
    r = run_import("--db", db, d)
    assert r.returncode == 3, r.stderr
    assert "Traceback" not in r.stderr and "nested too deeply" in r.stderr
    assert "2026-08-21.json" in r.stderr
    assert re.search(r"│\s+2 │\s+0 │\s+0 │\s+1 │", r.stdout), r.stdout  # 2 new, 1 rejected


def test_import_exit_status_bom_and_empty_files(tmp_path):
    good = tmp_path / "2026-08-20.json"
    good.write_bytes(b"\xef\xbb\xbf" + json.dumps([_hf_item("2608.00201")]).encode())
    db = tmp_path / "x.db"
    r = run_import("--db", db, good)
    assert r.returncode == 0, r.stderr  # a byte order mark is not an unknown format
    empty = tmp_path / "2026-08-21.json"
    empty.write_text("")
    garbage = tmp_path / "junk.jsonl"
    garbage.write_bytes(b"\x00\x01\x02binary")
    truncated = tmp_path / "cut.jsonl.gz"
    whole = gzip.compress(b"".join(json.dumps(_kaggle(i)).encode() + b"\n" for i in range(50)))
    truncated.write_bytes(whole[: len(whole) // 2])
    cut_json = tmp_path / "2026-08-22.json"
    cut_json.write_text(json.dumps([_hf_item("2608.00202")])[:-10])
    r = run_import("--db", db, empty, garbage, truncated, cut_json)
    assert r.returncode == 3, r.stderr
    assert "2026-08-21.json" in r.stderr and "empty file" in r.stderr
    assert "junk.jsonl" in r.stderr and "unknown format" in r.stderr
    assert "cut.jsonl.gz" in r.stderr and "2026-08-22.json" in r.stderr
    assert "Traceback" not in r.stderr


def _kaggle(i: int) -> dict:
    return {"id": f"2501.{i:05d}", "title": f"Paper {i}", "abstract": "A", "categories": "cs.CL",
            "versions": [{"version": "v1", "created": "Mon, 6 Jan 2025 00:00:00 GMT"}]}  # fmt: skip


def test_the_submit_api_refuses_ids_in_other_scripts_digits(settings):
    cfg = community_settings(settings)
    store = open_store(cfg)
    Community.of(store).accounts.create_user("ada", hash_password(PASSWORD, cfg.argon2_profile))
    with TestClient(create_app(cfg, store), follow_redirects=False) as client:
        token_ = client.get("/api/whoami").json()["csrfToken"]
        form = {"csrf_token": token_, "username": "ada", "password": PASSWORD}
        assert client.post("/login", data=form).status_code == 303
        csrf = client.get("/api/whoami").json()["csrfToken"]
        arabic = "\u0662\u0666\u0660\u0668.\u0661\u0669\u0668\u0668\u0660"
        r = client.post("/api/papers/submit", json={"paperId": arabic},
                        headers={"X-CSRF-Token": csrf})  # fmt: skip
        assert r.status_code == 400 and "not an arXiv id" in r.json()["error"]
    store.close()


def test_xml_safe_takes_every_unicode_category():
    kept, dropped = [], []
    for cp in range(0, 0x110000, 7):  # a sample of every plane and category
        ch = chr(cp)
        (kept if xml_safe(ch) else dropped).append(cp)

    def allowed(c: int) -> bool:
        return c in (9, 10, 13) or 0x20 <= c <= 0xD7FF or 0xE000 <= c <= 0xFFFD or c >= 0x10000

    assert all(allowed(c) for c in kept) and not any(allowed(c) for c in dropped)
    cats = {unicodedata.category(chr(c)) for c in kept}
    assert {"Lu", "Ll", "Nd", "Zs", "Co", "Cf", "So", "Mn"} <= cats  # text of all kinds stays
    for ch in ("\x00", "\x0b", "\ufffe", "\uffff", "\ud800", "\udfff"):
        assert xml_safe(f"a{ch}b") == "ab"
    assert clean_line(SURROGATE) == "Nonchar title and lone"
    assert "\uffff" not in clean_abstract("one\uffff\n\ntwo")


def test_xml_safe_agrees_on_every_code_point_in_short_long_and_wide_text():
    """``xml_safe`` takes a faster path for long ASCII text: every BMP code point, and a
    sample above it, in short text, in long ASCII text and in long text with a wide
    character, is kept exactly when XML 1.0 allows it."""
    from paperwire.safetext import LONG

    def allowed(c: int) -> bool:
        return c in (9, 10, 13) or 0x20 <= c <= 0xD7FF or 0xE000 <= c <= 0xFFFD or c >= 0x10000

    pad = "x" * LONG
    for cp in [*range(0x10000), *range(0x10000, 0x110000, 4099)]:
        ch = chr(cp)
        for before, after in (("a", "b"), (pad, pad), (pad + "▲", pad)):
            text = f"{before}{ch}{after}"
            want = text if allowed(cp) else before + after
            assert xml_safe(text) == want, hex(cp)
    assert xml_safe(pad + "\x00" + pad + "\x1f") == pad + pad  # every one, not the first


def test_sign_in_is_limited_per_account_from_any_address(settings):
    cfg = community_settings(
        settings, login_rate_limit="100/minute", login_account_rate_limit="2/minute"
    )
    store = open_store(cfg)
    with TestClient(create_app(cfg, store), follow_redirects=False) as client:

        def attempt(user: str) -> int:
            html = client.get("/login").text
            form = {"csrf_token": token(html), "username": user, "password": "y" * 8}
            return client.post("/login", data=form).status_code

        assert [attempt("Alice"), attempt("alice"), attempt("ALICE")] == [400, 400, 429]
        assert attempt("bob") == 400  # other accounts are not locked with it
    store.close()


def _post_login(url: str, forwarded: str) -> int:
    with httpx.Client(base_url=url, follow_redirects=False) as c:
        html = c.get("/login").text
        form = {"csrf_token": token(html), "username": f"u{forwarded}", "password": "y" * 8}
        return c.post("/login", data=form, headers={"X-Forwarded-For": forwarded}).status_code


@pytest.mark.parametrize("trusted", ["", "127.0.0.1"])
def test_x_forwarded_for_is_believed_only_from_trusted_proxies(tmp_path, trusted):
    env = {
        "PAPERWIRE_DATA_DIR": str(tmp_path / "data"),
        "PAPERWIRE_LOGIN_RATE_LIMIT": "2/minute",
        "PAPERWIRE_ARGON2_PROFILE": "CHEAPEST",
        "PAPERWIRE_TRUSTED_PROXIES": trusted,
    }
    with ServeProcess(env, tmp_path / "serve.log", "--no-sync") as node:
        codes = [_post_login(node.url, f"203.0.113.{i}") for i in range(3)]
    # untrusted: one address (the TCP peer), limited at the third try; trusted: three
    assert codes == ([400, 400, 429] if not trusted else [400, 400, 400])
