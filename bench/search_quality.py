"""SciFact (BEIR) retrieval quality of paperwire's lexical, dense and hybrid search.

Usage: python bench/search_quality.py PATH_TO_SCIFACT [--cache DIR] [--max-tokens N]

Prints one figure per line: nDCG@10 and Recall@100 for each mode, the embedding rates and
the query-embedding latency of both dense tiers.  Modes:

- lexical: tantivy BM25; dense: static WordLlama; hybrid: the two, convex 0.6/0.4 (the
  static-only default); hybrid-rrf: reciprocal rank fusion of the two.
- dense-contextual: MiniLM int8 (search/contextual.py) alone; hybrid-contextual: BM25 and
  MiniLM through the product's own ``HybridSearcher.ranked`` (equal weights, 0.5/0.5);
  hybrid-contextual-a0.4: the same at the static-only weight (0.6/0.4); hybrid-3way: BM25
  0.5 + contextual 0.25 + static 0.25; hybrid-half-contextual: the product with a random half
  of the documents contextual and the rest static, as while the background job still runs.

SciFact has only a judged test split: every setting is chosen on the "tune" half of its
queries (those whose id hashes even, ``is_tune``) and reported on the other half, and each
mode prints both halves and the whole.  The peer, bm25s (the bench extra), runs in the same
process.  Paired differences and standard errors over the 300 queries are printed so that
the gaps can be read against the noise.
The contextual document vectors take minutes; ``--cache DIR`` keeps them between runs
(outside the repository).  The embedding rates are measured on the first 256 documents.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from paperwire.search.contextual import MAX_TOKENS, ContextualEmbedder
from paperwire.search.dense import DenseIndex
from paperwire.search.embed import default_embedder
from paperwire.search.hybrid import (
    DENSE_POOL,
    LEXICAL_POOL,
    HybridSearcher,
    combine,
    combine_tiers,
    fuse,
    minmax,
)
from paperwire.search.indexer import SearchIndex
from paperwire.search.lexical import Filters
from paperwire.search.lexical_writers import BulkWriter
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


def pct(xs: list[float], p: float) -> float:
    return float(np.percentile(np.array(xs) * 1000, p))


def three_way(lexical, pool, contextual, static, weights=(0.5, 0.25, 0.25)):
    """BM25 / max BM25, min-max contextual and min-max static cosine, weighted."""
    cands = list(dict.fromkeys(pool))
    bm25 = dict(lexical)
    top = max(bm25.values(), default=0.0) or 1.0
    c = minmax({p: contextual[p] for p in cands if p in contextual})
    s = minmax({p: static[p] for p in cands if p in static})
    wb, wc, ws = weights
    out = [
        (p, wb * bm25.get(p, 0.0) / top + wc * c.get(p, 0.0) + ws * s.get(p, 0.0)) for p in cands
    ]
    return sorted(out, key=lambda t: (-t[1], t[0]))


def contextual_vectors(docs, model: ContextualEmbedder, cache: Path | None) -> np.ndarray:
    texts = [d.embed_text for d in docs]
    key = hashlib.blake2b("\n".join(texts).encode(), digest_size=8).hexdigest()
    path = cache / f"scifact-{model.name}-{model.max_tokens}-{key}.npy" if cache else None
    if path and path.exists():
        return np.load(path)
    vecs = model.embed(texts)
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, vecs)
    return vecs


SWEEP = (0.2, 0.3, 0.4, 0.5, 0.6)  # fusion weights tried (chosen on the tune half only)


def is_tune(qid: str) -> bool:
    """SciFact has one judged split: settings are chosen on the queries whose id hashes even
    (the tune half) and reported on the others (the report half)."""
    return int(hashlib.sha1(qid.encode()).hexdigest(), 16) % 2 == 0


def bm25s_baseline(corpus):
    """The peer: bm25s (Lucene BM25, English stop words, Snowball stemmer, title + abstract as
    one field), from the bench extra; None when it is not installed."""
    try:
        import bm25s
        import Stemmer
    except ImportError:
        print("bm25s: not installed (pip install -e '.[bench]'); the peer row is skipped")
        return None
    stem = Stemmer.Stemmer("english")
    texts = [f"{c.get('title', '')} {c.get('text', '')}" for c in corpus]
    model = bm25s.BM25(method="lucene")
    model.index(bm25s.tokenize(texts, stopwords="en", stemmer=stem, show_progress=False),
                show_progress=False)  # fmt: skip

    def search(text: str) -> list[tuple[int, float]]:
        toks = bm25s.tokenize([text], stopwords="en", stemmer=stem, show_progress=False)
        if not toks.vocab:
            return []
        res, scores = model.retrieve(toks, k=100, show_progress=False)
        return [(int(i) + 1, float(sc)) for i, sc in zip(res[0], scores[0], strict=True)]

    return search


def main(root: Path, cache: Path | None, max_tokens: int) -> None:
    corpus, queries, qrels = load(root)
    baseline = bm25s_baseline(corpus)
    docs = [
        SearchDoc(i + 1, c["_id"], c.get("title", ""), c.get("text", ""), [], [], [], None, None, 0)
        for i, c in enumerate(corpus)
    ]
    ext = {d.id: d.arxiv_id for d in docs}
    emb = default_embedder()
    ctx = ContextualEmbedder(max_tokens=max_tokens)
    print(f"cpu cores: {os.cpu_count()}")
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    sample = [d.embed_text for d in docs[:256]]
    for name, model in (("static", emb), ("contextual", ctx)):
        t = time.perf_counter()
        model.embed(sample)
        print(f"scifact {name} embed docs/s: {len(sample) / (time.perf_counter() - t):.1f}")
    lens = [len(ctx.token_ids(d.embed_text)) for d in docs]
    print(f"scifact contextual max tokens: {max_tokens}")
    print(f"scifact docs cut at max tokens: {np.mean(np.array(lens) >= max_tokens):.3f}")
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        full = SearchIndex(Path(tmp) / "full", embedder=emb)
        full._contextual = ctx
        bulk = BulkWriter(full.lexical)
        bulk.add(docs)
        bulk.commit()
        print(f"scifact lexical build s: {time.perf_counter() - t:.2f}")
        svecs = emb.embed([d.embed_text for d in docs])
        cvecs = contextual_vectors(docs, ctx, cache)
        ids = [d.id for d in docs]
        rng = np.random.default_rng(0)
        some = [d.id for d in docs if rng.random() < 0.5]
        half = SearchIndex(Path(tmp) / "half", embedder=emb)
        half._contextual = ctx
        half.lexical = full.lexical
        for ix, cids in ((full, ids), (half, some)):
            for tier in (ix.dense, ix.contextual):
                tier.upsert(docs)
            ix.dense.set_vectors(ids, svecs)
            ix.contextual.set_vectors(cids, cvecs[np.array(cids) - 1])
        searchers = {"full": HybridSearcher(full, None), "half": HybridSearcher(half, None)}
        # the static-only modes read a static tier of their own: the product's holds only
        # the papers without a contextual vector (DenseIndex.covered), here none of ``full``
        dense = DenseIndex(Path(tmp) / "static.sqlite", model=full.dense.model)
        dense.upsert(docs)
        dense.set_vectors(ids, svecs)
        lex, cdense = full.lexical, full.contextual
        runs: dict[str, dict[str, list[str]]] = {}
        lat: dict[str, list[float]] = {"static": [], "contextual": []}
        for qid in qrels:
            text = queries[qid]
            q = parse(text)
            lh, _ = lex.search(q, Filters(), 1000)
            t = time.perf_counter()
            qvec = emb.embed_one(text)
            t1 = time.perf_counter()
            cvec = ctx.embed_one(text)
            t2 = time.perf_counter()
            lat["static"].append(t1 - t)
            lat["contextual"].append(t2 - t1)
            dh = dense.search(qvec, Filters(), 1000)
            ch = cdense.search(cvec, Filters(), 1000)
            lp, dp, cp = lh[:LEXICAL_POOL], dh[:DENSE_POOL], ch[:DENSE_POOL]
            pool = [p for p, _ in lp + dp + cp]
            cos = dense.similarities(pool, qvec)
            ccos = cdense.similarities(pool, cvec)
            extra = [(f"hybrid-a{a}", combine(lp, dp, cos, alpha=a)) for a in SWEEP]
            extra += [
                (f"hybrid-contextual-a{a}", combine_tiers(lp, cp, ccos, {}, alpha=a)) for a in SWEEP
            ]
            if baseline is not None:
                extra.append(("bm25s", baseline(text)))
            for name, ranked in (
                *extra,
                ("lexical", lh),
                ("dense", dh),
                ("hybrid", combine(lp, dp, cos)),
                ("hybrid-rrf", fuse(lp, dp)),
                ("dense-contextual", ch),
                ("hybrid-contextual", searchers["full"].ranked(q)[0]),
                ("hybrid-contextual-a0.4", combine_tiers(lp, cp, ccos, {}, alpha=0.4)),
                ("hybrid-3way", three_way(lp, pool, ccos, cos)),
                ("hybrid-half-contextual", searchers["half"].ranked(q)[0]),
            ):
                runs.setdefault(name, {})[qid] = [ext[p] for p, _ in ranked]
    per: dict[str, np.ndarray] = {}
    tune = np.array([is_tune(q) for q in qrels])
    print(f"scifact queries: {len(qrels)} ({tune.sum()} tune, {(~tune).sum()} report)")
    for name, run in runs.items():
        per[name] = np.array([ndcg(run[q], qrels[q]) for q in qrels])
        r = sum(recall(run[q], qrels[q]) for q in qrels) / len(qrels)
        print(f"scifact {name} nDCG@10: {per[name].mean():.4f}")
        print(f"scifact {name} nDCG@10 tune half: {per[name][tune].mean():.4f}")
        print(f"scifact {name} nDCG@10 report half: {per[name][~tune].mean():.4f}")
        print(f"scifact {name} Recall@100: {r:.4f}")
    n = len(qrels)
    pairs = [("hybrid-contextual", "hybrid"), ("hybrid-contextual", "lexical")]
    if "bm25s" in per:
        pairs += [("lexical", "bm25s"), ("hybrid", "bm25s"), ("hybrid-contextual", "bm25s")]
    for a, b in pairs:
        diff = per[a] - per[b]
        print(f"scifact {a} minus {b} nDCG@10: {diff.mean():+.4f}")
        print(f"scifact {a} minus {b} standard error: {diff.std(ddof=1) / math.sqrt(n):.4f}")
    print(f"scifact hybrid-contextual nDCG@10 standard error: "
          f"{per['hybrid-contextual'].std(ddof=1) / math.sqrt(n):.4f}")  # fmt: skip
    for name, xs in lat.items():
        print(f"scifact {name} query embed p50 ms: {pct(xs, 50):.1f}")
        print(f"scifact {name} query embed p95 ms: {pct(xs, 95):.1f}")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scifact", type=Path)
    ap.add_argument("--cache", type=Path, help="keep the contextual vectors here between runs")
    ap.add_argument("--max-tokens", type=int, default=MAX_TOKENS)
    args = ap.parse_args()
    main(args.scifact, args.cache, args.max_tokens)
