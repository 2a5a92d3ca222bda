"""Where lexical search spends its time: the same queries, the lexical query taken apart.

    python bench/lexical_variants.py DATA_DIR CORPUS.jsonl.gz

DATA_DIR is a data directory that ``paperwire import`` filled (its ``index/lexical`` is
read); CORPUS is the snapshot file ``bench/scale.py`` made, whose 1,000 query titles and
filter mix (a quarter with a category, a tenth with the 2020-2024 range) this uses too.
Prints p50 / p95 ms, top 100 unless a line says otherwise, for: the query as the product
runs it; the ``text`` field alone; no filter; no filter with hyphenated compounds searched as
words instead of phrases (a plain union of term scorers; tantivy-py scores every match of
it, see bench/lexical_pruning.py); that at top 10 and top 500; each filter kind as run;
and building the query in Python against tantivy's search.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale import titles  # noqa: E402  (the same queries as the scale run)

CATEGORIES = ["cs.LG", "cs.CV", "math.AP", "hep-th", "cs.CL", "quant-ph", "astro-ph.GA"]


def filter_mix(n: int) -> list:
    """The scale run's filters for ``n`` queries: a quarter with a category, a tenth with the
    2020-2024 range, the rest none (the same draw every time)."""
    from paperwire.search.lexical import Filters

    rng = random.Random(7)
    out = []
    for i in range(n):
        f = Filters()
        if i % 4 == 0:
            f = Filters(category=rng.choice(CATEGORIES))
        elif i % 5 == 0:
            f = Filters(start=date(2020, 1, 1), end=date(2024, 12, 31))
        out.append(f)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data", type=Path)
    ap.add_argument("corpus", type=Path)
    args = ap.parse_args()

    import paperwire.search.lexical as lexical
    import paperwire.search.query as query
    from paperwire.search.query import parse

    texts = titles(args.corpus)
    index = lexical.LexicalIndex(args.data / "index" / "lexical")
    searcher = index.index.searcher()
    print(f"segments: {searcher.num_segments}, documents: {searcher.num_docs}")
    print(f"queries: {len(texts)}, load average at start: {os.getloadavg()[0]:.2f}")
    filters = filter_mix(len(texts))
    kinds = ["category" if f.category else "2020-2024" if f.start else "none" for f in filters]

    def run(label: str, fs: list, limit: int = 100) -> np.ndarray:
        took = []
        for text, f in zip(texts, fs, strict=True):
            q = parse(text)
            t = time.perf_counter()
            index.search(q, f, limit)
            took.append(time.perf_counter() - t)
        ms = np.array(took) * 1000
        print(f"{label}: p50 {np.percentile(ms, 50):.1f} / p95 {np.percentile(ms, 95):.1f} ms")
        return ms

    run("warm-up (not a figure)", filters)
    ms = run("as the product runs it", filters)
    for kind in ("none", "category", "2020-2024"):
        xs = ms[[k == kind for k in kinds]]
        print(f"  filter {kind} ({len(xs)}): p50 {np.percentile(xs, 50):.1f} / p95 "
              f"{np.percentile(xs, 95):.1f} ms")  # fmt: skip
    fields = list(lexical.FIELDS)
    lexical.FIELDS[:] = ["text"]
    run("the text field alone", filters)
    lexical.FIELDS[:] = fields
    none = [lexical.Filters()] * len(texts)
    run("no filter", none)
    long = query.ParsedQuery.__dict__["long"]
    query.ParsedQuery.long = property(lambda self: True)  # type: ignore[method-assign]
    run("no filter, compounds as words", none)
    run("  top 10", none, 10)
    run("  top 500", none, 500)
    query.ParsedQuery.long = long  # type: ignore[method-assign]
    build, search = [], []
    for text in texts:
        q = parse(text)
        t0 = time.perf_counter()
        built = index._query(q, searcher)
        t1 = time.perf_counter()
        searcher.search(built, 100, count=False)
        build.append(t1 - t0)
        search.append(time.perf_counter() - t1)
    for label, xs in (("building the query", build), ("tantivy's search of it", search)):
        a = np.array(xs) * 1000
        print(f"{label}: p50 {np.percentile(a, 50):.2f} / p95 {np.percentile(a, 95):.2f} ms")


if __name__ == "__main__":
    main()
