"""Related papers are computed once and kept (search/related.py): a repeated view reads
the kept answer, a re-embedded paper is computed afresh, and a page stops serving an answer
older than ``MAX_AGE`` (the related-papers job computes lists again well before that).
Real papers, the real model and store (both databases)."""

from __future__ import annotations

import dataclasses
import json
import sqlite3

from paperwire.community.repository import Community
from paperwire.context import open_store
from paperwire.search import related as related_module
from paperwire.search.hybrid import HybridSearcher
from paperwire.search.indexer import open_index
from paperwire.search.related import RelatedCache, vectors_key
from paperwire.sources.files import read_file

DAY = "2026-08-19.json"


def test_the_cache_keeps_answers_by_key_and_age(tmp_path):
    now = [1000.0]
    cache = RelatedCache(tmp_path / "related.sqlite", clock=lambda: now[0])
    key = vectors_key(None, None)
    assert cache.get(1, key) is None
    cache.put(1, key, [5, 6, 7])
    assert cache.get(1, key) == [5, 6, 7]
    assert cache.get(1, "another key") is None  # the paper's vectors changed
    now[0] += related_module.MAX_AGE + 1
    assert cache.get(1, key) is None  # too old: papers published since may belong
    # best effort: an unusable file means computing again, never an error
    broken = RelatedCache(tmp_path / "a-directory")
    (tmp_path / "a-directory").mkdir()
    broken.put(1, key, [2])
    assert broken.get(1, key) is None


def test_related_papers_are_kept_and_recomputed_when_vectors_change(settings, shared_hf_dir):
    store = open_store(settings)
    try:
        recs = [r for r in read_file(shared_hf_dir / DAY) if hasattr(r, "arxiv_id")][:40]
        store.import_records(recs)
        index = open_index(settings)
        s = HybridSearcher(index, store)
        first = [p.arxiv_id for p in s.related(recs[0].arxiv_id)]
        assert len(first) == 5 and recs[0].arxiv_id not in first
        pid = store.paper_id(recs[0].arxiv_id)
        db = sqlite3.connect(index.path / "related.sqlite")
        ids = json.loads(db.execute("SELECT ids FROM related WHERE pid = ?", (pid,)).fetchone()[0])
        assert len(ids) == related_module.KEEP
        assert [store.paper_id(a) for a in first] == ids[:5]
        # a repeated view is answered from the kept list (planted here to tell them apart)
        planted = [store.paper_id(r.arxiv_id) for r in recs[30:35]]
        db.execute("UPDATE related SET ids = ? WHERE pid = ?", (json.dumps(planted), pid))
        db.commit()
        assert [p.arxiv_id for p in s.related(recs[0].arxiv_id)] == [
            r.arxiv_id for r in recs[30:35]
        ]
        # a new abstract gives new vectors: computed afresh, not the kept list
        store.import_records([dataclasses.replace(recs[0], abstract="Quokkas hop on sand.")])
        again = [p.arxiv_id for p in s.related(recs[0].arxiv_id)]
        assert len(again) == 5 and again != [r.arxiv_id for r in recs[30:35]]
        db.close()
    finally:
        store.close()


def test_a_pages_related_list_reads_titles_as_the_cards_say(store, shared_hf_dir):
    """The paper page lists its related papers by title, date and upvotes from one query
    (``Store.titles``): the same papers, in the order asked, as the full cards say, this
    site's upvotes included."""
    recs = [r for r in read_file(shared_hf_dir / DAY) if hasattr(r, "arxiv_id")][:8]
    store.import_records(recs)
    community = Community.of(store)
    user = community.accounts.create_user("reader", "x")
    community.votes.vote(user.id, recs[2].arxiv_id, True)
    ids = [store.paper_id(r.arxiv_id) for r in reversed(recs)] + [10**9]  # and an unknown
    full = store.cards(ids)
    short = store.titles(ids)
    fields = ("arxiv_id", "title", "published_at", "upvotes", "pid")
    assert [[getattr(p, f) for f in fields] for p in short] == [
        [getattr(p, f) for f in fields] for p in full
    ]
    assert [p.arxiv_id for p in short] == [r.arxiv_id for r in reversed(recs)]
    voted = next(p for p in short if p.arxiv_id == recs[2].arxiv_id)
    assert voted.upvotes == (recs[2].upvotes or 0) + 1
