"""The related-papers job (search/related_fill.py): every embedded paper's list is kept before
anyone opens its page, the same list a page computes, newest papers first; a paper whose
vectors change and a list that has aged are taken again; the index writer runs the job and
``paperwire index --related`` runs it in the foreground.  Real papers, the real model, the
real store (both databases), real faiss indexes."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
import time

import numpy as np
import pytest
from typer.testing import CliRunner

from paperwire.cli import app
from paperwire.context import open_store
from paperwire.search import dense as dense_module
from paperwire.search import related_fill
from paperwire.search.dense import DenseIndex
from paperwire.search.follow import IndexFollower
from paperwire.search.hybrid import HybridSearcher
from paperwire.search.indexer import open_index
from paperwire.search.lexical import Filters
from paperwire.search.related import REFRESH_AGE, RelatedCache
from paperwire.search.related_fill import fill_all, pending
from paperwire.sources.files import read_file

DAYS = ["2026-08-19.json", "2026-08-21.json"]


def _records(hf_dir, per_day: int = 25) -> list:
    out = []
    for day in DAYS:
        out += [r for r in read_file(hf_dir / day) if hasattr(r, "arxiv_id")][:per_day]
    return out


def _kept(index) -> dict[int, list[int]]:
    db = sqlite3.connect(index.path / "related.sqlite")
    try:
        return {p: json.loads(ids) for p, ids in db.execute("SELECT pid, ids FROM related")}
    finally:
        db.close()


def test_the_job_keeps_the_lists_a_page_computes(settings, shared_hf_dir, tmp_path, monkeypatch):
    store = open_store(settings)
    try:
        recs = _records(shared_hf_dir)
        store.import_records(recs)
        index = open_index(settings)
        searcher = HybridSearcher(index, store)
        pids = {store.paper_id(r.arxiv_id) for r in recs}
        todo = pending(index).tolist()
        assert set(todo) == pids and len(todo) == len(pids)
        days = [index.dense.meta(todo)[p][0] for p in todo]
        assert days == sorted(days, reverse=True) and days[0] > days[-1]  # newest first

        assert fill_all(searcher) == len(pids)
        assert len(pending(index)) == 0
        kept = _kept(index)
        assert set(kept) == pids and all(len(v) == 10 and p not in v for p, v in kept.items())

        # a page reads the kept list: it searches nothing ...
        def no_search(*a, **k):
            raise AssertionError("searched for a kept list")

        monkeypatch.setattr(index.dense, "search", no_search)
        for r in recs[::7]:
            shown = [store.paper_id(p.arxiv_id) for p in searcher.related(r.arxiv_id)]
            assert shown == kept[store.paper_id(r.arxiv_id)][:5]
        monkeypatch.undo()
        # ... and the job's list is the one a page computes itself (an empty table here)
        index.related = RelatedCache(tmp_path / "empty.sqlite")
        for r in recs[::5]:
            own = [store.paper_id(p.arxiv_id) for p in searcher.related(r.arxiv_id)]
            assert own == kept[store.paper_id(r.arxiv_id)][:5]
        index.related = RelatedCache(index.path / "related.sqlite")

        # new vectors for one paper: its list is dropped and taken again
        store.import_records([dataclasses.replace(recs[3], abstract="Quokkas hop on sand.")])
        changed = store.paper_id(recs[3].arxiv_id)
        assert pending(index).tolist() == [changed]
        assert fill_all(searcher) == 1 and kept != _kept(index)
        assert _kept(index)[changed] != kept[changed]

        # lists older than a day are computed again, so papers published since can appear
        index.related.clock = lambda: time.time() + REFRESH_AGE + 60
        assert set(pending(index).tolist()) == pids
    finally:
        store.close()


@pytest.mark.parametrize("train_min", [10**6, 100])  # the flat kind, the inverted file
def test_a_batch_gets_each_query_its_own_answer(
    tmp_path, settings, shared_hf_dir, train_min, monkeypatch
):
    monkeypatch.setattr(dense_module, "LOCK_SLICE", 3)  # several holds of the lock a batch
    store = open_store(settings)
    try:
        store.import_records(_records(shared_hf_dir, per_day=200))
        index = open_index(settings)
        source = index.dense
        source.refresh()
        pids = source.pids[source.has_vec].tolist()
        vecs = source.vectors(pids)
        d = DenseIndex(tmp_path / "vectors.sqlite")
        d.train_min = train_min
        d.upsert(store.search_docs(pids))
        d.set_vectors(pids, np.stack([vecs[p] for p in pids]))
        d.update_ann()
        assert d.ann.kind == ("flat" if train_min > len(pids) else "ivf")
        queries = pids[::4]
        assert len(queries) > 3 * dense_module.LOCK_SLICE
        q = np.stack([vecs[p] for p in queries])
        ups = sorted(d.meta(pids)[p][1] for p in pids)
        for f in (Filters(), Filters(min_upvotes=ups[len(ups) // 2])):
            batch = d.search_many(q, f, 10, [(p,) for p in queries], 0.25)
            one = [d.search(vecs[p], f, 10, (p,), 0.25) for p in queries]
            assert batch == one and all(len(hits) == 10 for hits in batch)
            assert all(
                p not in [h for h, _ in hits] for p, hits in zip(queries, batch, strict=True)
            )
        # the inverted file's own batch call gives the same candidates as one query at a time
        if d.ann.kind == "ivf":
            many = d.ann.search_many(q, 10, None, 1.0, 0.5)
            for row, (ids, scores) in zip(q, many, strict=True):
                one_ids, one_scores = d.ann.search(row, 10, None, 1.0, 0.5)
                assert ids.tolist() == one_ids.tolist()
                assert np.allclose(scores, one_scores)
    finally:
        store.close()


def test_the_index_writer_fills_the_lists_without_a_view(settings, shared_hf_dir):
    store = open_store(settings)
    follower = None
    try:
        recs = _records(shared_hf_dir, per_day=10)
        store.import_records(recs)
        index = open_index(settings)
        follower = IndexFollower(index, store, interval=0.1)
        follower.start()
        deadline = time.monotonic() + 60
        while len(_kept(index)) < len(recs) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert follower.leader.is_set() and follower.related_job is not None
        assert set(_kept(index)) == {store.paper_id(r.arxiv_id) for r in recs}
    finally:
        if follower is not None:
            follower.stop()
        store.close()


def test_index_related_fills_every_list(settings, shared_hf_dir):
    store = open_store(settings)
    try:
        recs = _records(shared_hf_dir, per_day=8)
        store.import_records(recs)
    finally:
        store.close()
    env = {
        "PAPERWIRE_DATA_DIR": str(settings.data_dir),
        "PAPERWIRE_DATABASE_URL": settings.database_url,
        "PAPERWIRE_SECRET_KEY": settings.secret_key,
    }
    got = CliRunner().invoke(app, ["index", "--related"], env=env)
    assert got.exit_code == 0, got.output
    assert f"Kept the related papers of {len(recs):,} papers" in got.output
    again = CliRunner().invoke(app, ["index", "--related"], env=env)
    assert "Kept the related papers of 0 papers" in again.output  # all fresh: nothing to do
    assert len(_kept(open_index(settings))) == len(recs)


class _Rests(threading.Event):
    """A stop event that records how long the job rested after each batch."""

    def __init__(self) -> None:
        super().__init__()
        self.rests: list[float] = []

    def wait(self, timeout=None) -> bool:
        self.rests.append(timeout)
        return False


def test_the_servers_job_rests_after_each_batch(settings, shared_hf_dir, monkeypatch):
    monkeypatch.setattr(related_fill, "BATCH", 4)
    store = open_store(settings)
    try:
        recs = _records(shared_hf_dir, per_day=5)
        store.import_records(recs)
        searcher = HybridSearcher(open_index(settings), store)
        stop = _Rests()
        assert fill_all(searcher, stop, pause=related_fill.PAUSE) == len(recs)
        assert len(stop.rests) == -(-len(recs) // 4) and all(t > 0 for t in stop.rests)
        searcher.index.related.clear()  # every list pending again ...
        stop.set()
        assert fill_all(searcher, stop) == 0  # ... and a set stop ends the job at once
        assert len(pending(searcher.index)) == len(recs)
    finally:
        store.close()


def test_a_reimport_with_new_text_drops_that_papers_list(settings, tmp_path, monkeypatch):
    """A big import's worker sets vectors too (search/pipeline.py): a paper whose text
    changed loses its kept list there, as in the embedding job, and the others keep theirs."""
    monkeypatch.setenv("PAPERWIRE_IMPORT_PIPELINE_MB", "0")  # the big import's path
    env = {
        "PAPERWIRE_DATA_DIR": str(settings.data_dir),
        "PAPERWIRE_DATABASE_URL": settings.database_url,
        "PAPERWIRE_SECRET_KEY": settings.secret_key,
    }
    topics = ["protein folding", "graph neural networks", "dark matter halos", "speech codecs"]
    rows = [
        {
            "id": f"2501.0000{n}",
            "title": f"A study of {t}",
            "abstract": f"We study {t} with new methods and report what {t} shows.",
            "categories": "cs.LG",
            "versions": [{"version": "v1", "created": "Mon, 6 Jan 2025 00:00:00 GMT"}],
        }
        for n, t in enumerate(topics, 1)
    ]
    dump = tmp_path / "dump.jsonl"
    dump.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert CliRunner().invoke(app, ["import", str(dump)], env=env).exit_code == 0
    assert CliRunner().invoke(app, ["index", "--related"], env=env).exit_code == 0
    store = open_store(settings)
    try:
        pids = [store.paper_id(r["id"]) for r in rows]
    finally:
        store.close()
    assert set(_kept(open_index(settings))) == set(pids)
    rows[0]["abstract"] = "Entirely new text about lattice quantum chromodynamics."
    dump.write_text("".join(json.dumps(r) + "\n" for r in rows))
    got = CliRunner().invoke(app, ["import", str(dump)], env=env)
    assert got.exit_code == 0, got.output
    assert set(_kept(open_index(settings))) == set(pids[1:])


def test_a_plain_papers_list_keeps_neighbours_that_became_contextual(settings, shared_hf_dir):
    """The static tier's vector index holds only papers without a contextual vector, so a
    paper that has none finds new neighbours among those alone; computed again, its list
    keeps the neighbours it had that have contextual vectors now (ranked by their stored
    static vectors), and so stays what a search over every static vector gives."""
    store = open_store(settings)
    try:
        recs = _records(shared_hf_dir, per_day=8)
        store.import_records(recs)
        index = open_index(settings)
        searcher = HybridSearcher(index, store)
        assert fill_all(searcher) == len(recs)
        first = _kept(index)
        index.embed_pending(store, tier="contextual", batch=8, limit=8)
        plain = index.contextual.pending(100)
        index.dense.refresh(force=True)
        assert len(plain) == len(recs) - 8 and index.dense.ann.size == len(plain)
        covered = set(first) - set(plain)
        assert all(set(first[p]) & covered for p in plain)  # neighbours that moved
        assert related_fill.fill(searcher, plain) == len(plain)
        again = _kept(index)
        for p in plain:
            assert again[p] == first[p], p
        # a page's own search (no kept list of the same key) does the same
        index.related.forget(plain[:1])
        index.related.put(plain[0], "another key", first[plain[0]])
        got = searcher.related(store.search_docs([plain[0]])[0].arxiv_id, k=10)
        assert [store.paper_id(v.arxiv_id) for v in got] == first[plain[0]]
    finally:
        store.close()
