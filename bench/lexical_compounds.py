"""What searching a short query's hyphenated compounds as phrases costs, and what it buys.

    python bench/lexical_compounds.py SPEED_DATA CORPUS.jsonl.gz KNOWN_DATA [--rounds 2]

A query under ``LONG_QUERY`` words searches ``vision-language`` as the phrase "vision
language" (as written); a phrase of two common words reads the positions of every paper that
has both.  Variants, by ``LexicalIndex.search`` in this process:

- *phrase* (the product);
- *words*: the compound's words as plain words (as bm25s and a long query do);
- *words + title phrase*: the words, and the phrase on the title field only (boost 0.3).

Speed: the 1,000 queries and filter mix of ``bench/scale.py`` over SPEED_DATA (the 2.9M
scenario's data directory), top 100, p50 / p95 ms per round.  Quality, over KNOWN_DATA (the
183k shared corpus imported): 1,500 titles of random papers, cut to their first four words
or kept whole, whichever is short and has a compound; the paper's reciprocal rank in the top
100 (known-item MRR), and how much of each top 10 the variant shares with the product's.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import sqlite3
import sys
import time
from pathlib import Path

import numpy as np
import tantivy

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lexical_variants import filter_mix  # noqa: E402
from scale import titles  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("speed_data", type=Path)
    ap.add_argument("corpus", type=Path)
    ap.add_argument("known_data", type=Path)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()

    import paperwire.search.lexical as lx
    from paperwire.search.query import ParsedQuery, parse

    class AsWords(ParsedQuery):
        """The query as the product searches a long one: its compounds as their words."""

        @property
        def long(self) -> bool:
            return True

    def as_words(q: ParsedQuery) -> ParsedQuery:
        return AsWords(**{f.name: getattr(q, f.name) for f in dataclasses.fields(q)})

    product = lx.LexicalIndex._query

    def with_title_phrase(self, q, searcher):
        """The product's query, and each compound of a short query as a phrase on titles."""
        base = product(self, q, searcher)
        short = not ParsedQuery.long.fget(q)  # (a long query's compounds are words anyway)
        extra = []
        for words in q.compounds if short else []:
            clause, _ = self.index.parse_query_lenient(
                '"' + " ".join(words) + '"', ["title"], field_boosts={"title": 0.3}
            )
            extra.append((tantivy.Occur.Should, clause))
        if not extra:
            return base
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, base), *extra])

    variants = [
        ("phrase (product)", product, lambda q: q),
        ("words", product, as_words),
        ("words + title phrase", with_title_phrase, as_words),
    ]

    texts = titles(args.corpus)
    queries = [parse(t) for t in texts]
    filters = filter_mix(len(texts))
    index = lx.LexicalIndex(args.speed_data / "index" / "lexical")
    print(f"speed: {len(queries)} queries over {index.index.searcher().num_docs} papers")
    for r in range(args.rounds):
        took: dict[str, list[float]] = {name: [] for name, _, _ in variants}
        for q, f in zip(queries, filters, strict=True):
            for name, query_of, change in variants:
                lx.LexicalIndex._query = query_of
                q2 = change(q)
                t = time.perf_counter()
                index.search(q2, f, 100)
                took[name].append(time.perf_counter() - t)
        lx.LexicalIndex._query = product
        print(f"round {r + 1}, load average {os.getloadavg()[0]:.2f}")
        for name, xs in took.items():
            a = np.array(xs) * 1000
            print(f"  {name}: p50 {np.percentile(a, 50):.1f} / p95 {np.percentile(a, 95):.1f} ms")

    known = lx.LexicalIndex(args.known_data / "index" / "lexical")
    with sqlite3.connect(args.known_data / "paperwire.db") as db:
        rows = db.execute("SELECT id, title FROM papers ORDER BY id").fetchall()
    random.Random(5).shuffle(rows)
    cases = []
    for pid, title in rows:
        text = " ".join(title.split())
        for cand in (" ".join(text.split()[:4]), text):
            q = parse(cand)
            if q.compounds and not q.long:
                cases.append((pid, q))
                break
        if len(cases) >= 1500:
            break
    print(f"known items: {len(cases)} short title queries with a compound")
    first: list[list[int]] = []
    for name, query_of, change in variants:
        lx.LexicalIndex._query = query_of
        rr, tops = [], []
        for pid, q in cases:
            ids = [p for p, _ in known.search(change(q), limit=100)[0]]
            rr.append(1 / (ids.index(pid) + 1) if pid in ids else 0.0)
            tops.append(ids[:10])
        lx.LexicalIndex._query = product
        first = first or tops
        pairs = zip(first, tops, strict=True)
        shared = np.mean([len(set(a) & set(b)) / max(1, len(a)) for a, b in pairs])
        print(f"  {name}: MRR {np.mean(rr):.4f}, top 10 shared with the product {shared:.3f}")


if __name__ == "__main__":
    main()
