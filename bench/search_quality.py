"""SciFact (BEIR) retrieval quality of paperwire's lexical, dense and hybrid search.

Usage: python bench/search_quality.py PATH_TO_SCIFACT
Prints one figure per line: nDCG@10 and Recall@100 for each mode.
"""

from __future__ import annotations

import csv
import json
import math
import sys
import tempfile
import time
from pathlib import Path

from paperwire.search.dense import DenseIndex
from paperwire.search.embed import default_embedder
from paperwire.search.hybrid import DENSE_POOL, LEXICAL_POOL, combine, fuse
from paperwire.search.lexical import Filters, LexicalIndex
from paperwire.search.query import parse
from paperwire.store.views import SearchDoc


def load(root: Path):
    corpus = [json.loads(line) for line in (root / "corpus.jsonl").open()]
    queries = {q["_id"]: q["text"] for q in map(json.loads, (root / "queries.jsonl").open())}
    qrels: dict[str, dict[str, int]] = {}
    with (root / "qrels" / "test.tsv").open() as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            qrels.setdefault(row["query-id"], {})[row["corpus-id"]] = int(row["score"])
    return corpus, queries, qrels


def ndcg(ranked: list[str], rel: dict[str, int], k: int = 10) -> float:
    dcg = sum(rel.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(rel.values(), reverse=True)[:k]
    idcg = sum(r / math.log2(i + 2) for i, r in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall(ranked: list[str], rel: dict[str, int], k: int = 100) -> float:
    hits = {d for d in ranked[:k] if rel.get(d, 0) > 0}
    return len(hits) / max(sum(1 for r in rel.values() if r > 0), 1)


def main(root: Path) -> None:
    corpus, queries, qrels = load(root)
    docs = [
        SearchDoc(i + 1, c["_id"], c.get("title", ""), c.get("text", ""), [], [], [], None, None, 0)
        for i, c in enumerate(corpus)
    ]
    ext = {d.id: d.arxiv_id for d in docs}
    emb = default_embedder()
    with tempfile.TemporaryDirectory() as tmp:
        lex = LexicalIndex(Path(tmp) / "lexical")
        t = time.perf_counter()
        bulk = lex.bulk()
        bulk.add(docs)
        bulk.commit()
        print(f"scifact lexical build s: {time.perf_counter() - t:.2f}")
        dense = DenseIndex(Path(tmp) / "vectors.sqlite", model=emb.name)
        dense.upsert(docs)
        t = time.perf_counter()
        vecs = emb.embed([d.embed_text for d in docs])
        print(f"scifact embed docs/s: {len(docs) / (time.perf_counter() - t):.0f}")
        dense.set_vectors([d.id for d in docs], vecs)
        runs: dict[str, dict[str, list[str]]] = {}
        for qid in qrels:
            q = parse(queries[qid])
            lh, _ = lex.search(q, Filters(), 1000)
            qvec = emb.embed_one(queries[qid])
            dh = dense.search(qvec, Filters(), 1000)
            lp, dp = lh[:LEXICAL_POOL], dh[:DENSE_POOL]
            cos = dense.similarities([p for p, _ in lp + dp], qvec)
            for name, ranked in (
                ("lexical", lh),
                ("dense", dh),
                ("hybrid", combine(lp, dp, cos)),
                ("hybrid-rrf", fuse(lp, dp)),
            ):
                runs.setdefault(name, {})[qid] = [ext[p] for p, _ in ranked]
    for name, run in runs.items():
        n = sum(ndcg(run[q], qrels[q]) for q in qrels) / len(qrels)
        r = sum(recall(run[q], qrels[q]) for q in qrels) / len(qrels)
        print(f"scifact {name} nDCG@10: {n:.4f}")
        print(f"scifact {name} Recall@100: {r:.4f}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python bench/search_quality.py PATH_TO_SCIFACT")
    main(Path(sys.argv[1]))
