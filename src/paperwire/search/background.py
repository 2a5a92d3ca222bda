"""The background embedding job of a serving process (the index follower's writer runs it):
static vectors first, then contextual ones in slices, on one node of a cluster.

Static vectors first (every paper searchable by meaning within seconds), then contextual ones
in slices, newest papers first; the contextual model runs on one core at the lowest CPU
priority, and only on the node that holds the ``embed:contextual`` lease in the database.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from typing import TYPE_CHECKING

from paperwire.search.contextual import ContextualEmbedder
from paperwire.search.indexer import SearchIndex

if TYPE_CHECKING:
    from paperwire.store.sync_state import Lease

log = logging.getLogger("paperwire.search.indexer")
CONTEXTUAL_LEASE = "embed:contextual"  # the database lease of the node that computes them
CONTEXTUAL_LEASE_TTL = 600.0  # seconds; renewed every slice (about 30 s)


class BackgroundEmbedder:
    """Embeds pending papers in a daemon thread (used by the web server).

    Static vectors first (every paper searchable by meaning within seconds), then contextual
    ones in slices of ``slice_size`` papers, looking for new static work between slices.  The
    contextual model runs on one core at the lowest CPU priority (its own session), so
    searches keep their latency while it works through a large backlog."""

    def __init__(
        self,
        index: SearchIndex,
        store,
        every: float = 30.0,
        contextual: bool | None = None,
        slice_size: int = 256,
    ) -> None:
        self.index, self.store, self.every = index, store, every
        self.contextual = index.embed_contextual if contextual is None else contextual
        self.slice_size = slice_size
        self._model: ContextualEmbedder | None = None
        self._lease: Lease | None = None  # the embed:contextual lease while this node holds it
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True, name="paperwire-embed")

    def start(self) -> BackgroundEmbedder:
        self.thread.start()
        return self

    def _run(self) -> None:
        if self.contextual:
            # this thread only: the server's request threads keep their priority
            with contextlib.suppress(AttributeError, OSError):  # not Linux
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        while not self.stop.is_set():
            more = False
            try:
                n = self.index.embed_pending(self.store, stop=self.stop)
                if n:
                    log.info("embedded %d papers (static)", n)
                c = self._contextual_slice()
                if c:
                    log.info("embedded %d papers (contextual)", c)
                more = c > 0
            except Exception:  # pragma: no cover - logged, retried later
                log.exception("background embedding failed; will retry")
            if not more:
                self.stop.wait(self.every)

    def _contextual_slice(self) -> int:
        if not self.contextual or self.index.contextual_embedder is None:
            return 0
        if not self.index.contextual.pending(1):
            return 0
        if not self._hold_lease():
            return 0  # another node computes them; the index follower pulls them in
        if self._model is None:
            self._model = ContextualEmbedder(threads=1)
        return self.index.embed_pending(
            self.store, stop=self.stop, tier="contextual", limit=self.slice_size,
            embedder=self._model, newest_first=True,
        )  # fmt: skip

    def _hold_lease(self) -> bool:
        """One node of a cluster computes contextual vectors (hours of CPU): the holder of
        the ``embed:contextual`` lease in the database, renewed every slice, taken over
        when its node stops renewing it."""
        engine = getattr(self.store, "engine", None)
        if engine is None:
            return True
        from paperwire.store.sync_state import LockLost, SyncStore

        try:
            if self._lease is not None:
                self._lease.renew()
                return True
        except LockLost:
            self._lease = None
        self._lease = SyncStore(engine).acquire(CONTEXTUAL_LEASE, ttl=CONTEXTUAL_LEASE_TTL)
        if self._lease is not None:
            log.info("this node computes contextual vectors (lease %s)", CONTEXTUAL_LEASE)
        return self._lease is not None

    def close(self) -> None:
        self.stop.set()
        if self.thread.ident is not None:  # (a job never started has no thread to wait for)
            self.thread.join(5)
        if self._lease is not None:
            with contextlib.suppress(Exception):
                self._lease.release()
            self._lease = None
