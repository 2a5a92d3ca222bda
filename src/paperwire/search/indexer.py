"""Keeps the search indexes derived from the store: incremental updates after every committed
import batch, the resumable embedding job, and a rebuild from scratch.

Layout under ``settings.resolved_index_dir``: ``lexical/`` (tantivy), ``vectors.sqlite``
(dense vectors and filter fields) and ``dense.hnsw`` (the HNSW graph over the vectors, saved
at the end of every embedding run).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np

from paperwire.search.dense import DenseIndex
from paperwire.search.embed import DEFAULT_MODEL, Embedder, EmbedderUnavailable, default_embedder
from paperwire.search.follow_state import FollowState
from paperwire.search.lexical import LexicalIndex
from paperwire.settings import Settings

log = logging.getLogger(__name__)
EMBED_INLINE_MAX = 500  # batches up to this size (a daily sync) are embedded at once
EMBED_BATCH = 512

Advance = Callable[[int], None]


class SearchIndex:
    def __init__(self, path: Path, embedder: Embedder | None | bool = True) -> None:
        self.path = Path(path)
        self.lexical = LexicalIndex(self.path / "lexical")
        self.dense = DenseIndex(self.path / "vectors.sqlite", model=DEFAULT_MODEL)
        self._embedder = embedder if isinstance(embedder, Embedder) else None
        self._want_embedder = embedder is not False
        self._write_lock = threading.Lock()
        self.follow_state = FollowState(self.path)

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

    # -- incremental ----------------------------------------------------------------
    def index_ids(self, store, ids: list[int], *, embed: bool = False) -> int:
        """(Re)index these papers now; ids no longer in the store are removed."""
        ids = list(dict.fromkeys(ids))
        docs = store.search_docs(ids)
        return self.index_docs(store, docs, set(ids) - {d.id for d in docs}, embed=embed)

    def index_docs(self, store, docs: list, gone: set[int] = frozenset(), *, embed: bool = False):
        """Write these documents (and drop ``gone`` ids); records what was indexed."""
        with self._write_lock:
            self.lexical.upsert(docs)
            self.dense.upsert(docs)
            if gone:
                self.lexical.delete(gone)
                self.dense.delete(gone)
            self.follow_state.record(docs, gone)
        if embed and docs:
            self.embed_pending(store, only=[d.id for d in docs])
        return len(docs)

    def embed_pending(
        self,
        store,
        advance: Advance | None = None,
        *,
        only: list[int] | None = None,
        batch: int = EMBED_BATCH,
        stop: threading.Event | None = None,
    ) -> int:
        """Embed papers that have no vector yet, in batches; safe to stop and resume."""
        emb = self.embedder
        if emb is None:
            return 0
        done, after = 0, 0
        wanted = set(only) if only is not None else None
        while not (stop and stop.is_set()):
            pids = self.dense.pending(batch, after)
            if not pids:
                break
            after = pids[-1]
            if wanted is not None:
                pids = [p for p in pids if p in wanted]
                if not pids:
                    continue
            docs = store.search_docs(pids)
            if docs:
                vecs = emb.embed([d.embed_text for d in docs])
                self.dense.set_vectors([d.id for d in docs], vecs)
            missing = set(pids) - {d.id for d in docs}
            if missing:
                self.dense.delete(missing)
            done += len(docs)
            if advance:
                advance(len(pids))
        if done or (self.dense.ann is None and not self.dense.ann_path.exists()):
            self.dense.update_ann()
        return done

    # -- from scratch ---------------------------------------------------------------
    def rebuild(self, store, advance: Advance | None = None) -> int:
        """Lexical index and filter fields for every paper, from the store (one commit)."""
        n = 0
        with self._write_lock:
            since = store.last_modified()  # the follower resumes here (search/follow.py)
            bulk = self.lexical.bulk()
            bulk.clear()
            self.dense.clear()
            self.dense.drop_ann()
            self.follow_state.clear()
            try:
                for docs in store.iter_search_docs():
                    bulk.add(docs)
                    self.dense.upsert(docs)
                    self.follow_state.record(docs)
                    n += len(docs)
                    if advance:
                        advance(len(docs))
                bulk.commit()
                self.follow_state.set_watermark(since)
            except BaseException:
                bulk.writer.rollback()
                raise
        return n

    def status(self) -> dict[str, int]:
        total, embedded = self.dense.counts()
        return {"lexical": self.lexical.count(), "papers": total, "embedded": embedded}


@lru_cache(maxsize=8)
def _open(path: str) -> SearchIndex:
    return SearchIndex(Path(path))


def open_index(settings: Settings) -> SearchIndex:
    """The process-wide index for these settings (indexes are shared by store and server)."""
    return _open(str(settings.resolved_index_dir.resolve()))


def attach(store, settings: Settings) -> SearchIndex | None:
    """Make every committed import batch of ``store`` update the search index."""
    if not settings.search_index_on_import:
        return None
    index = open_index(settings)
    embed_small = settings.embed_on_import

    def on_import(ids: list[int]) -> None:
        index.index_ids(store, ids, embed=embed_small and len(ids) <= EMBED_INLINE_MAX)

    store.import_listeners.append(on_import)
    return index


class BackgroundEmbedder:
    """Embeds pending papers in a daemon thread (used by the web server)."""

    def __init__(self, index: SearchIndex, store, every: float = 30.0) -> None:
        self.index, self.store, self.every = index, store, every
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True, name="paperwire-embed")

    def start(self) -> BackgroundEmbedder:
        self.thread.start()
        return self

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                n = self.index.embed_pending(self.store, stop=self.stop)
                if n:
                    log.info("embedded %d papers", n)
            except Exception:  # pragma: no cover - logged, retried later
                log.exception("background embedding failed; will retry")
            self.stop.wait(self.every)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
