"""Dense retrieval through the vector index: the exact flat kind for small collections and
the trained 8-bit inverted file, filters inside the scan, incremental updates, re-embedding,
retraining as the collection grows, rebuilds, and updates made by another process.
Real papers, the real model, real faiss indexes; ``train_min`` is lowered so that a few
hundred papers get an inverted file (the product trains one from 50,000 on)."""

from __future__ import annotations

import dataclasses
import math
from functools import lru_cache

import numpy as np
import pytest

from paperwire.context import open_store
from paperwire.search import ann as ann_module
from paperwire.search import dense as dense_module
from paperwire.search.ann import faiss
from paperwire.search.dense import DenseIndex, text_hash
from paperwire.search.embed import default_embedder
from paperwire.search.indexer import SearchIndex, open_index
from paperwire.search.lexical import Filters
from paperwire.sources.files import read_file
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


def dense_index(path, docs, vecs, train_min: int = 100) -> DenseIndex:
    d = DenseIndex(path / "vectors.sqlite")
    d.train_min = train_min
    d.upsert(docs)
    d.set_vectors([x.id for x in docs], vecs)
    d.update_ann()
    return d


def bitmap(pids) -> np.ndarray:
    """The bitmap ``AnnIndex.search`` takes, built the plain way: these store ids' bits set."""
    pids = np.asarray(pids, dtype=np.int64)
    bits = np.zeros(int(pids.max()) + 1 if len(pids) else 1, dtype=bool)
    bits[pids] = True
    return np.packbits(bits, bitorder="little")


def ids(hits):
    return [p for p, _ in hits]


def exact_top(docs, vecs, q, k, allowed=None):
    scores = vecs @ q
    order = sorted(
        (i for i in range(len(docs)) if allowed is None or docs[i].id in allowed),
        key=lambda i: (-scores[i], docs[i].id),
    )
    return [docs[i].id for i in order[:k]]


def test_small_collections_are_searched_exactly(tmp_path, corpus):
    docs, vecs = corpus
    d = dense_index(tmp_path, docs, vecs, train_min=10**6)
    assert d.ann.kind == "flat" and d.ann.size == len(docs)
    for q in default_embedder().embed([x.title for x in docs[::40]]):
        got = d.search(q, limit=10)
        assert ids(got) == exact_top(docs, vecs, q, 10)
        assert np.allclose([s for _, s in got], sorted(vecs @ q, reverse=True)[:10], atol=1e-5)


def test_inverted_file_agrees_with_exact_search(tmp_path, corpus):
    docs, vecs = corpus
    d = dense_index(tmp_path, docs, vecs)
    assert d.ann.kind == "ivf" and d.ann.size == len(docs) and d.ann.index.nlist > 1
    assert (tmp_path / "dense.ann").exists()
    recalls = []
    for q in default_embedder().embed([x.title for x in docs[::10]]):
        approx = d.search(q, limit=10)
        assert len(approx) == 10 and len(set(ids(approx))) == 10
        assert [s for _, s in approx] == sorted((s for _, s in approx), reverse=True)
        recalls.append(len(set(exact_top(docs, vecs, q, 10)) & set(ids(approx))) / 10)
        # the 8-bit cosines are close to the exact ones
        for pid, s in approx:
            assert abs(s - float(vecs[pid - 1] @ q)) < 0.01
    assert np.mean(recalls) >= 0.9, np.mean(recalls)
    sims = d.similarities([x.id for x in docs[:50]], vecs[0])
    assert len(sims) == 50 and abs(sims[docs[0].id] - 1.0) < 0.01
    # vector() is the stored vector itself, not the decoded one
    assert np.array_equal(d.vector(docs[7].id), vecs[7])


