"""Vectors computed once and stored with the papers (``paper_vectors``): a rebuilt index or a
second index directory loads them instead of computing them again."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from paperwire.context import open_store
from paperwire.search.indexer import SearchIndex
from paperwire.store.views import SearchDoc
from web_helpers import august_files, import_files


def test_the_store_keeps_vectors_by_text_hash(store, shared_hf_dir):
    import_files(store, august_files(shared_hf_dir)[:1])
    ids = store.paper_ids()[:3]
    vecs = np.random.default_rng(0).standard_normal((3, 8)).astype(np.float32)
    assert store.vectors.save("m", [(p, f"h{p}", v) for p, v in zip(ids, vecs, strict=True)]) == 3
    got = store.vectors.load("m", {ids[0]: f"h{ids[0]}", ids[1]: "changed", ids[2]: f"h{ids[2]}"})
    assert set(got) == {ids[0], ids[2]}  # a vector of other text is not served
    assert np.allclose(got[ids[0]], vecs[0], atol=2e-3) and got[ids[0]].dtype == np.float32
    assert store.vectors.load("other-model", {ids[0]: f"h{ids[0]}"}) == {}
    store.vectors.save("m", [(ids[1], "h2", vecs[2])])  # replaced, not duplicated
    assert store.vectors.count("m") == 3
    assert store.vectors.holds_any("m") and not store.vectors.holds_any("other-model")
    rows = store.vectors.since("m", None, limit=2)
    assert len(rows) == 2
    rest = store.vectors.since("m", (rows[-1][2], rows[-1][0]))
    assert len(rest) == 1  # keys only: (id, text hash, created_at)
    assert {r[0]: r[1] for r in rows + rest} == {
        ids[0]: f"h{ids[0]}",
        ids[1]: "h2",
        ids[2]: f"h{ids[2]}",
    }


@pytest.fixture
def bare_store(settings):
    """A store whose imports leave the search index alone (the test drives the indexes)."""
    store = open_store(settings.model_copy(update={"search_index_on_import": False}))
    yield store
    store.close()


def test_another_index_pulls_the_stored_vectors_without_a_model(
    bare_store, shared_hf_dir, tmp_path
):
    store = bare_store
    import_files(store, august_files(shared_hf_dir)[:2])
    a = SearchIndex(tmp_path / "a")
    a.index_ids(store, store.paper_ids())
    a.embed_pending(store)
    n = len(store.paper_ids())
    assert a.computed[a.dense.model] == n and store.vectors.count(a.dense.model) == n
    # the node that computed them holds them all: its pull lists keys and loads nothing
    asked: list[int] = []
    load = store.vectors.load
    store.vectors.load = lambda model, wanted: asked.append(len(wanted)) or load(model, wanted)
    assert a.pull_vectors(store) == 0 and asked == []
    store.vectors.load = load

    b = SearchIndex(tmp_path / "b", embedder=False)  # no model at all on this node
    b.index_ids(store, store.paper_ids())
    assert b.dense.counts() == (n, 0)
    assert b.pull_vectors(store) == n
    assert b.dense.counts() == (n, n)
    assert b.pull_vectors(store) == 0  # the overlap window is not taken in twice
    b.dense.refresh(force=True)
    a.dense.refresh(force=True)
    every = store.paper_ids()
    va, vb = a.dense.vectors(every), b.dense.vectors(every)
    assert len(va) == n and va.keys() == vb.keys()
    assert all(np.array_equal(va[p], vb[p]) for p in every)

    # a paper whose text changed here is not given the vector of its old text
    pid = store.paper_ids()[0]
    doc = store.search_docs([pid])[0]
    c = SearchIndex(tmp_path / "c", embedder=False)
    changed = SearchDoc(pid, doc.arxiv_id, doc.title + " v2", doc.abstract, [], [], [], None,
                        None, 0)  # fmt: skip
    c.index_docs(store, [changed])
    c.pull_vectors(store)
    assert c.dense.counts() == (1, 0)


def _cli(tmp_path, *args, **env):
    return subprocess.run(
        [sys.executable, "-m", "paperwire.cli", *map(str, args)],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "PAPERWIRE_DATA_DIR": str(tmp_path / "data"), **env},
    )  # fmt: skip


@pytest.mark.slow  # several CLI processes (the fast tier leaves it out)
def test_index_rebuild_loads_vectors_instead_of_computing_them(tmp_path, shared_hf_dir):
    day = shared_hf_dir / "2026-08-21.json"
    assert _cli(tmp_path, "import", day).returncode == 0
    rebuilt = _cli(tmp_path, "index", "--rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "loaded from the store, 0 computed" in rebuilt.stderr, rebuilt.stderr
    # a second index directory for the same database (a second node) computes nothing either
    other = _cli(tmp_path, "index", "--rebuild", PAPERWIRE_INDEX_DIR=str(tmp_path / "node-b"))
    assert "loaded from the store, 0 computed" in other.stderr, other.stderr
    status = _cli(tmp_path, "index", PAPERWIRE_INDEX_DIR=str(tmp_path / "node-b")).stdout
    n = status.split("lexical: ")[1].split(" papers")[0]
    assert f"dense (static): {n} of {n} papers embedded" in status
