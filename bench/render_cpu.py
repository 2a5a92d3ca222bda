"""The CPU cost of one cold render: day, paper and search pages, with the page cache off.

Usage::

    PAPERWIRE_DATA_DIR=DIR python bench/render_cpu.py [--pages 200]

DIR is a data directory that ``paperwire import`` filled (its database and index; the
``PAPERWIRE_*`` settings are read as the server reads them).  The app runs in this process
(the ASGI app called directly with a request scope, no sockets and no HTTP client), with
``PAPERWIRE_PAGE_CACHE_TTL=0`` so that every request renders.  Each page kind is asked once
untimed (the search index and the models load then), then ``--pages`` different URLs one
after another, and the figure is the process CPU time of each request (all threads: a sync
route runs in the worker pool), so a busy machine inflates it less than wall time.  Two
baselines go through the same app and middleware: a small static file, and
``/api/whoami`` (a sync route with a session, the least a page pays).  Until 2026-11-30 the
requests went through Starlette's test client, whose own CPU (httpx, the thread portal,
about 3-4 ms a request) was counted in every figure; ``--client`` measures that way again
for comparison.  Day pages are
real listing days (or publication days when there are none), paper pages random papers, and
search pages ``/search?q=`` with paper titles.  Author pages (``/authors/{name}``) are the
first authors of random papers (most have one or two papers) and, as "author (prolific)", the
names with the most papers in the database: the heavy tail.  ``--only author`` runs the kinds
whose name starts with that.  Collection pages (``/collections/{id}``) are public
collections of 30 random papers each, owned by a user ``bench-collections`` that the first
run adds to the database with ``--pages`` collections (later runs reuse them).  Prints one
figure per line: p50 / p95 / max CPU ms per kind.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import time
from urllib.parse import quote, unquote, urlencode

import numpy as np


def urls(db_path: str, n: int) -> dict[str, list[str]]:
    rnd = random.Random(3)
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    top = db.execute("SELECT max(id) FROM papers").fetchone()[0] or 0
    rows = []
    while len(rows) < n and top:
        got = db.execute(
            "SELECT arxiv_id, title FROM papers WHERE id = ?", (rnd.randint(1, top),)
        ).fetchone()
        if got:
            rows.append(got)
    days = [d for (d,) in db.execute("SELECT DISTINCT day FROM listings")]
    if not days:
        days = [
            d
            for (d,) in db.execute(
                "SELECT DISTINCT published_on FROM papers WHERE published_on IS NOT NULL LIMIT 5000"
            )
        ]
    days = rnd.sample(days, min(n, len(days)))
    firsts, counts = [], {}
    for a, _ in rows:
        (authors,) = db.execute("SELECT authors FROM papers WHERE arxiv_id = ?", (a,)).fetchone()
        names = json.loads(authors or "[]")
        if names:
            firsts.append(names[0])
    for (authors,) in db.execute("SELECT authors FROM papers"):
        for name in json.loads(authors or "[]"):
            counts[name] = counts.get(name, 0) + 1
    prolific = sorted(counts, key=lambda k: -counts[k])[:n]
    print(f"most papers by one name: {counts[prolific[0]] if prolific else 0}")
    return {
        # the test client's own cost and the middleware's, for a small static file
        "baseline (static file)": ["/static/favicon.svg"] * n,
        "baseline (whoami)": ["/api/whoami"] * n,
        "day": [f"/papers/date/{d}" for d in days],
        "paper": ["/papers/" + quote(a, safe="/") for a, _ in rows],
        "search": ["/search?" + urlencode({"q": t}) for _, t in rows],
        "author": ["/authors/" + quote(a, safe="") for a in firsts],
        "author (prolific)": ["/authors/" + quote(a, safe="") for a in prolific],
    }


def bench_collections(settings, n: int) -> list[int]:
    """Ids of ``n`` public collections of 30 random papers (made on the first run)."""
    from paperwire.collections.repository import CollectionRepository
    from paperwire.community.repository import Community
    from paperwire.context import open_store

    store = open_store(settings)
    try:
        accounts = Community.of(store).accounts
        user = accounts.user("bench-collections") or accounts.create_user("bench-collections", "x")
        repo = CollectionRepository(store.engine)
        have = [c.id for c in repo.of_user(user.id)]
        rnd = random.Random(5)
        every = store.paper_ids() if len(have) < n else []
        while len(have) < n:
            cid = repo.create(user.id, f"Bench {len(have)}", public=True)
            repo.add_many(cid, user.id, rnd.sample(every, 30))
            have.append(cid)
        return have[:n]
    finally:
        store.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=200)
    ap.add_argument("--only", default="", help="only the page kinds starting with this")
    ap.add_argument(
        "--client", action="store_true", help="through Starlette's test client (the old way)"
    )
    args = ap.parse_args()
    os.environ["PAPERWIRE_PAGE_CACHE_TTL"] = "0"
    os.environ.setdefault("PAPERWIRE_SYNC_ENABLED", "false")
    os.environ.setdefault("PAPERWIRE_DIGEST_ENABLED", "false")
    # the index follower and the background embedding job would run in this process and be
    # counted: on a freshly imported database the follower's first round re-reads the papers
    # modified in its overlap window, tens of seconds of CPU (docs/benchmarks.md)
    os.environ.setdefault("PAPERWIRE_EMBED_CONTEXTUAL", "false")
    os.environ.setdefault("PAPERWIRE_INDEX_FOLLOW_INTERVAL", "0")
    import logging

    from fastapi.testclient import TestClient
    from sqlalchemy.engine import make_url

    from paperwire.settings import Settings
    from paperwire.web.app import create_app

    settings = Settings()
    path = make_url(settings.resolved_database_url).database
    if not path:
        raise SystemExit("render_cpu reads a SQLite data directory (PAPERWIRE_DATA_DIR)")
    todo = {k: v for k, v in urls(path, args.pages).items() if k.startswith(args.only)}
    if "collection".startswith(args.only) or args.only.startswith("collection"):
        todo["collection"] = [f"/collections/{c}" for c in bench_collections(settings, args.pages)]
    todo.setdefault("baseline (static file)", ["/static/favicon.svg"] * args.pages)
    todo.setdefault("baseline (whoami)", ["/api/whoami"] * args.pages)
    print(f"cpu cores: {os.cpu_count()}, load average at start: {os.getloadavg()[0]:.2f}")
    print(f"driver: {'test client' if args.client else 'ASGI call'}")
    app = create_app(settings)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    if args.client:
        with TestClient(app) as client:
            measure(todo, lambda url: client.get(url).status_code)
    else:
        asyncio.run(_direct(app, todo))
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


def measure(todo: dict[str, list[str]], get) -> None:
    for kind, items in todo.items():
        get(items[0])  # untimed: the index and models load on first use
        cpu = []
        for url in items:
            t = time.process_time()
            status = get(url)
            cpu.append((time.process_time() - t) * 1000)
            if status != 200:
                raise SystemExit(f"{url} answered {status}")
        report(kind, cpu)


def report(kind: str, cpu: list[float]) -> None:
    xs = np.array(cpu)
    print(f"{kind} pages: {len(xs)}")
    for p in (50, 95):
        print(f"{kind} cold render cpu p{p} ms: {np.percentile(xs, p):.1f}")
    print(f"{kind} cold render cpu max ms: {xs.max():.1f}")


async def _direct(app, todo: dict[str, list[str]]) -> None:
    """Call the ASGI app as a server would, one request at a time, inside its lifespan."""

    async def get(url: str) -> int:
        path, _, qs = url.partition("?")
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": unquote(path),
            "raw_path": path.encode(),
            "query_string": qs.encode(),
            "root_path": "",
            "headers": [(b"host", b"bench"), (b"accept", b"text/html")],
            "client": ("127.0.0.1", 50000),
            "server": ("bench", 80),
        }
        status = [0]
        asked = [False]

        async def receive() -> dict:
            if not asked[0]:
                asked[0] = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await asyncio.Event().wait()  # no disconnect: the response is sent by then
            return {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]

        await app(scope, receive, send)
        return status[0]

    async with app.router.lifespan_context(app):
        for kind, items in todo.items():
            await get(items[0])  # untimed: the index and models load on first use
            cpu = []
            for url in items:
                t = time.process_time()
                status = await get(url)
                cpu.append((time.process_time() - t) * 1000)
                if status != 200:
                    raise SystemExit(f"{url} answered {status}")
            report(kind, cpu)


if __name__ == "__main__":
    main()
