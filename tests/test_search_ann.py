"""Dense retrieval through the HNSW graph: agreement with exact search, filters inside the
graph walk, incremental updates, re-embedding, rebuilds and updates made by another process.
Real papers, the real model, real faiss indexes; ``exact_below = exact_share = 0`` forces the
graph path, which otherwise serves only filters that allow 20,000 papers and a quarter of all."""

from __future__ import annotations

import dataclasses
from functools import lru_cache

import numpy as np
import pytest

from paperwire.search.ann import REBUILD_STALE
from paperwire.search.dense import DenseIndex
from paperwire.search.embed import default_embedder
from paperwire.search.indexer import SearchIndex, open_index
from paperwire.search.lexical import Filters
from paperwire.sources.files import read_file
from paperwire.store import open_store
from paperwire.store.views import SearchDoc

DAYS = ["2026-08-19.json", "2026-08-20.json", "2026-08-21.json"]


def hf_docs(hf_dir, n_days: int = 25) -> list[SearchDoc]:
    docs: dict[str, SearchDoc] = {}
    for path in sorted(hf_dir.glob("2026-*.json"))[-n_days:]:
        for rec in read_file(path):
            if not hasattr(rec, "arxiv_id") or rec.arxiv_id in docs:
                continue
            lst = rec.listing
            docs[rec.arxiv_id] = SearchDoc(
                len(docs) + 1, rec.arxiv_id, rec.title, rec.abstract or "", list(rec.authors),
                list(rec.keywords or []), list(rec.categories or []),
                lst.organization.name if lst and lst.organization else None,
                lst.day if lst else None, rec.upvotes or 0,
            )  # fmt: skip
    return list(docs.values())


@lru_cache(maxsize=1)
def _corpus(hf_dir):
    docs = hf_docs(hf_dir)
    return docs, default_embedder().embed([d.embed_text for d in docs])


@pytest.fixture
def corpus(shared_hf_dir):
    docs, vecs = _corpus(shared_hf_dir)
    assert len(docs) >= 300
    return docs, vecs


def dense_index(path, docs, vecs) -> DenseIndex:
    d = DenseIndex(path / "vectors.sqlite")
    d.upsert(docs)
    d.set_vectors([x.id for x in docs], vecs)
    d.update_ann()
    return d


def ids(hits):
    return [p for p, _ in hits]


def test_ann_agrees_with_exact_search(tmp_path, corpus):
    docs, vecs = corpus
    d = dense_index(tmp_path, docs, vecs)
    assert d.ann is not None and d.ann.size == len(docs) and d.ann.stale == 0
    assert (tmp_path / "dense.hnsw").exists()
    queries = default_embedder().embed([f"{x.title}" for x in docs[::10]])
    recalls = []
    for q in queries:
        d.exact_below = 10**9
        exact = ids(d.search(q, limit=10))
        d.exact_below = d.exact_share = 0
        approx = d.search(q, limit=10)
        assert len(approx) == 10 and len(set(ids(approx))) == 10
        assert [s for _, s in approx] == sorted((s for _, s in approx), reverse=True)
        recalls.append(len(set(exact) & set(ids(approx))) / 10)
    assert np.mean(recalls) >= 0.9, np.mean(recalls)


