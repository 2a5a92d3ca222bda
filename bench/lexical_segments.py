"""What the lexical index's segment count costs: the same title queries against index
directories of one corpus written differently.

    python bench/lexical_segments.py DATA_DIR [OTHER_INDEX_DIR ...] [--one-segment OUT]

DATA_DIR is a data directory that ``paperwire import`` filled; its ``index/lexical`` is
measured, and each OTHER_INDEX_DIR (a ``lexical`` directory of the same papers) beside it.
``--one-segment OUT`` first writes every paper of DATA_DIR's database into a new index at
OUT with one writer, a heap big enough for all of them and one commit: one segment (about
2.5 KB of heap a paper; fine at 183k, not at 2.9M).  Prints each directory's segment count,
then p50 / p95 of 600 random titles (top 100, as search asks), two rounds each.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import time
from pathlib import Path

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data", type=Path)
    ap.add_argument("others", type=Path, nargs="*")
    ap.add_argument("--one-segment", type=Path, help="write a one-segment copy here first")
    ap.add_argument("--queries", type=int, default=600)
    args = ap.parse_args()
    os.environ["PAPERWIRE_DATA_DIR"] = str(args.data)
    from paperwire.context import open_store
    from paperwire.search.lexical import Filters, LexicalIndex, to_document
    from paperwire.search.query import parse
    from paperwire.settings import Settings

    dirs = [args.data / "index" / "lexical", *args.others]
    if args.one_segment:
        store = open_store(Settings(search_index_on_import=False))
        out = LexicalIndex(args.one_segment)
        writer = out.index.writer(heap_size=2_000_000_000, num_threads=1)
        t = time.perf_counter()
        for docs in store.iter_search_docs():
            for doc in docs:
                writer.add_document(to_document(doc))
        writer.commit()
        writer.wait_merging_threads()
        print(f"one-segment copy written in {time.perf_counter() - t:.0f} s")
        dirs.append(args.one_segment)
    print(f"cpu cores: {os.cpu_count()}, load average at start: {os.getloadavg()[0]:.2f}")
    titles = sqlite3.connect(args.data / "paperwire.db").execute("SELECT title FROM papers")
    queries = random.Random(3).sample([t for (t,) in titles], args.queries)
    indexes = [LexicalIndex(d) for d in dirs]
    for d, index in zip(dirs, indexes, strict=True):
        segments = json.loads((d / "meta.json").read_text())["segments"]
        sizes = sorted((s["max_doc"] for s in segments), reverse=True)
        print(f"{d}: {len(segments)} segments {sizes}")
        for q in queries[:50]:  # warm
            index.search(parse(q), Filters(), 100)
    for rnd in (1, 2):
        for d, index in zip(dirs, indexes, strict=True):
            took = []
            for q in queries:
                parsed = parse(q)
                t = time.perf_counter()
                index.search(parsed, Filters(), 100)
                took.append(time.perf_counter() - t)
            ms = np.array(took) * 1000
            p50, p95 = np.percentile(ms, 50), np.percentile(ms, 95)
            print(f"round {rnd} {d} p50 / p95 ms: {p50:.2f} / {p95:.2f}")


if __name__ == "__main__":
    main()
