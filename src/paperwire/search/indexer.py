"""Keeps the search indexes derived from the store: incremental updates after every committed
import batch, the resumable embedding job, and a rebuild from scratch.

Layout under ``settings.resolved_index_dir``: ``lexical/`` (tantivy), ``vectors.sqlite``
(static dense vectors and filter fields) and ``dense.ann`` (the vector index over them,
saved at the end of every embedding run); ``contextual.sqlite`` and ``contextual.ann``, the
same for the contextual tier.

Two dense tiers (docs/search.md): every paper first gets a static WordLlama vector (about
1,500 papers/s, inline for daily syncs), then a contextual MiniLM vector from the slow
resumable job (about 10 papers/s on 2 cores); search uses the contextual vector where a paper
has one and the static one otherwise.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Set
from datetime import datetime, timedelta
from functools import lru_cache, partial
from pathlib import Path

import numpy as np

from paperwire.core.clock import utcnow
from paperwire.search.contextual import MODEL_NAME as CONTEXTUAL_MODEL
from paperwire.search.contextual import ContextualEmbedder, contextual_embedder
from paperwire.search.dense import DenseIndex, text_hash
from paperwire.search.embed import DEFAULT_MODEL, Embedder, EmbedderUnavailable, default_embedder
from paperwire.search.follow_state import FollowState, Progress
from paperwire.search.lexical import LexicalIndex
from paperwire.search.lexical_writers import BulkUpserter, BulkWriter
from paperwire.search.pipeline import EmbedPipeline
from paperwire.search.related import RelatedCache
from paperwire.settings import Settings
from paperwire.store.views import SearchDoc

log = logging.getLogger(__name__)
EMBED_INLINE_MAX = 500  # batches up to this size (a daily sync) are embedded at once
EMBED_BATCH = 512
BULK_COMMIT_EVERY = 25_000  # papers per lexical commit during a bulk import
VECTOR_OVERLAP = timedelta(seconds=120)  # pull_vectors re-reads this much (search/follow.py)
CONTEXTUAL_BATCH = 64  # papers per write of the contextual job (about 6 s on 2 cores)
CONTEXTUAL_SAVE_EVERY = 600.0  # seconds between vector-index saves while the contextual job runs
TIERS = ("static", "contextual")

Advance = Callable[[int], None]


class SearchIndex:
    def __init__(
        self, path: Path, embedder: Embedder | None | bool = True, embed_contextual: bool = True
    ) -> None:
        self.path = Path(path)
        self.lexical = LexicalIndex(self.path / "lexical")
        self.dense = DenseIndex(self.path / "vectors.sqlite", model=DEFAULT_MODEL)
        self.contextual = DenseIndex(
            self.path / "contextual.sqlite",
            dim=ContextualEmbedder.dim,
            model=CONTEXTUAL_MODEL,
            ann_name="contextual.ann",
        )
        self._embedder = embedder if isinstance(embedder, Embedder) else None
        self._want_embedder = embedder is not False
        self._contextual: ContextualEmbedder | None = None
        self._want_contextual = embedder is not False
        self.embed_contextual = embed_contextual  # the background job makes contextual vectors
        self._contextual_saved = time.monotonic()
        self._write_lock = threading.Lock()
        self.follow_state = FollowState(self.path)
        self.related = RelatedCache(self.path / "related.sqlite")  # search/related.py
        # whoever sets a paper's vectors (the embedding job, the pull of stored vectors, a
        # bulk import's worker) drops its kept related list (search/related_fill.py)
        self.dense.on_set = self.contextual.on_set = self.related.forget
        # a paper with a contextual vector is judged by it (hybrid.meaning), so the static
        # tier's vector index holds only the papers without one (docs/search.md, "One tier
        # a paper"); not where no contextual query vector can be made
        self.dense.covered = self.contextual if self._want_contextual else None
        if self.lexical.was_reset:  # a new lexical layout: index every paper again
            log.warning(
                "the lexical index in %s had an older layout and was dropped; it is rebuilt "
                "by `paperwire index --rebuild` or by a running server",
                self.path,
            )
            self.follow_state.clear()
        self.pipeline: EmbedPipeline | None = None  # set for a bulk import (search/pipeline.py)
        self._pulled: dict[str, dict[int, datetime]] = {}  # pull_vectors' overlap window
        self._pull_read: dict[str, datetime] = {}  # when each model's last pull began
        # vectors this process loaded from the store / computed itself, by model
        self.loaded: dict[str, int] = {}
        self.computed: dict[str, int] = {}
        self._bulk: BulkUpserter | None = None  # set between begin_bulk and end_bulk
        self._staged: list = []
        self._staged_gone: list[int] = []

    # -- the model ------------------------------------------------------------------
    @property
    def embedder(self) -> Embedder | None:
        if self._embedder is None and self._want_embedder:
            try:
                self._embedder = default_embedder()
            except (EmbedderUnavailable, OSError) as exc:
                log.warning("dense search disabled: %s", exc)
                self._want_embedder = False
        return self._embedder

    def query_vector(self, text: str) -> np.ndarray | None:
        emb = self.embedder
        return emb.embed_one(text) if emb is not None and text else None

    @property
    def contextual_embedder(self) -> ContextualEmbedder | None:
        """The contextual model, or None (logged once) when its packages are missing."""
        if self._contextual is None and self._want_contextual:
            try:
                self._contextual = contextual_embedder()
            except (EmbedderUnavailable, OSError) as exc:
                log.warning("contextual vectors disabled, static ones only: %s", exc)
                self._want_contextual = False
                self.dense.covered = None  # the static tier takes every paper back
                self.dense.refresh(force=True)
        return self._contextual

    def contextual_query_vector(self, text: str) -> np.ndarray | None:
        """The query's contextual vector, or None while no paper has one (or no model)."""
        if not text or not self.contextual.embedded():
            return None
        emb = self.contextual_embedder
        return emb.embed_one(text) if emb is not None else None

    # -- incremental ----------------------------------------------------------------
    def index_ids(
        self,
        store,
        ids: list[int],
        known: Mapping[int, SearchDoc] | None = None,
        *,
        embed: bool = False,
    ) -> int:
        """(Re)index these papers now; ids no longer in the store are removed.  ``known``:
        documents the caller already holds as committed (an import batch's new papers); the
        others are read from the store."""
        ids = list(dict.fromkeys(ids))
        known = known or {}
        docs = [known[i] for i in ids if i in known]
        docs += store.search_docs([i for i in ids if i not in known])
        return self.index_docs(store, docs, set(ids) - {d.id for d in docs}, embed=embed)

    def index_docs(self, store, docs: list, gone: Set[int] = frozenset(), *, embed: bool = False):
        """Write these documents (and drop ``gone`` ids); records what was indexed."""
        with self._write_lock:
            if self._bulk is not None:
                self._bulk.stage(docs, gone)
            else:
                self.lexical.upsert(docs)
                if gone:
                    self.lexical.delete(gone)
            hashes = [text_hash(d) for d in docs]  # once for both tiers and the pipeline
            self.dense.upsert(docs, hashes)
            self.contextual.upsert(docs, hashes)
            if gone:
                self.dense.delete(gone)
                self.contextual.delete(gone)
            if self._bulk is not None:
                self._staged.extend(docs)
                self._staged_gone.extend(gone)
                if len(self._staged) >= BULK_COMMIT_EVERY:
                    self._commit_bulk()
            else:
                self.follow_state.record(docs, gone)
                self.follow_state.unjournal([d.id for d in docs] + list(gone))
        if self.pipeline is not None and docs:  # a bulk import: embedded in a worker
            self.pipeline.submit(docs, hashes)
        elif embed and docs:
            self.embed_pending(store, only=[d.id for d in docs])
        return len(docs)

    # -- bulk imports ---------------------------------------------------------------
    def begin_bulk(self) -> None:
        """Keep one lexical writer open and commit it every ``BULK_COMMIT_EVERY`` papers."""
        with self._write_lock:
            if self._bulk is None:
                self._bulk = BulkUpserter(self.lexical)
                self._staged, self._staged_gone = [], []

    def end_bulk(self, commit: bool = True) -> None:
        with self._write_lock:
            if self._bulk is None:
                return
            if commit:
                self._commit_bulk()
            self._bulk.close(commit=commit)
            self._bulk = None

    def _commit_bulk(self) -> None:
        """Commit the staged papers, then record them and take them off the journal."""
        assert self._bulk is not None
        self._bulk.commit()
        self.follow_state.record(self._staged, self._staged_gone)
        self.follow_state.unjournal([d.id for d in self._staged] + self._staged_gone)
        self._staged, self._staged_gone = [], []

    def recover(self, store) -> int:
        """Index the papers a killed import committed to the store but not to the index."""
        n = 0
        while ids := self.follow_state.journaled():
            n += self.index_ids(store, ids)
            self.follow_state.unjournal(ids)  # (ids gone from the store were removed)
        return n

    def embed_pending(
        self,
        store,
        advance: Advance | None = None,
        *,
        only: list[int] | None = None,
        batch: int = EMBED_BATCH,
        stop: threading.Event | None = None,
        tier: str = "static",
        limit: int | None = None,
        embedder=None,
        newest_first: bool = False,
        load_only: bool = False,
    ) -> int:
        """Give vectors in ``tier`` to papers that have none, in batches; safe to stop and
        resume.  Vectors the store already holds for the same text are loaded, the others
        computed and saved to the store for every other node.  ``limit`` stops after about
        that many papers (the background job takes the contextual tier in slices, so newly
        imported papers get static vectors meanwhile); ``newest_first`` takes the latest
        papers first, the ones readers look at.  ``load_only``: take what the store holds,
        compute nothing."""
        if tier not in TIERS:
            raise ValueError(f"tier is one of {TIERS}, got {tier!r}")
        ctx = tier == "contextual"
        dense = self.contextual if ctx else self.dense
        if load_only:
            emb = None
        else:
            emb = embedder or (self.contextual_embedder if ctx else self.embedder)
            if emb is None:
                return 0
        if ctx and emb is not None:
            batch = min(batch, CONTEXTUAL_BATCH)
        done = 0
        after, before = 0, (1 << 62, 0)  # the cursor, oldest first or newest first
        wanted = set(only) if only is not None else None
        while not (stop and stop.is_set()) and not (limit and done >= limit):
            if newest_first:
                rows = dense.pending_newest(batch, before)
                pids = [p for p, _ in rows]
                before = (rows[-1][1], rows[-1][0]) if rows else before
            else:
                pids = dense.pending(batch, after)
                after = pids[-1] if pids else after
            if not pids:
                break
            if wanted is not None:
                pids = [p for p in pids if p in wanted]
                if not pids:
                    continue
            docs = store.search_docs(pids)
            if docs:
                done += self._vectors_for(store, dense, docs, emb)
            missing = set(pids) - {d.id for d in docs}
            if missing:
                dense.delete(missing)
            if advance:
                advance(len(pids))
        if done or not dense.ann_saved():  # (none yet, or an older version's file)
            save = True
            if ctx and limit:  # a slice: save the (large) index now and then, and when done
                now = time.monotonic()
                save = now - self._contextual_saved > CONTEXTUAL_SAVE_EVERY or not dense.pending(1)
                self._contextual_saved = now if save else self._contextual_saved
            dense.update_ann(save=save)
            if ctx and self.dense.covered is dense:
                self.dense.update_ann_if_shrunk()
        return done

    def _vectors_for(self, store, dense: DenseIndex, docs: list, emb) -> int:
        """Vectors for ``docs``: from the store where it holds them for the same text, else
        computed by ``emb`` and saved there.  Both kinds are rounded the store's way (float16),
        so every node holds exactly the same vectors."""
        hashes = {d.id: text_hash(d) for d in docs}
        shared = getattr(store, "vectors", None)
        got = shared.load(dense.model, hashes) if shared is not None else {}
        self.loaded[dense.model] = self.loaded.get(dense.model, 0) + len(got)
        todo = [d for d in docs if d.id not in got]
        if todo and emb is not None:
            self.computed[dense.model] = self.computed.get(dense.model, 0) + len(todo)
            fresh = np.asarray(emb.embed([d.embed_text for d in todo]), dtype=np.float32)
            fresh = fresh.astype(np.float16).astype(np.float32)
            rows = [(d.id, hashes[d.id], v) for d, v in zip(todo, fresh, strict=True)]
            if shared is not None:
                shared.save(dense.model, rows)
            got.update((pid, v) for pid, _h, v in rows)
        pids = list(got)
        if pids:
            dense.set_vectors(pids, np.stack([got[p] for p in pids]), [hashes[p] for p in pids])
        return len(pids)

    def _set_vector_mark(self, key: str, after: tuple[datetime, int]) -> None:
        self.follow_state.set(key, f"{after[0].isoformat()}|{after[1]}")

    def pull_vectors(self, store, stop: threading.Event | None = None) -> int:
        """Take in the vectors other nodes (or the CLI) saved to the store since the last
        pull, for papers whose text here is the text they embedded; returns how many."""
        shared = getattr(store, "vectors", None)
        if shared is None:
            return 0
        n = 0
        read_at = utcnow()
        # contextual first: the static tier then leaves those papers out as it takes in
        # its own vectors, instead of indexing them and removing them again
        for dense in (self.contextual, self.dense):
            key = f"vectors:{dense.model}"
            mark = self.follow_state.get(key)
            after: tuple[datetime, int] | None = None
            if mark:
                at, pid = mark.split("|")
                after = (datetime.fromisoformat(at), int(pid))
                # re-read an overlap window (PostgreSQL commits out of created_at order), but
                # only as far back as a row the last pull could not have seen yet: a vector
                # stored before (that read - OVERLAP) was committed then.  Measured from the
                # newest vector instead, every round re-read the last 120 s of an import's
                # vectors: 100k rows, 4 s of CPU every 2 s, for as long as the server ran.
                last = self._pull_read.get(dense.model)
                if last is None:  # a restart: when this directory's last whole pull began
                    kept = self.follow_state.get(f"vectors-read:{dense.model}")
                    last = datetime.fromisoformat(kept) if kept else None
                since = after[0] - VECTOR_OVERLAP if last is None else last - VECTOR_OVERLAP
                if since < after[0]:
                    after = (since, 0)
            seen = self._pulled.setdefault(dense.model, {})
            progress = Progress(partial(self._set_vector_mark, key), after)
            while not (stop and stop.is_set()):
                rows = shared.since(dense.model, after)  # keys: (id, text hash, created_at)
                if not rows:
                    break
                after = (rows[-1][2], rows[-1][0])
                new = {pid: h for pid, h, at in rows if seen.get(pid) != at}  # (the window)
                # only what this index lacks is loaded: after an import, which wrote its
                # vectors here and to the store, the first round read every one of them
                want = dense.lacking(new) if new else {}
                got = shared.load(dense.model, want) if want else {}
                if got:
                    pids = list(got)
                    dense.set_vectors(
                        pids,
                        np.stack([got[p] for p in pids]),
                        [want[p] for p in pids],
                        missing_only=True,
                    )
                    n += len(pids)
                seen.update((pid, at) for pid, _h, at in rows)
                progress.move(after)
            progress.close()
            self._pull_read[dense.model] = read_at
            if not (stop and stop.is_set()):
                self.follow_state.set(f"vectors-read:{dense.model}", read_at.isoformat())
            horizon = read_at - VECTOR_OVERLAP
            self._pulled[dense.model] = {p: t for p, t in seen.items() if t >= horizon}
        if n and self.dense.covered is self.contextual:  # (contextual vectors came: the
            self.dense.update_ann_if_shrunk()  # static index may hold far fewer papers)
        return n

    # -- from scratch ---------------------------------------------------------------
    def rebuild(self, store, advance: Advance | None = None) -> int:
        """Lexical index and filter fields for every paper, from the store (one commit)."""
        n, seen = 0, set[int]()
        with self._write_lock:
            since = store.last_modified()  # the follower resumes here (search/follow.py)
            bulk = BulkWriter(self.lexical)
            bulk.clear()
            self.dense.clear()
            self.dense.drop_ann()
            self.follow_state.clear()
            self.related.clear()
            try:
                for docs in store.iter_search_docs():
                    bulk.add(docs)
                    hashes = [text_hash(d) for d in docs]  # once for both tiers
                    self.dense.upsert(docs, hashes)
                    self.contextual.upsert(docs, hashes)  # keeps vectors of unchanged text
                    seen.update(d.id for d in docs)
                    self.follow_state.record(docs)
                    n += len(docs)
                    if advance:
                        advance(len(docs))
                bulk.commit()
                self.contextual.retain(seen)
                self.follow_state.set_watermark(since)
            except BaseException:
                bulk.writer.rollback()
                raise
        if self.contextual.embedded():  # the vector index afresh over the kept vectors
            self.contextual.drop_ann()
            self.contextual.update_ann()
        return n

    def status(self) -> dict[str, int]:
        total, embedded = self.dense.counts()
        _total, contextual = self.contextual.counts()
        return {
            "lexical": self.lexical.count(),
            "papers": total,
            "embedded": embedded,
            "contextual": contextual,
        }


_OPENING = threading.Lock()  # lru_cache alone lets two threads' first calls both open


@lru_cache(maxsize=8)
def _open_once(path: str, embed_contextual: bool = True) -> SearchIndex:
    return SearchIndex(Path(path), embed_contextual=embed_contextual)


def _open(path: str, embed_contextual: bool = True) -> SearchIndex:
    """One :class:`SearchIndex` per directory and process, however many threads ask first
    (two would each hold a tantivy writer lock and their own vector maps)."""
    with _OPENING:
        return _open_once(path, embed_contextual)


def open_index(settings: Settings) -> SearchIndex:
    """The process-wide index for these settings (indexes are shared by store and server)."""
    return _open(str(settings.resolved_index_dir.resolve()), settings.embed_contextual)
