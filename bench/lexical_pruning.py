"""Why lexical search costs what it does at scale, and two ways around it that were measured.

    python bench/lexical_pruning.py DATA_DIR CORPUS.jsonl.gz [--shards DIR] [--rounds 2]

tantivy-py's ``Searcher.search`` always collects through a ``MultiCollector`` (a top-k and,
with ``count=True``, a count), and tantivy prunes with block-max WAND only under a bare
top-k collector: so every document that matches any clause is scored.  This script shows it
and measures what a Python caller can do about it, over the 1,000 queries of ``bench/scale.py``
(titles and their first four words) with its filter mix, top 100, in this process:

1. the product's query (``LexicalIndex.search``), at top 10 and top 100: with pruning, top 10
   would cost far less than top 100;
2. the cost of each kind of clause, alone, for the 20 dearest queries;
3. an exact MaxScore split written as a query: a first search of the rare clauses gives a
   lower bound on the k-th score; the commonest clauses whose summed upper bounds stay
   under it become optional (``Must(rare ones) + Should(common ones)``), so a paper that
   matches only common words is never scored.  Same answers expected; the time is the
   question;
4. with ``--shards DIR``: the index split in two by store id (built there from DATA_DIR's
   database on the first run, two processes), both halves searched at once on two threads
   and merged by score.  Each half has its own BM25 statistics, so the overlap of the top
   100 with the one-index answer is printed too, and the halves one after the other (the
   CPU the query costs).

Prints p50 / p95 ms per variant and round.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lexical_variants import filter_mix  # noqa: E402
from scale import titles  # noqa: E402

K1 = 1.2  # tantivy's BM25 (query/bm25.rs): a term adds at most idf * (1 + K1) * boost
CHEAP = 64  # the first search takes the clauses matching at most 1/CHEAP of the papers


def pct(xs: list[float]) -> str:
    a = np.array(xs) * 1000
    return f"p50 {np.percentile(a, 50):.1f} / p95 {np.percentile(a, 95):.1f} ms"


def build_shard(data: str, out: str, k: int, parts: int) -> int:
    os.environ["PAPERWIRE_DATA_DIR"] = data
    from paperwire.context import open_store
    from paperwire.search.lexical import LexicalIndex, to_document
    from paperwire.settings import Settings

    store = open_store(Settings())
    index = LexicalIndex(Path(out) / str(k))
    writer = index.index.writer(heap_size=400_000_000, num_threads=1)
    n = 0
    for docs in store.iter_search_docs():
        for d in docs:
            if d.id % parts == k:
                writer.add_document(to_document(d))
                n += 1
    writer.commit()
    writer.wait_merging_threads()
    store.close()
    return n


class Split:
    """The MaxScore split of a query's clauses, as tantivy queries."""

    def __init__(self, index) -> None:
        import paperwire.search.lexical as lx

        self.lx, self.index = lx, index

    def clauses(self, q, searcher) -> list[tuple[object, float, int]]:
        """``(query, upper bound, papers matched)`` per (piece, field); phrases and prefixes
        get an infinite bound (always required)."""
        import re

        import tantivy

        lx = self.lx
        n_docs = searcher.num_docs
        out = []
        for piece in lx.rarest(q.pieces(), searcher, lx.MAX_TERMS):
            for f in lx.FIELDS:
                clause, _ = self.index.index.parse_query_lenient(
                    piece, [f], field_boosts={f: lx.BOOSTS[f]}, conjunction_by_default=False
                )
                bound, df = math.inf, -1
                if not piece.startswith('"'):
                    stems = (lx._DEFAULT if f == "authors" else lx._EN_STEM).analyze(piece)
                    if len(stems) == 1:
                        df = searcher.doc_freq(f, stems[0])
                        if df == 0:
                            continue
                        # N from live documents: tantivy counts deleted ones too (a larger
                        # idf); a freshly built index has none
                        idf = math.log(1 + (n_docs - df + 0.5) / (df + 0.5))
                        bound = (1 + K1) * idf * lx.BOOSTS[f]
                out.append((clause, bound, df))
        for w in q.word_prefixes:
            for f in lx.FIELDS:
                rx = tantivy.Query.regex_query(self.index.schema, f, re.escape(w) + ".*")
                out.append((tantivy.Query.boost_query(rx, lx.BOOSTS[f]), math.inf, -1))
        return out

    def search(self, q, filters, limit: int):
        import tantivy

        should, must = tantivy.Occur.Should, tantivy.Occur.Must
        searcher = self.index.index.searcher()
        cl = self.clauses(q, searcher)

        def union(qs):
            return tantivy.Query.boolean_query([(should, x) for x in qs])

        def full(query):  # the product's exclusions and filters around it
            return self.index._with_filters(self.index.excluding(query, q.excluded), filters)

        known = [c for c in cl if c[2] >= 0]
        optional: list = []
        if known:
            floor = max(searcher.num_docs / CHEAP, min(c[2] for c in known))
            cheap = [c[0] for c in cl if c[2] <= floor]
            if len(cheap) < len(cl):
                hits = searcher.search(full(union(cheap)), limit, count=False).hits
                theta = min(float(s) for s, _ in hits) if len(hits) >= limit else 0.0
                total = 0.0
                for c in sorted(known, key=lambda c: c[1]):
                    if (total + c[1]) * 1.01 >= theta:
                        break
                    total += c[1]
                    optional.append(c)
        if not optional:
            query = full(union([c[0] for c in cl]))
        else:
            skip = {id(c) for c in optional}
            required = union([c[0] for c in cl if id(c) not in skip])
            query = full(
                tantivy.Query.boolean_query([(must, required)] + [(should, c[0]) for c in optional])
            )
        return self.lx.ranked(searcher, searcher.search(query, limit, count=False).hits)


