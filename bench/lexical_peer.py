"""The limit for lexical search at scale: a search engine built for fast top-k over the same
corpus and queries, every match scored and pruned, beside the product's search in one run.

    python bench/lexical_peer.py DATA_DIR CORPUS.jsonl.gz --pisa-python V/bin/python \\
        --work DIR [--rounds 2] [--k 10,100]

tantivy-py scores every paper that matches any word of a query (docs/upstream.md), so the
lexical search's time at 2.9M papers is that of an exhaustive union.  What would pruning
give on this machine, for these queries?  PISA (the engine of the block-max and MaxScore
literature, from PyPI as ``pyterrier-pisa``, a wheel with the engine compiled in) answers the
same 1,000 queries as ``bench/scale.py`` (titles and their first four words, unfiltered here:
PISA has no filters) three ways: ``ranked_or`` (every match scored, as tantivy-py does),
block-max WAND (what tantivy runs under a bare top-k collector) and MaxScore.  Its
dependencies (python-terrier, pandas and more) have nothing to do with paperwire, so it lives
in a virtual environment of its own, whose interpreter runs its half of this script::

    python -m venv /tmp/pisavenv && /tmp/pisavenv/bin/pip install pyterrier-pisa==0.4.9

The first run builds PISA's index in ``--work`` from CORPUS (about 7 minutes and 3.5 GB at
2.9M): title and abstract as one field, as paperwire's ``text`` field, Porter2 stemming;
BM25 with tantivy's k1 1.2 and b 0.75; Lucene's English stop words dropped from queries, as
paperwire's parser drops them.  The product side is ``LexicalIndex.search`` over DATA_DIR's
index (four fields, as served).  The engines alternate, ``--rounds`` times each, one query at
a time on one thread.  Prints p50 / p95 ms per engine, way and k, and how many of the pruned
answers the exhaustive ones share.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale import titles  # noqa: E402

PISA = r"""
import gzip, json, os, sys, time
import numpy as np
from pyterrier_pisa import PisaIndex, _pisathon

corpus, where, qfile, ks = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
ks = [int(k) for k in ks.split(",")]
if not os.path.exists(os.path.join(where, "fwd.terms")):
    def docs():
        with gzip.open(corpus, "rt", encoding="utf-8") as fh:
            for line in fh:
                r = json.loads(line)
                yield {"docno": r["id"], "text": f"{r['title']}\n{r['abstract']}"}
    t = time.perf_counter()
    PisaIndex(where, stemmer="porter2", stops="none", threads=2, overwrite=True).index(docs())
    print(f"pisa index built s: {time.perf_counter() - t:.0f}", flush=True)
index = PisaIndex(where, stemmer="porter2", stops="lucene")
bm25 = index.bm25(k1=1.2, b=0.75, num_results=max(ks), threads=1)
bm25.reset_retrieval_context()
ctx = bm25._ctxt
queries = json.load(open(qfile))

def run(algo, k, q):
    qi, dn = np.empty(k, np.int32), np.empty(k, object)
    rk, sc = np.empty(k, np.int32), np.empty(k, np.float32)
    t = time.perf_counter()
    n = _pisathon.retrieve(ctx, algo, [(0, q)], k=k, threads=1, query_weighted=0,
                           pretokenised=False, result_qidxs=qi, result_docnos=dn,
                           result_ranks=rk, result_scores=sc)
    return time.perf_counter() - t, set(dn[:n])

for q in queries[:50]:
    run("ranked_or", 10, q)  # (the index's pages read once: not timed)
for k in ks:
    every = {}
    for algo in ("ranked_or", "block_max_wand", "maxscore"):
        lat, got = [], []
        for q in queries:
            s, docs = run(algo, k, q)
            lat.append(s * 1000)
            got.append(docs)
        if algo == "ranked_or":
            every = got
        share = np.mean([len(a & b) / max(1, len(a)) for a, b in zip(got, every)])
        print(f"pisa {algo} top {k}: p50 {np.percentile(lat, 50):.1f} / p95 "
              f"{np.percentile(lat, 95):.1f} ms (shares {share:.4f} of ranked_or's answers)",
              flush=True)
"""


def tantivy_round(data: Path, queries: list[str], ks: list[int]) -> None:
    from paperwire.search.lexical import Filters, LexicalIndex
    from paperwire.search.query import parse

    lexical = LexicalIndex(data / "index" / "lexical")
    lexical.refresh(force=True)
    for q in queries[:50]:
        lexical.search(parse(q), Filters(), 10)
    for k in ks:
        lat = []
        for q in queries:
            parsed = parse(q)
            t = time.perf_counter()
            lexical.search(parsed, Filters(), k)
            lat.append((time.perf_counter() - t) * 1000)
        print(
            f"paperwire (tantivy, every match scored) top {k}: p50 {np.percentile(lat, 50):.1f}"
            f" / p95 {np.percentile(lat, 95):.1f} ms",
            flush=True,
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data", type=Path, help="a data directory `paperwire import` filled")
    ap.add_argument("corpus", type=Path, help="the snapshot it was imported from")
    ap.add_argument("--pisa-python", required=True, help="a Python with pyterrier-pisa")
    ap.add_argument("--work", type=Path, required=True, help="PISA's index (outside the repo)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--k", default="10,100")
    args = ap.parse_args()
    ks = [int(k) for k in args.k.split(",")]
    args.work.mkdir(parents=True, exist_ok=True)
    queries = titles(args.corpus)
    qfile = args.work / "queries.json"
    qfile.write_text(json.dumps(queries))
    print(f"cpu cores: {os.cpu_count()}, queries: {len(queries)}, k: {args.k}")
    pisa = [args.pisa_python, "-c", PISA, str(args.corpus), str(args.work / "pisa"), str(qfile)]
    for r in range(1, args.rounds + 1):
        print(f"round {r}, load average {os.getloadavg()[0]:.2f}", flush=True)
        # (stderr: PISA's progress bars; shown only when the run fails)
        done = subprocess.run([*pisa, args.k], stderr=subprocess.PIPE, text=True)
        if done.returncode:
            raise SystemExit(f"the PISA half failed:\n{done.stderr[-3000:]}")
        tantivy_round(args.data, queries, ks)
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
