"""Would a fast-scan candidate index make dense search cheaper at scale?  A measurement.

    PAPERWIRE_DATA_DIR=DIR python bench/ann_fastscan.py [--queries 200] [--m 64]

DIR is a data directory that ``paperwire import`` filled.  The script loads its static
vector index (``dense.ann``: an inverted file over 8-bit scalar-quantized vectors) and
builds beside it, in this process only, an inverted file of 4-bit product-quantized codes
that faiss scans with SIMD lookups ("fast scan"), on the same lists (the same centroids).
A query then reads the same lists in the fast-scan index, keeps its best candidates, and
scores those again with the 8-bit vectors, so the answer is ranked as today.

It prints, single-threaded, for the ``--queries`` papers' own stored vectors (each paper
left out of its own answer): CPU ms per query and recall@10 against an exact search over
the stored float vectors, for today's index at a search's and at related papers' list
counts, and for the fast-scan index at the same list counts with several candidate counts;
then the fast-scan index's size and build time.  Nothing on disk changes.
"""

from __future__ import annotations

import argparse
import math
import sqlite3
import time

import faiss
import numpy as np

from paperwire.search.ann import NPROBE, NPROBE_SHARE, AnnIndex
from paperwire.search.hybrid import DENSE_POOL, RELATED_EFFORT
from paperwire.settings import Settings


def chunks(db: sqlite3.Connection, size: int = 200_000):
    last = -1
    while True:
        rows = db.execute(
            "SELECT pid, vec FROM vectors WHERE vec IS NOT NULL AND pid > ? ORDER BY pid LIMIT ?",
            (last, size),
        ).fetchall()
        if not rows:
            return
        last = rows[-1][0]
        pids = np.fromiter((p for p, _ in rows), np.int64, len(rows))
        vecs = np.frombuffer(b"".join(v for _, v in rows), np.float32).reshape(len(rows), -1)
        yield pids, vecs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--m", type=int, default=64, help="PQ sub-quantizers (4 bits each)")
    args = ap.parse_args()
    faiss.omp_set_num_threads(1)
    index_dir = Settings().resolved_index_dir
    ann = AnnIndex.load(index_dir / "dense.ann", 256)
    if ann is None or ann.kind != "ivf":
        raise SystemExit("no trained vector index in this data directory (import first)")
    ivf = ann.index
    db = sqlite3.connect(index_dir / "vectors.sqlite")
    rng = np.random.default_rng(20261201)
    all_ids = ann.ids()
    qids = np.sort(rng.choice(all_ids, args.queries, replace=False))
    got = dict(
        db.execute(f"SELECT pid, vec FROM vectors WHERE pid IN ({','.join(map(str, qids))})")
    )
    Q = np.stack([np.frombuffer(got[int(p)], np.float32) for p in qids])
    print(f"vectors {ivf.ntotal:,}, lists {ivf.nlist}, queries {len(Q)}", flush=True)

    # exact top 10 (each query's own paper left out), and the fast-scan index, in one pass
    quantizer = faiss.IndexFlatIP(256)
    quantizer.add(ivf.quantizer.reconstruct_n(0, ivf.nlist))
    fs = faiss.IndexIVFPQFastScan(quantizer, 256, ivf.nlist, args.m, 4, faiss.METRIC_INNER_PRODUCT)
    sample_ids = np.sort(rng.choice(all_ids, min(len(all_ids), 40 * ivf.nlist), replace=False))
    sample = ivf.reconstruct_batch(sample_ids)  # (decoded: within about 1e-3)
    t = time.time()
    fs.train(sample)
    train_s = time.time() - t
    best_s = np.full((len(Q), 11), -np.inf, np.float32)
    best_i = np.full((len(Q), 11), -1, np.int64)
    add_s = 0.0
    for pids, vecs in chunks(db):
        s = Q @ vecs.T
        s[np.equal.outer(qids, pids)] = -np.inf
        cat_s, cat_i = np.hstack([best_s, s]), np.hstack([best_i, np.broadcast_to(pids, s.shape)])
        top = np.argsort(-cat_s, axis=1)[:, :11]
        best_s, best_i = np.take_along_axis(cat_s, top, 1), np.take_along_axis(cat_i, top, 1)
        t = time.time()
        fs.add_with_ids(vecs, pids)  # (add_core leaves fast-scan codes unpacked: no matches)
        add_s += time.time() - t
    exact = [set(row[:10].tolist()) for row in best_i]

    def report(name: str, fn) -> None:
        t = time.process_time()
        answers = [fn(Q[i : i + 1], int(qids[i])) for i in range(len(Q))]
        ms = 1000 * (time.process_time() - t) / len(Q)
        rec = np.mean([len(set(a[:10]) & e) / 10 for a, e in zip(answers, exact, strict=True)])
        print(f"{name:48s} {ms:7.2f} ms/query  recall@10 {rec:.3f}", flush=True)

    base = max(NPROBE, math.ceil(NPROBE_SHARE * ivf.nlist))
    for label, effort, k in (("search", 1.0, DENSE_POOL), ("related", RELATED_EFFORT, 11)):
        nprobe = min(ivf.nlist, math.ceil(base * effort))

        def today(q, pid, nprobe=nprobe, k=k):
            p = faiss.SearchParametersIVF()
            p.nprobe = nprobe
            _, ids = ivf.search(q, k + 1, params=p)
            return [int(i) for i in ids[0] if i >= 0 and i != pid][:k]

        report(f"{label}: today (8-bit, {nprobe} lists, top {k})", today)
        for cands in (k * 2, k * 5, max(k * 10, 500)):

            def fast(q, pid, nprobe=nprobe, k=k, cands=cands):
                p = faiss.SearchParametersIVF()
                p.nprobe = nprobe
                _, ids = fs.search(q, cands + 1, params=p)
                ids = ids[0][ids[0] >= 0]
                scores = ivf.reconstruct_batch(ids) @ q[0]
                order = np.argsort(-scores, kind="stable")
                return [int(i) for i in ids[order] if i != pid][:k]

            report(f"{label}: fast scan, {cands} candidates rescored", fast)
    size = faiss.serialize_index(fs).nbytes
    print(
        f"fast-scan index: {size / 2**20:.0f} MB ({size / ivf.ntotal:.1f} B a vector);"
        f" PQ training {train_s:.1f} s, adding every vector {add_s:.1f} s (one thread)"
    )


if __name__ == "__main__":
    main()
