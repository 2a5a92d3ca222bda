"""Static vectors computed in a worker process while a bulk import writes rows.

``paperwire import`` is one pipeline over both cores: a reader process parses the files
(sources/files.py), the main process writes rows and the lexical index batch by batch, and
after each committed batch the batch's texts go to one worker process, which embeds them
(WordLlama) while the main process goes on with the next batch.  Finished vectors are
written back between batches.

Crash safety needs nothing new: a paper whose vector never came back keeps ``vec IS NULL``
in ``vectors.sqlite``, so the next ``paperwire import`` or ``paperwire embed`` finds it
pending and embeds it.  A vector is stored only while the paper's text hash is still the one
that was embedded, so a paper changed again later in the same import is not given a vector
of its old text.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor

import numpy as np

from paperwire.search.dense import DenseIndex, text_hash
from paperwire.store.vectors import VectorStore
from paperwire.store.views import SearchDoc

log = logging.getLogger(__name__)
MAX_IN_FLIGHT = 4  # batches queued for the worker; bounds the memory they hold


def _load_model() -> None:
    from paperwire.search.embed import default_embedder

    default_embedder()


def _embed(texts: list[str]) -> np.ndarray:
    from paperwire.search.embed import default_embedder

    return default_embedder().embed(texts)


class EmbedPipeline:
    """Queue documents for static embedding in one worker process; store what comes back."""

    def __init__(
        self,
        dense: DenseIndex,
        shared: VectorStore | None = None,
        workers: int | None = None,
        max_in_flight: int = MAX_IN_FLIGHT,
    ) -> None:
        self.dense = dense
        self.shared = shared  # the store's vectors: saved there for every other node
        self.max_in_flight = max_in_flight
        # one: embedding costs about half of what the main process spends on a paper, so a
        # second worker only idles (183k import: 156.9 s with one, 158.3 s with two, same
        # minutes) and holds another copy of the model (about 240 MB)
        workers = workers or 1
        # spawn, not fork: the parent holds tantivy and SQLite handles and threads
        self._pool = ProcessPoolExecutor(
            workers, mp_context=multiprocessing.get_context("spawn"), initializer=_load_model
        )
        self._queue: deque[tuple[list[int], list[str], Future]] = deque()
        self.done = 0

    def submit(self, docs: list[SearchDoc], hashes: list[str] | None = None) -> None:
        """Embed ``docs`` (``hashes``: their ``text_hash``, when the caller has them)."""
        if not docs:
            return
        ids = [d.id for d in docs]
        hashes = hashes if hashes is not None else [text_hash(d) for d in docs]
        self._queue.append((ids, hashes, self._pool.submit(_embed, [d.embed_text for d in docs])))
        self._collect(block=len(self._queue) > self.max_in_flight)

    def _collect(self, block: bool = False) -> None:
        """Store every finished batch (in order); with ``block``, wait for the oldest one."""
        while self._queue and (block or self._queue[0][2].done()):
            ids, hashes, fut = self._queue.popleft()
            vecs = fut.result().astype(np.float16).astype(np.float32)  # as the store keeps them
            if self.shared is not None:
                self.shared.save(self.dense.model, zip(ids, hashes, vecs, strict=True))
            self.dense.set_vectors(ids, vecs, hashes=hashes)
            self.done += len(ids)
            block = False

    def close(self, wait: bool = True) -> int:
        """Store what is still coming (``wait``) or drop it; returns papers embedded."""
        try:
            while wait and self._queue:
                self._collect(block=True)
        finally:
            for *_, fut in self._queue:
                fut.cancel()
            self._queue.clear()
            self._pool.shutdown(wait=wait, cancel_futures=True)
        return self.done

    def __enter__(self) -> EmbedPipeline:
        return self

    def __exit__(self, exc_type, *_exc) -> None:
        self.close(wait=exc_type is None)
