"""Offline evaluation of the personal ranking ("For you") on the HF Daily Papers data.

    python bench/recommend_eval.py ../shared/data/hf-daily-papers [--min-papers 8]

Simulated readers are organizations (``--by submitter`` for submitters) with at least
``--min-papers`` papers.  A reader's papers, by first listing day, are split 60/40: the first
60% are the reader's upvotes (training), the rest are the papers the reader will like.  The
candidates are all papers first listed between the reader's first and last held-out paper
(its test period), the training papers excluded.  Precision@10 is averaged over readers for:

- personal: ``paperwire.recommend.model.rank`` (what /for-you runs), and variants of it;
- trending-only: the trending formula (docs/ranking.md) at a paper's age of one day, when
  the HF upvotes were captured, so it is upvotes plus the GitHub-star term;
- random: the expected precision of a random ranking (held-out / candidates).

Organization and author names are not given to the model (they would leak the answer); it
sees titles and abstracts only.  Prints one figure per line.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

from paperwire.ranking import TrendingInputs, trending_score
from paperwire.recommend import model
from paperwire.search.embed import Embedder


def load(hf_dir: Path, by: str) -> tuple[dict[str, dict], dict[str, list[str]]]:
    papers: dict[str, dict] = {}
    owners: dict[str, set[str]] = defaultdict(set)
    for path in sorted(hf_dir.glob("*.json")):
        day = date.fromisoformat(path.stem)
        for item in json.loads(path.read_text()):
            p = item["paper"]
            pid = p["id"]
            if pid not in papers:
                papers[pid] = {
                    "id": pid,
                    "day": day,
                    "text": f"{p.get('title') or ''}. {p.get('summary') or ''}",
                    "upvotes": p.get("upvotes") or 0,
                    "stars": p.get("githubStars") or 0,
                }
            if by == "organization":
                org = (item.get("organization") or p.get("organization") or {}).get("name")
            else:
                org = (item.get("submittedBy") or p.get("submittedOnDailyBy") or {}).get("user")
            if org:
                owners[org].add(pid)
    return papers, {k: sorted(v, key=lambda i: (papers[i]["day"], i)) for k, v in owners.items()}


def trending_at_one_day(p: dict) -> float:
    listed = datetime.combine(p["day"], datetime.min.time())
    inputs = TrendingInputs(votes=p["upvotes"], stars=p["stars"], listed_at=listed)
    return trending_score(inputs, listed + timedelta(days=1)).score


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("hf_dir", type=Path)
    ap.add_argument("--by", choices=("organization", "submitter"), default="organization")
    ap.add_argument("--min-papers", type=int, default=8)
    ap.add_argument("--train", type=float, default=0.6)
    args = ap.parse_args()

    t0 = time.perf_counter()
    papers, owners = load(args.hf_dir, args.by)
    ids = sorted(papers, key=lambda i: (papers[i]["day"], i))
    row = {pid: i for i, pid in enumerate(ids)}
    vecs = Embedder().embed([papers[i]["text"] for i in ids])
    words = [model.terms(papers[i]["text"]) for i in ids]
    days = np.array([papers[i]["day"].toordinal() for i in ids])
    trend = np.array([trending_at_one_day(papers[i]) for i in ids])
    print(f"papers: {len(ids)}  embedded in {time.perf_counter() - t0:.1f} s", flush=True)

    readers = {k: v for k, v in owners.items() if len(v) >= args.min_papers}
    methods: dict[str, list[float]] = defaultdict(list)
    rng = np.random.default_rng(0)
    n_cands, timing = [], 0.0
    for _name, own in sorted(readers.items()):
        cut = int(round(len(own) * args.train))
        train, test = own[:cut], own[cut:]
        if not train or not test:
            continue
        lo, hi = papers[test[0]]["day"].toordinal(), papers[test[-1]]["day"].toordinal()
        tr = {row[p] for p in train}
        cand = [i for i in np.flatnonzero((days >= lo) & (days <= hi)) if i not in tr]
        truth = {row[p] for p in test}
        n_cands.append(len(cand))
        cv, pv = vecs[cand], vecs[sorted(tr)]

        def p10(scores, cand=cand, truth=truth) -> float:
            order = sorted(range(len(cand)), key=lambda j: (-scores[j], cand[j]))[:10]
            return sum(cand[j] in truth for j in order) / 10

        methods["random (expected)"].append(len(truth) / len(cand))
        methods["trending-only"].append(p10(trend[cand]))
        reader = model.Reader(
            pos_ids=sorted(tr),
            pos_vecs=pv,
            pos_vec_ids=sorted(tr),
            pos_words=[words[i] for i in sorted(tr)],
        )
        cw = [words[i] for i in cand]
        bg = vecs[rng.choice(len(ids), size=min(500, len(ids)), replace=False)]
        s = time.perf_counter()
        ranked = model.rank(reader, cand, cv, np.ones(len(cand), bool), cw, background=bg, limit=10)
        timing += time.perf_counter() - s
        methods[f"personal (default: logistic + words, w={model.DENSE_WEIGHT})"].append(
            sum(r.pid in truth for r in ranked) / 10
        )
        lex = model.zscore(model.lexical_scores(reader, cw)[0])
        methods["words only (TF-IDF profile)"].append(p10(lex))
        knn = {k: model.zscore(model.dense_scores(cv, pv, k=k)[0]) for k in (1, 3, 10)}
        for k, d in knn.items():
            methods[f"dense only, {k}-nearest"].append(p10(d))
        methods["dense only, centroid"].append(p10(model.centroid_scores(cv, pv)))
        logit = model.zscore(model.logistic_scores(cv, pv, bg))
        methods["dense only, logistic regression (vs 500 random papers)"].append(p10(logit))
        for w in (0.3, 0.5, 0.7):
            methods[f"3-nearest + words, w={w}"].append(p10(w * knn[3] + (1 - w) * lex))
            methods[f"1-nearest + words, w={w}"].append(p10(w * knn[1] + (1 - w) * lex))
            methods[f"logistic + words, w={w}"].append(p10(w * logit + (1 - w) * lex))

    n = len(n_cands)
    print(f"readers ({args.by}s with >= {args.min_papers} papers): {n}")
    print(f"candidates per reader (median): {int(np.median(n_cands))}")
    for label, values in methods.items():
        print(f"precision@10 {label}: {np.mean(values):.3f}")
    print(f"personal ranking time per reader: {1000 * timing / max(n, 1):.1f} ms")
    print(f"total time: {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
