"""Dense recall@10 and latency of the vector index at several probe shares, on a real index.

Usage: python bench/ann_recall.py INDEX_DIR [--nlist 0,2048] [--share 0.03,0.06,0.125,0.15]

INDEX_DIR is a data directory's ``index`` folder filled by ``paperwire import`` (its
``vectors.sqlite``; the database beside it gives the queries: 200 titles of random papers,
fixed seed).  For each list count (0: the product's ``nlist_for(n)``) the product's
``AnnIndex`` is trained the product's way and filled with every stored vector; then each
probe share is searched as the product does (a pool of 100, its top 10) against the exact
top 10 of a float32 scan over every vector.  Prints one line per setting: build time,
recall@10 and search p50 / p95 on one thread.  Holds every vector as float32 for the exact
reference (3 GB at 2.9M): a benchmark, not the product.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import time
from pathlib import Path

import faiss
import numpy as np

from paperwire.search import ann
from paperwire.search.indexer import SearchIndex


def main(root: Path, nlists: list[int], shares: list[float]) -> None:
    ix = SearchIndex(root, embed_contextual=False)
    db = sqlite3.connect(f"file:{root / 'vectors.sqlite'}?mode=ro", uri=True)
    n = db.execute("SELECT count(*) FROM vectors WHERE vec IS NOT NULL").fetchone()[0]
    x = np.empty((n, ix.dense.dim), dtype=np.float32)
    pids = np.empty(n, dtype=np.int64)
    at = 0
    cur = db.execute("SELECT pid, vec FROM vectors WHERE vec IS NOT NULL")
    while chunk := cur.fetchmany(65536):
        k = len(chunk)
        pids[at : at + k] = [p for p, _ in chunk]
        x[at : at + k] = np.frombuffer(b"".join(v for _, v in chunk), np.float32).reshape(k, -1)
        at += k
    print(f"vectors: {n}")
    rng = random.Random(7)
    papers = sqlite3.connect(f"file:{root.parent / 'paperwire.db'}?mode=ro", uri=True)
    top = papers.execute("SELECT max(id) FROM papers").fetchone()[0]
    titles: list[str] = []
    while len(titles) < 200:
        got = papers.execute("SELECT title FROM papers WHERE id = ?", (rng.randint(1, top),))
        if row := got.fetchone():
            titles.append(row[0])
    qs = np.stack([ix.query_vector(t) for t in titles]).astype(np.float32)
    exact = [set(pids[np.argpartition(-(x @ q), 10)[:10]].tolist()) for q in qs]
    for nlist in nlists:
        nl = nlist or ann.nlist_for(n)
        t = time.perf_counter()
        pick = np.random.default_rng(0).choice(n, min(n, ann.TRAIN_PER_LIST * nl), replace=False)
        saved = ann.LISTS_PER_SQRT
        if nlist:  # the product's formula, bent to this list count
            ann.LISTS_PER_SQRT = nl / max(n, 1) ** 0.5
        index = ann.AnnIndex.trained(x[np.sort(pick)], n, x.shape[1])
        ann.LISTS_PER_SQRT = saved
        for i in range(0, n, 200_000):
            index.add(pids[i : i + 200_000], x[i : i + 200_000])
        print(f"ivf-sq8 {index.index.nlist} lists: built in {time.perf_counter() - t:.1f} s")
        faiss.omp_set_num_threads(1)
        for share in shares:
            ann.NPROBE_SHARE, ann.NPROBE = share, 1
            rec, lat = [], []
            for q, want in zip(qs, exact, strict=True):
                t = time.perf_counter()
                got, _ = index.search(q, 100, None)
                lat.append((time.perf_counter() - t) * 1000)
                rec.append(len(set(got[:10].tolist()) & want) / 10)
            p50, p95 = np.percentile(lat, 50), np.percentile(lat, 95)
            print(f"  probe share {share}: recall@10 {np.mean(rec):.3f}, "
                  f"p50 {p50:.1f} ms, p95 {p95:.1f} ms")  # fmt: skip
        faiss.omp_set_num_threads(os.cpu_count() or 1)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("index_dir", type=Path)
    ap.add_argument("--nlist", default="0")
    ap.add_argument("--share", default="0.03,0.06,0.125,0.15")
    a = ap.parse_args()
    main(a.index_dir, [int(v) for v in a.nlist.split(",")],
         [float(v) for v in a.share.split(",")])  # fmt: skip
