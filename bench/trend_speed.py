"""How long the papers-per-month series of a search takes (the trend charts, issue #17).

Usage::

    PAPERWIRE_DATA_DIR=DIR python bench/trend_speed.py [--queries 300]

In this process, on the data directory's database and index (as ``paperwire serve`` opens
them): ``HybridSearcher.trend`` for ``--queries`` topic queries of one to three words taken
from random paper titles (stop words dropped), plus the common words "model", "learning" and
"network" (the most matching papers: the worst case).  Each query runs once untimed (the
index warms), then once timed.  Prints wall and CPU p50 / p95 / max in ms, and the most
papers one query counted.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sqlite3
import time

import numpy as np

STOP = {"a", "an", "the", "of", "for", "and", "in", "on", "with", "to", "via", "by", "from"}


def topics(db_path: str, n: int) -> list[str]:
    rnd = random.Random(11)
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    top = db.execute("SELECT max(id) FROM papers").fetchone()[0] or 0
    out: list[str] = []
    while len(out) < n and top:
        row = db.execute("SELECT title FROM papers WHERE id = ?", (rnd.randint(1, top),)).fetchone()
        words = [
            w
            for w in re.findall(r"[A-Za-z][A-Za-z-]+", row[0] if row else "")
            if w.lower() not in STOP
        ]
        if words:
            k = rnd.randint(1, min(3, len(words)))
            i = rnd.randint(0, len(words) - k)
            out.append(" ".join(words[i : i + k]).lower())
    return out + ["model", "learning", "network"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--queries", type=int, default=300)
    args = ap.parse_args()
    os.environ.setdefault("PAPERWIRE_EMBED_CONTEXTUAL", "false")
    from sqlalchemy.engine import make_url

    from paperwire.context import AppContext
    from paperwire.settings import Settings

    settings = Settings()
    path = make_url(settings.resolved_database_url).database
    if not path:
        raise SystemExit("trend_speed reads a SQLite data directory (PAPERWIRE_DATA_DIR)")
    queries = topics(path, args.queries)
    print(f"cpu cores: {os.cpu_count()}, load average at start: {os.getloadavg()[0]:.2f}")
    with AppContext(settings) as ctx:
        searcher = ctx.searcher()
        print(f"papers in the index: {searcher.index.lexical.count():,}")
        wall, cpu, most = [], [], 0
        for q in queries:
            searcher.trend(q)  # untimed: warms the index's pages for these terms
            t, c = time.perf_counter(), time.process_time()
            series = searcher.trend(q)
            wall.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
            most = max(most, sum(m.papers for m in series))
    for name, xs in (("wall", np.array(wall)), ("cpu", np.array(cpu))):
        p50, p95 = np.percentile(xs, 50), np.percentile(xs, 95)
        top = xs.max()
        print(
            f"trend {name} ms over {len(xs)} queries: p50 {p50:.1f}, p95 {p95:.1f}, max {top:.1f}"
        )
    print(f"most papers counted by one query (60 months): {most:,}")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
