"""Dense recall@10 and latency of the shipped HNSW graph at several beam widths, beside a
faiss inverted file (IVF-Flat) built on the same static vectors.

Usage: python bench/ann_recall.py INDEX_DIR [--ef 200,400,800,1600] [--nlist 1024,4096]

INDEX_DIR is a data directory's ``index`` folder filled by ``paperwire import`` (its
``dense.hnsw`` and ``vectors.sqlite``; the database beside it gives the queries: 200 titles
of random papers, fixed seed).  Recall is that of the product's question: the top 10 of a
100-paper pool, rescored with the exact vectors, against the exact top 10 over every vector.
Prints one line per setting: build time (IVF), recall@10 and search p50 / p95 (one thread).
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import time
from pathlib import Path

import faiss
import numpy as np

from paperwire.search.indexer import SearchIndex


def main(root: Path, efs: list[int], nlists: list[int]) -> None:
    ix = SearchIndex(root, embed_contextual=False)
    d = ix.dense
    d.refresh(force=True)
    rows = np.flatnonzero(d.has_vec)
    x = np.ascontiguousarray(d.vecs[rows], dtype=np.float32)
    print(f"vectors: {len(x)}, graph nodes: {d.ann.size if d.ann else 0}")
    rng = random.Random(7)
    db = sqlite3.connect(f"file:{root.parent / 'paperwire.db'}?mode=ro", uri=True)
    top = db.execute("SELECT max(id) FROM papers").fetchone()[0]
    titles: list[str] = []
    while len(titles) < 200:
        got = db.execute("SELECT title FROM papers WHERE id = ?", (rng.randint(1, top),)).fetchone()
        if got:
            titles.append(got[0])
    qs = np.stack([ix.query_vector(t) for t in titles]).astype(np.float32)
    exact = [set(np.argpartition(-(x @ q), 10)[:10].tolist()) for q in qs]
    faiss.omp_set_num_threads(1)

    def report(name: str, search) -> None:
        rec, lat = [], []
        for q, want in zip(qs, exact, strict=True):
            t = time.perf_counter()
            got = search(q)
            lat.append((time.perf_counter() - t) * 1000)
            rec.append(len(got & want) / 10)
        print(f"{name}: recall@10 {np.mean(rec):.3f}, p50 {np.percentile(lat, 50):.1f} ms, "
              f"p95 {np.percentile(lat, 95):.1f} ms")  # fmt: skip

    row_of = {int(p): i for i, p in enumerate(d.pids[rows])}
    for ef in efs:

        def hnsw(q, ef=ef):
            hits = [
                row_of[int(p)] for p in np.unique(d.ann.search(q, 100, None, ef)) if p in row_of
            ]
            best = np.argsort(-(x[hits] @ q))[:10]
            return {hits[i] for i in best}

        report(f"hnsw efSearch {ef}", hnsw)
    for nlist in nlists:
        t = time.perf_counter()
        ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(x.shape[1]), x.shape[1], nlist,
                                 faiss.METRIC_INNER_PRODUCT)  # fmt: skip
        pick = np.random.default_rng(0).choice(len(x), min(len(x), 40 * nlist), replace=False)
        ivf.train(x[pick])
        ivf.add(x)
        print(f"ivf-flat {nlist} lists: built in {time.perf_counter() - t:.1f} s")
        for nprobe in (16, 32, 64, 128):
            ivf.nprobe = nprobe

            def search(q, ivf=ivf):
                _d, ids = ivf.search(q[None], 100)
                cand = ids[0][ids[0] >= 0]
                return set(cand[np.argsort(-(x[cand] @ q))[:10]].tolist())

            report(f"ivf-flat {nlist} lists, nprobe {nprobe}", search)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("index", type=Path)
    ap.add_argument("--ef", default="200,400,800,1600")
    ap.add_argument("--nlist", default="1024,4096")
    args = ap.parse_args()
    main(args.index, [int(v) for v in args.ef.split(",")], [int(v) for v in args.nlist.split(",")])
