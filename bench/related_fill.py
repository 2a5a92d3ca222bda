"""What a paper's related list costs: a page's own search against the related-papers job.

    PAPERWIRE_DATA_DIR=DIR python bench/related_fill.py [--papers 2000] [--threads 1]

DIR is a data directory that ``paperwire import`` filled.  For ``--papers`` embedded papers
(a seeded sample), the script computes each related list twice, in this process, with the
related table left as it is on disk (answers go to a copy in a temporary directory):

1. as a page's first view does, one search a paper (``HybridSearcher.related``'s search);
2. as the related-papers job does (``related_fill.fill``), in batches of ``BATCH``.

It prints CPU ms and wall ms a paper for both, how many lists are the same, and what
filling every embedded paper would take at the job's rate.  ``--threads`` sets faiss's
threads (the job runs with the machine's; 1 shows the cost on one core).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

from paperwire.context import open_store
from paperwire.search.hybrid import RELATED_EFFORT, HybridSearcher
from paperwire.search.indexer import open_index
from paperwire.search.lexical import Filters
from paperwire.search.related import KEEP, RelatedCache
from paperwire.search.related_fill import BATCH, fill
from paperwire.settings import Settings


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--papers", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=0, help="faiss threads (0: as installed)")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    if args.threads:
        faiss.omp_set_num_threads(args.threads)
    settings = Settings()
    store = open_store(settings.model_copy(update={"search_index_on_import": False}))
    index = open_index(settings)
    searcher = HybridSearcher(index, store)
    dense = index.dense
    dense.refresh()
    embedded = dense.pids[dense.has_vec]
    rng = np.random.default_rng(args.seed)
    pids = np.sort(rng.choice(embedded, min(args.papers, len(embedded)), replace=False)).tolist()
    print(
        f"{len(embedded):,} embedded papers; {len(pids):,} sampled; faiss threads "
        f"{faiss.omp_get_max_threads()}; batch {BATCH}",
        flush=True,
    )
    vecs = dense.vectors(pids)
    cvecs = index.contextual.vectors(pids)
    index.contextual.embedded()  # (loads the contextual tier once, before either timing)

    c0, w0 = time.process_time(), time.perf_counter()
    single = {}
    for p in pids:
        near = searcher.dense_ranked(
            vecs.get(p), cvecs.get(p), Filters(), KEEP, (p,), RELATED_EFFORT
        )
        single[p] = [q for q, _ in near]
    c1, w1 = time.process_time() - c0, time.perf_counter() - w0

    with tempfile.TemporaryDirectory() as tmp:
        kept = index.related
        index.related = RelatedCache(Path(tmp) / "related.sqlite")
        try:
            c0, w0 = time.process_time(), time.perf_counter()
            for at in range(0, len(pids), BATCH):
                fill(searcher, pids[at : at + BATCH])
            c2, w2 = time.process_time() - c0, time.perf_counter() - w0
            db = index.related._conn()
            sql = "SELECT ids FROM related WHERE pid = ?"
            key_of = {p: db.execute(sql, (p,)).fetchone() for p in pids}
        finally:
            index.related = kept

    same = sum(json.loads(key_of[p][0]) == single[p] for p in pids if key_of[p])
    n = len(pids)
    print(f"a page's own search: {1000 * c1 / n:.2f} ms CPU, {1000 * w1 / n:.2f} ms wall a paper")
    print(f"the job, in batches: {1000 * c2 / n:.2f} ms CPU, {1000 * w2 / n:.2f} ms wall a paper")
    print(f"same list: {same:,} of {n:,}; ratio (CPU) {c1 / max(c2, 1e-9):.2f}x")
    print(
        f"every embedded paper at the job's rate: {len(embedded) * c2 / n / 60:.1f} CPU min, "
        f"{len(embedded) * w2 / n / 60:.1f} min wall"
    )
    store.close()


if __name__ == "__main__":
    main()