def test_filters_apply_inside_the_scan(tmp_path, corpus, monkeypatch):
    docs, vecs = corpus
    d = dense_index(tmp_path, docs, vecs)
    monkeypatch.setattr(ann_module, "NPROBE", 1)  # an unfiltered query reads one list
    monkeypatch.setattr(ann_module, "NPROBE_SHARE", 0.0)
    cut = sorted((x.upvotes for x in docs), reverse=True)[len(docs) // 12]
    f = Filters(min_upvotes=cut)
    allowed = {x.id for x in docs if x.upvotes >= cut}
    q = default_embedder().embed_one(next(x.title for x in docs if x.id not in allowed))
    got = ids(d.search(q, f, limit=10))
    assert len(got) == 10 and set(got) <= allowed
    # a selective filter reads every list: exactly the allowed papers' top 10
    assert got == exact_top(docs, vecs, q, 10, allowed)
    unfiltered = exact_top(docs, vecs, q, len(docs))
    assert sum(unfiltered.index(p) >= 50 for p in got) >= 3  # lost by a filter after top-k
    # exclusions (related papers) too
    near = ids(d.search(vecs[0], limit=5, exclude=(docs[0].id,)))
    assert len(near) == 5 and docs[0].id not in near
    # a category and an organization, as codes
    cat = docs[0].categories[0] if docs[0].categories else None
    if cat:
        got = ids(d.search(q, Filters(category=cat), limit=5))
        assert got and all(cat in d.categories_of(p) for p in got)
    assert d.search(q, Filters(organization="no such org"), limit=5) == []


def test_a_day_range_reads_the_lists_an_unfiltered_query_reads(tmp_path, corpus, monkeypatch):
    """When a paper appeared does not place it by meaning: a broad day range reads as many
    lists as an unfiltered query, where other filters (a category clusters by meaning)
    read more in proportion, and so does a range narrower than RANGE_FREE."""
    docs, vecs = corpus
    d = dense_index(tmp_path, docs, vecs)
    nlist = d.ann.index.nlist
    assert nlist >= 6
    monkeypatch.setattr(ann_module, "NPROBE", 2)
    monkeypatch.setattr(ann_module, "NPROBE_SHARE", 0.0)
    q = default_embedder().embed_one(docs[3].title)
    stats = faiss.cvar.indexIVF_stats

    def lists_read(f: Filters) -> int:
        stats.reset()
        got = d.search(q, f, limit=5)
        assert len(got) == 5
        return int(stats.nlist)

    days = sorted(x.day for x in docs)
    recent = Filters(start=days[len(days) // 2])
    in_range = sum(x.day >= recent.start for x in docs) / len(docs)
    assert 0.3 < in_range < 0.7
    assert lists_read(Filters()) == 2
    assert lists_read(recent) == 2
    cut = sorted(x.upvotes for x in docs)[len(docs) // 2]
    share = sum(x.upvotes >= cut for x in docs) / len(docs)
    assert lists_read(Filters(min_upvotes=cut)) == min(nlist, math.ceil(2 / share)) > 2
    # a range is narrow when it holds under RANGE_FREE of the papers: then it widens too
    monkeypatch.setattr(dense_module, "RANGE_FREE", 0.95)
    assert lists_read(recent) == min(nlist, math.ceil(2 / (in_range / 0.95))) > 2


def test_incremental_reembed_and_other_processes(tmp_path, corpus):
    docs, vecs = corpus
    half = len(docs) // 2
    writer = dense_index(tmp_path, docs[:half], vecs[:half])
    reader = DenseIndex(tmp_path / "vectors.sqlite")  # a serving process: loads dense.ann
    reader.refresh(force=True)
    assert reader.ann is not None and reader.ann.size == half and reader.ann.kind == "ivf"
    own = reader.ann
    # incremental: the writer adds papers; the reader notices and finds them
    writer.upsert(docs[half:])
    writer.set_vectors([x.id for x in docs[half:]], vecs[half:])
    writer.update_ann()
    assert writer.ann.size == len(docs)
    reader.refresh(force=True)
    assert reader.ann.size == len(docs)
    # the writer's new file has the same training: the reader applied the rows itself
    # instead of loading a second copy
    assert reader.ann is own
    for i in (half, len(docs) - 1):
        assert ids(reader.search(vecs[i], limit=3))[0] == docs[i].id
    # re-embedded paper: its old vector is replaced, never listed twice
    target = docs[3]
    changed = dataclasses.replace(target, title="Quokka locomotion on sandy terrain")
    writer.upsert([changed])
    writer.refresh(force=True)
    assert writer.ann.size == len(docs) - 1  # pending again: out of the index
    new_vec = default_embedder().embed_one(changed.embed_text)
    writer.set_vectors([target.id], new_vec[None, :])
    reader.refresh(force=True)  # before the writer saves: the reader applies the rows
    writer.update_ann()
    assert writer.ann.size == len(docs)
    for idx in (writer, reader):
        hits = ids(idx.search(new_vec, limit=20))
        assert hits[0] == target.id and hits.count(target.id) == 1
        assert idx.ann.size == len(docs)
    # deleted in another process: gone from the reader's results
    writer.delete([docs[5].id])
    reader.refresh(force=True)
    assert docs[5].id not in ids(reader.search(vecs[5], limit=10))
    assert reader.ann.size == len(docs) - 1


def test_the_index_is_trained_afresh_as_the_collection_grows(tmp_path, corpus):
    docs, vecs = corpus
    small = 60
    d = dense_index(tmp_path, docs[:small], vecs[:small], train_min=50)
    assert d.ann.kind == "ivf" and d.ann.trained_on == small
    d.upsert(docs[small:])
    d.set_vectors([x.id for x in docs[small:]], vecs[small:])
    d.refresh(force=True)
    assert d.ann.size == len(docs) and d.ann.trained_on == small  # filled, not yet retrained
    reader = DenseIndex(tmp_path / "vectors.sqlite")
    reader.refresh(force=True)
    assert reader.ann.trained_on == small
    d.update_ann()
    assert d.ann.trained_on == len(docs) and d.ann.size == len(docs)
    reader.refresh(force=True)  # trained afresh by the writer: its file replaces the reader's
    assert reader.ann.trained_on == len(docs) and reader.ann.size == len(docs)
    for i in (0, small, len(docs) - 1):
        assert ids(reader.search(vecs[i], limit=1)) == [docs[i].id]


def test_store_imports_keep_the_index_current_and_rebuild_equals_it(
    settings, shared_hf_dir, tmp_path
):
    store = open_store(settings)
    try:
        store.import_records(r for name in DAYS[:2] for r in read_file(shared_hf_dir / name))
        index = open_index(settings)
        assert index.dense.ann is not None and index.dense.ann_path.exists()
        store.import_records(read_file(shared_hf_dir / DAYS[2]))  # a daily sync: embedded inline
        last = [r for r in read_file(shared_hf_dir / DAYS[2]) if hasattr(r, "arxiv_id")][-1]
        pid = store.paper_id(last.arxiv_id)
        vec = index.dense.vector(pid)
        assert vec is not None and ids(index.dense.search(vec, limit=1)) == [pid]
        assert index.dense.ann.size == index.status()["embedded"]

        fresh = SearchIndex(tmp_path / "rebuilt")
        fresh.rebuild(store)
        fresh.embed_pending(store)
        assert fresh.dense.ann.size == fresh.status()["embedded"] == index.status()["embedded"]
        for text in ["agent planning", "diffusion video generation", "speech recognition"]:
            q = index.query_vector(text)
            a, b = index.dense.search(q, limit=10), fresh.dense.search(q, limit=10)
            assert ids(a) == ids(b), text
    finally:
        store.close()


def _empty_index(kind: str, vecs: np.ndarray):
    """A flat index, or an inverted file trained on these vectors; nothing added yet."""
    if kind == "flat":
        return ann_module.AnnIndex.flat(vecs.shape[1])
    return ann_module.AnnIndex.trained(vecs, len(vecs), vecs.shape[1])


@pytest.mark.parametrize("kind", ["flat", "ivf"])
def test_a_filter_never_lets_through_ids_past_its_bitmap(kind, corpus):
    """The bitmap ends at the highest allowed id: papers above it are never members (faiss
    takes the bitmap's size in bytes; given in bits it read past the array)."""
    docs, vecs = corpus
    pids = np.array([x.id for x in docs], dtype=np.int64)
    index = _empty_index(kind, vecs)
    index.add(pids, vecs)
    allowed = pids[:3]
    got, _ = index.search(vecs[-1], 10, bitmap(allowed), share=3 / len(pids))
    assert sorted(got.tolist()) == sorted(allowed.tolist())


@pytest.mark.parametrize("kind", ["flat", "ivf", "ivf, lists given"])
def test_a_paper_given_twice_in_one_add_keeps_its_last_vector(kind, corpus):
    """Papers out of order, one of them twice: the index holds each once, with the vector
    given last, in that vector's own list when the lists are given (a build's chunks come
    sorted and unique, and skip that work)."""
    docs, vecs = corpus
    pids = np.array([x.id for x in docs], dtype=np.int64)
    index = _empty_index(kind.split(",")[0], vecs)
    index.add(pids[:50], vecs[:50])
    twice, other = int(pids[3]), vecs[40]
    order = np.array([pids[60], twice, pids[55], twice], dtype=np.int64)
    given = np.stack([vecs[60], vecs[3], vecs[55], other])
    lists = index.assign(given) if "lists" in kind else None
    if lists is not None:
        assert lists[1] != lists[3], "the test needs the two vectors in different lists"
    index.add(order, given, lists=lists)
    assert index.size == 52
    got, _ = index.search(other, 2, None)
    assert sorted(got.tolist()) == sorted([twice, int(pids[40])])
    assert index.reconstruct(np.array([twice])) @ other > 0.95 * float(other @ other)
    if lists is not None:  # in the list of its last vector: found reading that list alone
        index.index.nprobe = 1
        _, near = index.index.search(other[None, :].astype(np.float32), 2)
        assert sorted(near[0].tolist()) == sorted([twice, int(pids[40])])


def test_an_unreadable_or_old_index_file_is_replaced(tmp_path, corpus):
    docs, vecs = corpus
    dense_index(tmp_path, docs, vecs)
    (tmp_path / "dense.hnsw").write_bytes(b"an earlier version's graph")
    (tmp_path / "dense.ann").write_bytes(b"PK\x03\x04 an earlier format")
    d = DenseIndex(tmp_path / "vectors.sqlite")
    assert not (tmp_path / "dense.hnsw").exists()  # gigabytes at scale: deleted on open
    assert not d.ann_saved()
    assert ids(d.search(vecs[4], limit=1)) == [docs[4].id]  # built in memory meanwhile
    index = SearchIndex(tmp_path / "full")
    index.dense = d
    assert index.embed_pending(None) == 0  # nothing to embed, but the file is written
    assert d.ann_saved()
    fresh = DenseIndex(tmp_path / "vectors.sqlite")
    fresh.refresh(force=True)
    assert fresh.ann.size == len(docs) and fresh.ann.kind == d.ann.kind == "flat"


def test_upsert_keys_vectors_by_the_hashes_it_is_given(tmp_path):
    # SearchIndex.index_docs hashes each batch once and hands the hashes to both tiers and the
    # embedding pipeline: the row must carry the hash given, not one computed again
    doc = SearchDoc(7, "2601.00007", "A title", "An abstract", [], [], [], None, None, 0)
    d = DenseIndex(tmp_path / "vectors.sqlite")
    d.upsert([doc], ["given"])
    vec = np.ones((1, d.dim), dtype=np.float32) / np.sqrt(d.dim)
    d.set_vectors([7], vec, hashes=[text_hash(doc)])
    assert d.vector(7) is None and d.pending() == [7]
    d.set_vectors([7], vec, hashes=["given"])
    assert d.vector(7) is not None and d.pending() == []
    d.upsert([doc])  # no hashes: computed, and a text hash that differs waits for a vector
    assert d.pending() == [7]


def test_a_built_index_equals_one_filled_by_faiss_own_assignment(tmp_path, corpus):
    """The build assigns every vector to its list first (to size the lists exactly), then
    adds with those assignments: list by list, the same ids and codes as ``add_with_ids``."""
    docs, vecs = corpus
    d = dense_index(tmp_path, docs, vecs)
    built = d.ann
    assert built.kind == "ivf"
    plain = faiss.clone_index(built.index)  # the same training, emptied
    plain.reset()
    stored = d.vectors([x.id for x in docs])  # (the float16-rounded vectors the build read)
    pids = np.array(sorted(stored), dtype=np.int64)
    plain.add_with_ids(np.stack([stored[p] for p in pids]), pids)

    def lists(index):
        inv = faiss.downcast_InvertedLists(index.invlists)
        out = []
        for i in range(index.nlist):
            n = inv.list_size(i)
            got = faiss.rev_swig_ptr(inv.get_ids(i), n).copy()
            codes = faiss.rev_swig_ptr(inv.get_codes(i), n * inv.code_size).copy()
            out.append(dict(zip(got.tolist(), codes.reshape(n, -1).tolist(), strict=True)))
        return out

    assert built.size == plain.ntotal == len(docs)
    assert lists(built.index) == lists(plain)
    assert sum(len(x) for x in lists(built.index)) == len(docs)
    # removing and searching work through the id map the build filled
    built.remove(pids[:5])
    assert built.size == len(docs) - 5
    assert not set(pids[:5].tolist()) & set(built.search(stored[pids[0]], 20, None)[0].tolist())


def _list_ids(index) -> list[set[int]]:
    inv = faiss.downcast_InvertedLists(index.invlists)
    return [
        set(faiss.rev_swig_ptr(inv.get_ids(i), inv.list_size(i)).tolist())
        for i in range(index.nlist)
    ]


def test_the_fast_scan_copy_lists_the_same_papers_as_the_index(tmp_path, corpus):
    """Searches read the lists in the fast-scan copy and rank its candidates by the 8-bit
    vectors: after a build, a re-embedded paper, a deletion, a save and a load, both copies
    list the same papers in the same lists, and a search finds each paper first."""
    docs, vecs = corpus
    d = dense_index(tmp_path, docs, vecs)
    assert d.ann.kind == "ivf" and d.ann.scan.ntotal == d.ann.size == len(docs)
    assert _list_ids(d.ann.scan) == _list_ids(d.ann.index)
    changed = dataclasses.replace(docs[3], title="Quokka locomotion on sandy terrain")
    d.upsert([changed])
    d.set_vectors([changed.id], default_embedder().embed_one(changed.embed_text)[None, :])
    d.delete([docs[5].id])
    d.update_ann()
    assert d.ann.scan.ntotal == d.ann.size == len(docs) - 1
    assert _list_ids(d.ann.scan) == _list_ids(d.ann.index)
    reader = DenseIndex(tmp_path / "vectors.sqlite")  # loads the saved file: both copies
    reader.refresh(force=True)
    assert reader.ann.scan is not None
    assert _list_ids(reader.ann.scan) == _list_ids(d.ann.index)
    for i in (0, 100, len(docs) - 1):
        assert ids(reader.search(vecs[i], limit=1)) == [docs[i].id]
    # a file of the format before the fast-scan copy is built again from the stored vectors
    raw = (tmp_path / "dense.ann").read_bytes()
    head, rest = raw[len(ann_module.MAGIC) :].split(b"\n", 1)
    old = head.replace(b'"format": 4', b'"format": 2')
    (tmp_path / "dense.ann").write_bytes(ann_module.MAGIC + old + b"\n" + rest)
    assert not d.ann_saved()
    assert ann_module.AnnIndex.load(tmp_path / "dense.ann", d.dim) is None


def test_a_filters_selection_is_kept_until_the_rows_change():
    """The rows a filter allows (counts and bitmap) are worked out once and kept, and the
    bitmap is the one built from the allowed ids; a changed or added row drops what was kept."""
    from datetime import date

    from paperwire.search.columns import Columns

    cols = Columns()
    day0 = date(2024, 1, 1).toordinal()
    cats = ['["cs.LG"]', '["math.AG"]', '["cs.LG", "cs.CL"]']
    cols.apply(
        [(p, day0 + p % 50, p % 7, None, cats[p % 3], p % 11 != 0) for p in range(5, 4000, 3)]
    )
    f = Filters(start=date.fromordinal(day0 + 10), category="cs.LG")
    near, allowed, sel = cols.selection(f)
    m = cols.mask(f)
    assert allowed == int(m.sum()) > 0 and near == int(cols.mask(f, days=False).sum()) > allowed

    def bits(b):
        return np.flatnonzero(np.unpackbits(b, bitorder="little"))

    assert sel is not None and np.array_equal(bits(sel), bits(bitmap(cols.pids[m])))
    assert cols.selection(f)[2] is sel  # kept
    # unfiltered: no bitmap (the vector index holds exactly the rows with a vector)
    n_vec = int(np.count_nonzero(cols.has_vec))
    assert cols.selection(Filters()) == (n_vec, n_vec, None)
    # papers another tier covers leave the counts and the bitmap, and the kept answer
    cover = np.zeros(5000, dtype=bool)
    cover[cols.pids[m][:4]] = True
    assert sorted(cols.cover(cover).tolist()) == sorted(cols.pids[m][:4].tolist())
    assert cols.selection(f)[:2] == (near - 4, allowed - 4)
    assert not set(bits(cols.selection(f)[2])) & set(cols.pids[m][:4].tolist())
    assert cols.selection(Filters())[:2] == (n_vec - 4, n_vec - 4)
    assert not len(cols.cover(cover))  # the same cover again: nothing flips
    assert sorted(cols.cover(None).tolist()) == sorted(cols.pids[m][:4].tolist())
    assert cols.selection(f) == (near, allowed, cols.selection(f)[2])
    cols.apply([(5, day0 + 30, 0, None, cats[2], True)])  # in range now (was day0 + 5)
    assert cols.selection(f)[:2] == (near, allowed + 1)
    cols.apply([(9001, day0 + 40, 0, None, cats[0], True)])  # a new paper
    now = cols.selection(f)
    assert now[:2] == (near + 1, allowed + 2) and 9001 in bits(now[2])


def test_papers_a_covering_tier_holds_leave_the_index_and_come_back(tmp_path, corpus, monkeypatch):
    """The static tier's vector index holds only the papers the contextual tier does not
    (``DenseIndex.covered``): they leave it as they are covered, the filter counts follow,
    the index is trained afresh (smaller) once under three quarters of its papers remain, a serving
    process takes the new file, and a paper whose covering vector goes comes back."""
    docs, vecs = corpus
    n, k = len(docs), len(docs) * 3 // 5  # the first k papers get covering vectors
    static = dense_index(tmp_path, docs, vecs)
    assert static.ann.kind == "ivf" and static.ann.trained_on == n

    def tier():  # the covering tier (stand-in vectors: the static ones, another model name)
        t = DenseIndex(tmp_path / "contextual.sqlite", model="stand-in", ann_name="c.ann")
        t.train_min = 10**6
        return t

    ctx = tier()
    ctx.upsert(docs)
    ctx.set_vectors([x.id for x in docs[:k]], vecs[:k])
    static.covered = ctx
    reader = DenseIndex(tmp_path / "vectors.sqlite")  # a serving process, the saved file
    reader.covered = tier()
    for d in (static, reader):
        d.refresh(force=True)
        assert set(d.ann.ids().tolist()) == {x.id for x in docs[k:]}
        assert d.cols.selection(Filters())[:2] == (n - k, n - k)
        assert docs[0].id not in ids(d.search(vecs[0], limit=5))
        assert ids(d.search(vecs[-1], limit=1)) == [docs[-1].id]
    assert reader.ann.trained_on == n  # (trained for all of them: room kept for all)
    # trained afresh in a process of its own; if that fails, the index serves on as it is,
    # nothing is left behind, and it is not tried again at once
    monkeypatch.setattr(dense_module, "SHRINK_TIMEOUT", 0.01)
    popen = dense_module.subprocess.Popen

    def started(*args, **kw):  # the child as if killed halfway through writing its file
        child = popen(*args, **kw)
        ann_module.temp_path(static.ann_path, child.pid).write_bytes(b"half")
        return child

    monkeypatch.setattr(dense_module.subprocess, "Popen", started)
    assert not static.update_ann_if_shrunk() and static.ann.trained_on == n
    assert ids(static.search(vecs[-1], limit=1)) == [docs[-1].id]
    assert not list(tmp_path.glob(".*.tmp"))
    monkeypatch.undo()
    assert not static.update_ann_if_shrunk() and static.last_shrink is None
    monkeypatch.setattr(dense_module, "SHRINK_RETRY", 0.0)
    assert static.update_ann_if_shrunk() and static.ann.trained_on == n - k
    assert static.last_shrink["papers"] == n - k and static.last_shrink["peak_mb"] > 0
    assert not static.update_ann_if_shrunk()  # once
    reader.refresh(force=True)
    assert reader.ann.trained_on == n - k and reader.ann.size == n - k
    assert ids(reader.search(vecs[-1], limit=1)) == [docs[-1].id]
    # a covered paper's text changes: its covering vector goes, its static one is back
    ctx.upsert([dataclasses.replace(docs[0], title="Quokka locomotion on sandy terrain")])
    for d in (static, reader):
        d.refresh(force=True)
        assert ids(d.search(vecs[0], limit=1)) == [docs[0].id]
        assert d.ann.size == n - k + 1
    # no covering tier (its model cannot load): every paper back
    static.covered = None
    static.refresh(force=True)
    assert static.ann.size == n and static.cols.selection(Filters())[:2] == (n, n)
