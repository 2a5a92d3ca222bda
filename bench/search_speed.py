"""Search speed on a real corpus: index build per part, embedding rate, query latency, memory.

Usage: python bench/search_speed.py HF_DIR [SNAPSHOT.jsonl.gz ...]
Reads the records straight from the files (no database), builds the lexical and dense
indexes (and the vector index) in a temporary directory, then times 1,000 queries (HF titles
and keyword phrases) per mode.  Dense and hybrid figures include the query embedding; "dense
exact" (a numpy scan over every float32 vector, the reference for recall) and "dense
filtered" (a category filter that allows about 40,000 papers) time the search alone.

Then the contextual tier.  Embedding every paper with MiniLM takes hours on 2 cores, so the
rate is measured on 256 papers, and the tier is filled with stand-in vectors: the static
vectors through a fixed random 256 -> 384 projection, normalized (the same count, size and
index as real ones, and clustered like the corpus).  "hybrid two-tier" times the product's
``HybridSearcher.ranked`` with both tiers: BM25, the static and the real contextual query
embedding, both vector-index searches, and the fusion.  Prints one figure per line.
"""

from __future__ import annotations

import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from paperwire.search.dense import DenseIndex
from paperwire.search.hybrid import DENSE_POOL, LEXICAL_POOL, HybridSearcher, combine
from paperwire.search.indexer import SearchIndex
from paperwire.search.lexical import Filters
from paperwire.search.lexical_writers import BulkWriter
from paperwire.search.query import parse
from paperwire.sources.files import expand_paths, read_file
from paperwire.store.views import SearchDoc


def docs_from(paths: list[Path]) -> tuple[list[SearchDoc], list[str]]:
    seen: dict[str, SearchDoc] = {}
    queries: list[str] = []
    for path in expand_paths(paths):
        hf = path.suffix == ".json"
        for rec in read_file(path):
            if not hasattr(rec, "arxiv_id") or rec.arxiv_id in seen:
                continue
            lst = rec.listing
            day = lst.day if lst else None
            org = lst.organization.name if lst and lst.organization else None
            seen[rec.arxiv_id] = SearchDoc(
                len(seen) + 1, rec.arxiv_id, rec.title, rec.abstract or "", list(rec.authors),
                list(rec.keywords or []), list(rec.categories or []), org, day, rec.upvotes or 0,
            )  # fmt: skip
            if hf:
                queries.append(rec.title)
                queries.extend(" ".join(k.split()[:3]) for k in (rec.keywords or [])[:2])
    return list(seen.values()), queries


def pct(xs: list[float], p: float) -> float:
    return float(np.percentile(np.array(xs) * 1000, p))


