"""Helpers for the community tests: settings, a loopback arXiv server, CSRF tokens."""

from __future__ import annotations

import json
import re
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from paperwire.record import ORIGIN_HF, Listing, Organization, PaperRecord
from paperwire.settings import Settings

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "correct horse battery"


def cached_site_store(settings: Settings, today: date):
    """Settings with the page cache checking for writes on every request, and a store with
    two papers listed ``today`` (the page-cache tests' site)."""
    from paperwire.context import open_store

    cfg = community_settings(settings, page_cache_check=0.0)
    store = open_store(cfg)
    store.import_records([hf_paper(1, 10, today, org="acme"), hf_paper(2, 3, today)])
    return cfg, store


def community_settings(settings: Settings, **extra) -> Settings:
    """Fast argon2 parameters, no search indexing, no retries or politeness delay."""
    update = {
        "argon2_profile": "CHEAPEST",
        "search_index_on_import": False,
        "embed_on_import": False,
        "arxiv_delay": 0.0,
        "http_retries": 0,
        "http_timeout": 10.0,
        **extra,
    }
    return settings.model_copy(update=update)


def token(html: str) -> str:
    m = CSRF.search(html)
    assert m, "no CSRF field in the page"
    return m.group(1)


def hf_paper(n: int, upvotes: int, day: date, org: str | None = None, **kw) -> PaperRecord:
    return PaperRecord(
        arxiv_id=f"2608.{n:05d}",
        title=kw.pop("title", f"Paper {n}"),
        abstract=kw.pop("abstract", "An abstract."),
        origin=ORIGIN_HF,
        upvotes=upvotes,
        listing=Listing(
            day=day,
            source="hf",
            submitted_by="hfuser",
            organization=Organization(org, org.title()) if org else None,
        ),
        **kw,
    )


class ArxivReplay:
    """Serves the recorded arXiv API answers in fixtures/arxiv-api by ``id_list``."""

    def __init__(self, fixtures: Path) -> None:
        self.answers: dict[str, tuple[int, str]] = {}
        for path in sorted(fixtures.glob("*.json")):
            rec = json.loads(path.read_text())
            q = parse_qs(urlsplit(rec["url"]).query)
            ids = q.get("id_list", [""])[0]
            if ids and not q.get("search_query", [""])[0]:
                self.answers[ids] = (rec["status_code"], rec["body"])
        self.down = False
        answers, owner = self.answers, self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                ids = parse_qs(urlsplit(self.path).query).get("id_list", [""])[0]
                status, body = (503, "down") if owner.down else answers.get(ids, (404, ""))
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/atom+xml")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/query"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> ArxivReplay:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
