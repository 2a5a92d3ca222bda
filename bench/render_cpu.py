"""The CPU cost of one cold render: day, paper and search pages, with the page cache off.

Usage::

    PAPERWIRE_DATA_DIR=DIR python bench/render_cpu.py [--pages 200]

DIR is a data directory that ``paperwire import`` filled (its database and index; the
``PAPERWIRE_*`` settings are read as the server reads them).  The app runs in this process
(the ASGI app driven by Starlette's test client, no sockets), with ``PAPERWIRE_PAGE_CACHE_TTL=0``
so that every request renders.  Each page kind is asked once untimed (the search index and
the models load then), then ``--pages`` different URLs one after another, and the figure is
the process CPU time of each request (all threads), so a busy machine inflates it less than
wall time.  The test client's own share is printed as the baseline (a small static file
through the same client and middleware): subtract it for the server's part.  Day pages are
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
import json
import os
import random
import sqlite3
import time
from urllib.parse import quote, urlencode

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
                "SELECT DISTINCT date(published) FROM papers WHERE published IS NOT NULL LIMIT 5000"
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
    print(f"cpu cores: {os.cpu_count()}, load average at start: {os.getloadavg()[0]:.2f}")
    with TestClient(create_app(settings)) as client:
        logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
        for kind, items in todo.items():
            client.get(items[0])  # untimed: the index and models load on first use
            cpu = []
            for url in items:
                t = time.process_time()
                r = client.get(url)
                cpu.append((time.process_time() - t) * 1000)
                if r.status_code != 200:
                    raise SystemExit(f"{url} answered {r.status_code}")
            xs = np.array(cpu)
            print(f"{kind} pages: {len(xs)}")
            for p in (50, 95):
                print(f"{kind} cold render cpu p{p} ms: {np.percentile(xs, p):.1f}")
            print(f"{kind} cold render cpu max ms: {xs.max():.1f}")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