def main(paths: list[Path]) -> None:
    t = time.perf_counter()
    docs, queries = docs_from(paths)
    print(f"papers: {len(docs)}")
    print(f"cpu cores: {os.cpu_count()}, load average at start: {os.getloadavg()[0]:.2f}")
    print(f"read s: {time.perf_counter() - t:.1f}")
    random.seed(7)
    queries = random.sample(queries, min(1000, len(queries)))
    with tempfile.TemporaryDirectory() as tmp:
        index = SearchIndex(Path(tmp))
        t = time.perf_counter()
        bulk = BulkWriter(index.lexical)
        for i in range(0, len(docs), 5000):
            bulk.add(docs[i : i + 5000])
        bulk.commit()
        print(f"lexical build s: {time.perf_counter() - t:.1f}")
        t = time.perf_counter()
        for i in range(0, len(docs), 5000):
            index.dense.upsert(docs[i : i + 5000])
        print(f"dense fields build s: {time.perf_counter() - t:.1f}")
        emb = index.embedder
        t = time.perf_counter()
        allvecs = np.zeros((len(docs), index.dense.dim), dtype=np.float32)
        for i in range(0, len(docs), 2048):
            chunk = docs[i : i + 2048]
            allvecs[i : i + len(chunk)] = emb.embed([d.embed_text for d in chunk])
            index.dense.set_vectors([d.id for d in chunk], allvecs[i : i + len(chunk)])
        allpids = np.array([d.id for d in docs], dtype=np.int64)
        dt = time.perf_counter() - t
        print(f"embed papers/s: {len(docs) / dt:.0f}")
        print(f"embed s: {dt:.1f}")
        t = time.perf_counter()
        index.dense.refresh(force=True)
        print(f"dense load s: {time.perf_counter() - t:.1f}")
        t = time.perf_counter()
        index.dense.update_ann()
        print(f"vector index ({index.dense.ann.kind}) build+save s: {time.perf_counter() - t:.1f}")
        print(f"vector index file MB: {index.dense.ann_path.stat().st_size / 2**20:.0f}")
        t = time.perf_counter()
        reader = DenseIndex(index.dense.path, model=index.dense.model)
        reader.refresh(force=True)
        print(f"dense load with its index s (a serving process): {time.perf_counter() - t:.1f}")
        del reader
        lat: dict[str, list[float]] = {
            "lexical": [], "dense": [], "hybrid": [], "dense exact": [], "dense filtered": [],
            "recall@10": [],
        }  # fmt: skip
        f = Filters()
        # a category filter that allows about 40,000 papers
        counts = index.dense.categories()
        cat = min(counts, key=lambda c: abs(counts[c] - 40_000), default=None)
        wide = Filters(category=cat)  # no categories (HF files only): no filter
        print(f"filtered: category {cat}, {int(index.dense.mask(wide).sum())} papers")
        for text in queries:
            q = parse(text)
            t0 = time.perf_counter()
            lh, _ = index.lexical.search(q, f, LEXICAL_POOL)
            t1 = time.perf_counter()
            qv = index.query_vector(q.dense_text)
            dh = index.dense.search(qv, f, DENSE_POOL)
            t2 = time.perf_counter()
            cands = [p for p, _ in lh] + [p for p, _ in dh]
            combine(lh, dh, index.dense.similarities(cands, qv))
            t3 = time.perf_counter()
            index.dense.search(qv, wide, DENSE_POOL)
            t4 = time.perf_counter()
            t5 = time.perf_counter()
            scores = allvecs @ qv
            top = np.argpartition(-scores, 9)[:10]
            t6 = time.perf_counter()
            lat["lexical"].append(t1 - t0)
            lat["dense"].append(t2 - t1)
            lat["hybrid"].append(t3 - t0)
            lat["dense filtered"].append(t4 - t3)
            lat["dense exact"].append(t6 - t5)
            top = set(allpids[top].tolist())
            lat["recall@10"].append(len(top & {p for p, _ in dh[:10]}) / max(len(top), 1) / 1000)
        print(f"vector index recall@10 vs exact: {np.mean(lat.pop('recall@10')) * 1000:.3f}")
        print(f"max rss MB (static tier): {rss_mb():.0f}")
        contextual(index, docs, allvecs, queries, lat)
        for mode, xs in lat.items():
            print(f"{mode} p50 ms: {pct(xs, 50):.1f}")
            print(f"{mode} p95 ms: {pct(xs, 95):.1f}")
        print(f"max rss MB: {rss_mb():.0f}")
        print(f"load average at end: {os.getloadavg()[0]:.2f}")


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def contextual(index: SearchIndex, docs: list[SearchDoc], allvecs, queries: list[str], lat):
    """The contextual tier: real embedding rate and query path, stand-in document vectors."""
    model = index.contextual_embedder
    sample = [d.embed_text for d in random.Random(7).sample(docs, min(256, len(docs)))]
    t = time.perf_counter()
    model.embed(sample)
    print(f"contextual embed papers/s (256 papers): {len(sample) / (time.perf_counter() - t):.1f}")
    proj = np.random.default_rng(7).standard_normal((index.dense.dim, model.dim))
    t = time.perf_counter()
    for i in range(0, len(docs), 5000):
        chunk = docs[i : i + 5000]
        index.contextual.upsert(chunk)
        v = allvecs[i : i + len(chunk)] @ proj
        v /= np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
        index.contextual.set_vectors([d.id for d in chunk], v.astype(np.float32))
    print(f"contextual stand-in vectors s: {time.perf_counter() - t:.1f}")
    t = time.perf_counter()
    index.contextual.update_ann()
    print(f"contextual vector index build+save s: {time.perf_counter() - t:.1f}")
    mb = index.contextual.ann_path.stat().st_size / 2**20
    print(f"contextual vector index file MB: {mb:.0f}")
    searcher = HybridSearcher(index, None)
    lat["contextual query embed"], lat["hybrid two-tier"] = [], []
    for text in queries:
        q = parse(text)
        t0 = time.perf_counter()
        model.embed_one(q.dense_text)
        t1 = time.perf_counter()
        searcher.ranked(q)
        t2 = time.perf_counter()
        lat["contextual query embed"].append(t1 - t0)
        lat["hybrid two-tier"].append(t2 - t1)
    # what a server holds: a fresh process opens the index (both tiers, their vector indexes)
    # and searches
    got = subprocess.run(
        [sys.executable, "-c", SERVE, str(index.path), *queries[:100]],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    load_s, rss = got.stdout.split()
    print(f"serving process load s (both tiers): {float(load_s):.1f}")
    print(f"serving process max rss MB (both tiers, 100 hybrid queries): {float(rss):.0f}")


SERVE = """
import sys, time
from pathlib import Path
from paperwire.search.hybrid import HybridSearcher
from paperwire.search.indexer import SearchIndex
from paperwire.search.query import parse
t = time.perf_counter()
index = SearchIndex(Path(sys.argv[1]))
index.dense.refresh(force=True)
index.contextual.refresh(force=True)
print(time.perf_counter() - t)
searcher = HybridSearcher(index, None)
for text in sys.argv[2:]:
    searcher.ranked(parse(text))
# the peak resident set of this process (ru_maxrss would include the parent's, from fork)
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(int(hwm.split()[1]) / 1024)
"""


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python bench/search_speed.py HF_DIR [SNAPSHOT.jsonl.gz ...]")
    main([Path(a) for a in sys.argv[1:]])