def test_filters_apply_inside_the_graph_walk(tmp_path, corpus):
    docs, vecs = corpus
    d = dense_index(tmp_path, docs, vecs)
    d.exact_below = d.exact_share = 0
    cut = sorted((x.upvotes for x in docs), reverse=True)[len(docs) // 12]
    f = Filters(min_upvotes=cut)
    allowed = {x.id for x in docs if x.upvotes >= cut}
    q = default_embedder().embed_one(next(x.title for x in docs if x.id not in allowed))
    unfiltered = ids(d.search(q, limit=len(docs) - 1))
    got = ids(d.search(q, f, limit=10))
    assert len(got) == 10 and set(got) <= allowed
    # the allowed papers are found where a filter after a top-k would have lost them
    assert sum(unfiltered.index(p) >= 50 for p in got) >= 3
    d.exact_below = 10**9
    assert len(set(got) & set(ids(d.search(q, f, limit=10)))) >= 9
    d.exact_below = d.exact_share = 0
    # exclusions (related papers) too
    near = ids(d.search(vecs[0], limit=5, exclude=(docs[0].id,)))
    assert len(near) == 5 and docs[0].id not in near


def test_incremental_reembed_and_other_processes(tmp_path, corpus):
    docs, vecs = corpus
    half = len(docs) // 2
    writer = dense_index(tmp_path, docs[:half], vecs[:half])
    reader = DenseIndex(tmp_path / "vectors.sqlite")  # a serving process: loads dense.hnsw
    reader.exact_below = writer.exact_below = reader.exact_share = writer.exact_share = 0
    reader.refresh(force=True)
    assert reader.ann is not None and reader.ann.size == half
    # incremental: the writer adds papers; the reader notices and finds them
    writer.upsert(docs[half:])
    writer.set_vectors([x.id for x in docs[half:]], vecs[half:])
    writer.update_ann()
    assert writer.ann.size == len(docs)
    reader.refresh(force=True)
    for i in (half, len(docs) - 1):
        assert ids(reader.search(vecs[i], limit=3))[0] == docs[i].id
    # re-embedded paper: a new node, the old one stale, never listed twice
    target = docs[3]
    changed = dataclasses.replace(target, title="Quokka locomotion on sandy terrain")
    writer.upsert([changed])
    new_vec = default_embedder().embed_one(changed.embed_text)
    writer.set_vectors([target.id], new_vec[None, :])
    writer.update_ann()
    assert writer.ann.stale == 1
    reader.refresh(force=True)
    for idx in (writer, reader):
        hits = ids(idx.search(new_vec, limit=20))
        assert hits[0] == target.id and hits.count(target.id) == 1
        assert ids(idx.search(vecs[3], limit=20)).count(target.id) <= 1
    # deleted in another process: gone from the reader's results
    writer.delete([docs[5].id])
    reader.refresh(force=True)
    assert docs[5].id not in ids(reader.search(vecs[5], limit=10))


def test_too_many_stale_nodes_rebuild_the_graph(tmp_path, corpus):
    docs, vecs = corpus
    d = dense_index(tmp_path, docs, vecs)
    n = int(len(docs) * REBUILD_STALE * 1.5)
    d.set_vectors([x.id for x in docs[:n]], vecs[n : 2 * n])  # new vectors for n papers
    d.refresh(force=True)
    assert d.ann.stale == n
    d.update_ann()
    assert d.ann.stale == 0 and d.ann.size == len(docs)
    d.exact_below = d.exact_share = 0
    assert set(ids(d.search(vecs[n], limit=2))) == {docs[0].id, docs[n].id}  # same vector now


def test_store_imports_keep_the_graph_current_and_rebuild_equals_it(
    settings, shared_hf_dir, tmp_path
):
    store = open_store(settings)
    try:
        store.import_records(r for name in DAYS[:2] for r in read_file(shared_hf_dir / name))
        index = open_index(settings)
        assert index.dense.ann is not None and index.dense.ann_path.exists()
        index.dense.exact_below = index.dense.exact_share = 0
        store.import_records(read_file(shared_hf_dir / DAYS[2]))  # a daily sync: embedded inline
        last = [r for r in read_file(shared_hf_dir / DAYS[2]) if hasattr(r, "arxiv_id")][-1]
        pid = store.paper_id(last.arxiv_id)
        vec = index.dense.vector(pid)
        assert vec is not None and ids(index.dense.search(vec, limit=1)) == [pid]
        assert index.dense.ann.size == index.status()["embedded"]

        fresh = SearchIndex(tmp_path / "rebuilt")
        fresh.rebuild(store)
        fresh.embed_pending(store)
        fresh.dense.exact_below = fresh.dense.exact_share = 0
        assert fresh.dense.ann.size == fresh.status()["embedded"] == index.status()["embedded"]
        for text in ["agent planning", "diffusion video generation", "speech recognition"]:
            q = index.query_vector(text)
            a, b = index.dense.search(q, limit=10), fresh.dense.search(q, limit=10)
            assert len(set(ids(a)) & set(ids(b))) >= 9, text
    finally:
        store.close()
