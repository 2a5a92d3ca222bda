"""The digest's "by meaning" cut-offs (digest/topics.py), calibrated on SciFact.

Usage: python bench/topic_cutoff.py PATH_TO_SCIFACT [--cache DIR]

A digest topic adds papers "by meaning" when their cosine with the topic is at least a
cut-off: ``SEMANTIC_MIN`` in the static space, ``CONTEXTUAL_MIN`` in the contextual one.  The
two models' cosines live on different scales, so one number cannot serve both.  For each
cut-off this prints, per tier, the micro precision and recall of "the 50 nearest documents
whose cosine is at least the cut-off" against SciFact's judgments.  The contextual cut-off is
chosen on the tune half of the queries (``is_tune``, as in search_quality.py): the one with
the best F1 among those whose recall is at least the static cut-off's, so a topic finds no
fewer papers than before and its list is as clean as it can be.  Both are then reported on
the other half.  (SciFact judges about one document per query, so precisions are low in
absolute terms; the comparison between the tiers is what counts.)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from paperwire.digest.topics import CONTEXTUAL_MIN, SEMANTIC_MIN  # noqa: E402
from paperwire.search.contextual import ContextualEmbedder  # noqa: E402
from paperwire.search.embed import default_embedder  # noqa: E402
from paperwire.store.views import SearchDoc  # noqa: E402
from search_quality import contextual_vectors, is_tune, load  # noqa: E402

POOL = 50  # digest/topics.py SEMANTIC_POOL


def counts(qvecs, dvecs, ids, qrels, qids, cut: float) -> tuple[int, int, int]:
    """(hits, relevant hits, relevant documents) over these queries."""
    hits = good = rel = 0
    for qid in qids:
        sims = dvecs @ qvecs[qid]
        top = np.argsort(-sims)[:POOL]
        top = top[sims[top] >= cut]
        judged = {d for d, s in qrels[qid].items() if s > 0}
        hits += len(top)
        good += sum(1 for i in top if ids[i] in judged)
        rel += len(judged)
    return hits, good, rel


def pr(c: tuple[int, int, int]) -> tuple[float, float]:
    hits, good, rel = c
    return (good / hits if hits else 1.0), (good / rel if rel else 0.0)


def main(root: Path, cache: Path | None) -> None:
    corpus, queries, qrels = load(root)
    docs = [
        SearchDoc(i + 1, c["_id"], c.get("title", ""), c.get("text", ""), [], [], [], None, None, 0)
        for i, c in enumerate(corpus)
    ]
    ids = [c["_id"] for c in corpus]
    qids = [q for q in qrels if q in queries]
    tune = [q for q in qids if is_tune(q)]
    report = [q for q in qids if not is_tune(q)]
    static = default_embedder()
    ctx = ContextualEmbedder()
    tiers = {
        "static": (
            {q: static.embed_one(queries[q]) for q in qids},
            static.embed([d.embed_text for d in docs]),
        ),
        "contextual": (
            {q: ctx.embed_one(queries[q]) for q in qids},
            contextual_vectors(docs, ctx, cache),
        ),
    }
    print(f"queries: tune {len(tune)}, report {len(report)}; pool {POOL}")
    grid = [round(x, 2) for x in np.arange(0.20, 0.86, 0.05)]
    for name, (qv, dv) in tiers.items():
        for cut in grid:
            tp, tr = pr(counts(qv, dv, ids, qrels, tune, cut))
            print(f"{name} cut {cut:.2f}: tune precision {tp:.3f} recall {tr:.3f}")
    sp, sr = pr(counts(*tiers["static"], ids, qrels, tune, SEMANTIC_MIN))
    best, chosen = -1.0, None
    for cut in grid:
        p, r = pr(counts(*tiers["contextual"], ids, qrels, tune, cut))
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        if r >= sr and f1 > best:
            best, chosen = f1, cut
    print(f"static cut {SEMANTIC_MIN}: tune precision {sp:.3f} recall {sr:.3f}")
    print(f"contextual cut chosen on the tune half: {chosen} (the product: {CONTEXTUAL_MIN})")
    for name, cut in (("static", SEMANTIC_MIN), ("contextual", CONTEXTUAL_MIN)):
        p, r = pr(counts(*tiers[name], ids, qrels, report, cut))
        print(f"report half, {name} at {cut}: precision {p:.3f} recall {r:.3f}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scifact", type=Path)
    ap.add_argument("--cache", type=Path)
    args = ap.parse_args()
    main(args.scifact, args.cache)
