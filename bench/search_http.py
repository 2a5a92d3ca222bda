"""Hybrid search over HTTP, as a client sees it: ``GET /api/papers/search`` one request at a
time against a real ``paperwire serve`` (one worker, page cache off), for title-like queries
and for queries of one to three sentences.  Prints one figure per line.

    python bench/search_http.py DATA_DIR [--queries 300]

DATA_DIR is a data directory that ``paperwire import`` filled (its database and index).  The
query texts are drawn from that database with a fixed seed: titles, and the first one to three
sentences of abstracts.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np

SENTENCE = re.compile(r"(?<=[.!?])\s+")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def queries(db: Path, n: int) -> dict[str, list[str]]:
    rng = random.Random(5)
    rows = sqlite3.connect(db).execute("SELECT title, abstract FROM papers").fetchall()
    picked = rng.sample(rows, min(2 * n, len(rows)))
    titles = [t for t, _ in picked[:n]]
    sentences = []
    for _, abstract in picked[n:]:
        parts = [p for p in SENTENCE.split(abstract or "") if p]
        if parts:
            sentences.append(" ".join(parts[: rng.randint(1, 3)])[:1000])
    return {"title": titles, "sentences": sentences}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data", type=Path)
    ap.add_argument("--queries", type=int, default=300)
    args = ap.parse_args()
    port = free_port()
    env = {
        **os.environ,
        "PAPERWIRE_DATA_DIR": str(args.data),
        "PAPERWIRE_PAGE_CACHE_TTL": "0",
        "PAPERWIRE_SYNC_ENABLED": "false",
        "PAPERWIRE_DIGEST_ENABLED": "false",
        "PAPERWIRE_EMBED_CONTEXTUAL": "false",
        "PAPERWIRE_INDEX_FOLLOW_INTERVAL": "0",  # no catching up in the background
        # sentence queries run to 1,000 characters; the API takes the Hub's 250 by default
        "PAPERWIRE_API_MAX_QUERY": "1000",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "paperwire.cli", "serve", "--port", str(port), "--no-sync"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/api/papers/search"
    try:
        with httpx.Client(timeout=30) as client:
            for _ in range(600):
                try:
                    if client.get(url, params={"q": "warm up"}).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            print(f"cpu cores: {os.cpu_count()}, load average at start: {os.getloadavg()[0]:.2f}")
            for kind, texts in queries(args.data / "paperwire.db", args.queries).items():
                for text in texts[:20]:  # warm the reader caches and the models
                    client.get(url, params={"q": text, "limit": 20})
                lat = []
                for text in texts:
                    t = time.perf_counter()
                    r = client.get(url, params={"q": text, "limit": 20})
                    lat.append(time.perf_counter() - t)
                    assert r.status_code in (200, 400), r.text[:200]
                ms = np.array(lat) * 1000
                print(f"{kind} queries: {len(lat)}")
                print(f"{kind} p50 ms: {np.percentile(ms, 50):.1f}")
                print(f"{kind} p95 ms: {np.percentile(ms, 95):.1f}")
            print(f"load average at end: {os.getloadavg()[0]:.2f}")
    finally:
        server.terminate()
        server.wait(30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