def key(t: tuple[int, float]) -> tuple[float, int]:
    return (-t[1], t[0])


def same(a: list, b: list) -> bool:
    """The same papers, but for ties at the cut (scores within float rounding)."""
    if {p for p, _ in a} == {p for p, _ in b}:
        return True
    if not a or not b:
        return False
    cut = a[-1][1]
    scores = dict(a) | dict(b)
    return all(
        abs(scores[p] - cut) <= 1e-4 * max(1.0, cut) for p in {p for p, _ in a} ^ {p for p, _ in b}
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data", type=Path)
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--shards", type=Path, help="two halves of the index, built here if absent")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()

    import paperwire.search.lexical as lx
    from paperwire.search.query import parse

    texts = titles(args.corpus)
    queries = [parse(t) for t in texts]
    filters = filter_mix(len(texts))
    index = lx.LexicalIndex(args.data / "index" / "lexical")
    searcher = index.index.searcher()
    print(f"segments: {searcher.num_segments}, documents: {searcher.num_docs}")
    halves = []
    if args.shards:
        if not (args.shards / "1" / "meta.json").exists():
            t = time.monotonic()
            ctx = multiprocessing.get_context("spawn")
            with ctx.Pool(2) as pool:
                made = pool.starmap(
                    build_shard, [(str(args.data), str(args.shards), k, 2) for k in (0, 1)]
                )
            print(f"built two halves of {made} papers in {time.monotonic() - t:.0f} s")
        halves = [lx.LexicalIndex(args.shards / str(k)) for k in (0, 1)]
        segs = [h.index.searcher().num_segments for h in halves]
        print(f"halves: {segs} segments")
    print(f"queries: {len(texts)}, load average at start: {os.getloadavg()[0]:.2f}")

    # 2. what each kind of clause costs alone, for the dearest queries
    took = []
    for q, f in zip(queries, filters, strict=True):
        t = time.perf_counter()
        index.search(q, f, 100)
        took.append((time.perf_counter() - t, q))
    took.sort(key=lambda x: -x[0])
    kinds: dict[str, list[float]] = {"word": [], "phrase": []}
    for _, q in took[:20]:
        for piece in lx.rarest(q.pieces(), searcher, lx.MAX_TERMS):
            clause, _ = index.index.parse_query_lenient(piece, ["text"])
            t = time.perf_counter()
            searcher.search(clause, 100, count=False)
            kinds["phrase" if piece.startswith('"') else "word"].append(time.perf_counter() - t)
    for kind, xs in kinds.items():
        if xs:
            print(f"one {kind} clause on text, dearest 20 queries ({len(xs)}): {pct(xs)}")

    split = Split(index)
    pool = ThreadPoolExecutor(2)
    for r in range(args.rounds):
        print(f"round {r + 1}, load average {os.getloadavg()[0]:.2f}")
        product, top10, exact, two, seq = [], [], [], [], []
        agree, overlap = 0, []
        for q, f in zip(queries, filters, strict=True):
            t0 = time.perf_counter()
            ref, _ = index.search(q, f, 100)
            t1 = time.perf_counter()
            index.search(q, f, 10)
            t2 = time.perf_counter()
            got = split.search(q, f, 100)
            t3 = time.perf_counter()
            product.append(t1 - t0)
            top10.append(t2 - t1)
            exact.append(t3 - t2)
            agree += same(ref, got)
            if halves:
                t4 = time.perf_counter()
                futs = [pool.submit(h.search, q, f, 100) for h in halves]
                merged = sorted((x for fu in futs for x in fu.result()[0]), key=key)[:100]
                t5 = time.perf_counter()
                for h in halves:
                    h.search(q, f, 100)
                seq.append(time.perf_counter() - t5)
                two.append(t5 - t4)
                want = {p for p, _ in ref}
                overlap.append(len(want & {p for p, _ in merged}) / len(want) if want else 1.0)
        print(f"  the product, top 100: {pct(product)}")
        print(f"  the product, top 10: {pct(top10)}")
        print(f"  exact split as a query: {pct(exact)}; same answers {agree} of {len(queries)}")
        if halves:
            print(f"  two halves on two threads: {pct(two)}")
            print(f"  two halves one after the other (the CPU): {pct(seq)}")
            print(
                f"  overlap of the top 100 with one index: mean {np.mean(overlap):.4f}, "
                f"lowest {min(overlap):.2f}"
            )
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
