"""The composition root: what a paperwire process is made of, wired in one place.

``AppContext(settings)`` builds, on first use and once per process, the store (engine,
migrations, the repositories, and the search indexer attached to its imports), the search
index and the hybrid searcher, and starts the background work a process runs: a web
worker's index follower (which also runs the embedding job on one node), or, in a process
without a follower, its own embedding job; ``paperwire serve``'s daily sync and digest
schedulers.  The web app (``web/app.py``), the CLI commands and the schedulers take what
they need from a context instead of opening it themselves, so which index goes with which
store, and who embeds, is decided here only.

Dependencies point down: web and cli → this module → the domains (papers and store, search,
community, digest, recommend, sync) → core.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from paperwire.settings import Settings

if TYPE_CHECKING:
    from paperwire.authors.lookup import AuthorLookup
    from paperwire.digest.repository import DigestRepository
    from paperwire.search.hybrid import HybridSearcher
    from paperwire.search.indexer import SearchIndex
    from paperwire.store import Store

log = logging.getLogger("paperwire")


def open_store(settings: Settings, *, migrate_schema: bool = True) -> Store:
    """The store as processes use it: migrated, and (``PAPERWIRE_SEARCH_INDEX_ON_IMPORT``,
    on by default) with the search indexer attached, so that every committed import batch
    updates this node's search index."""
    from paperwire.store.db import open_store as open_database

    store = open_database(settings, migrate_schema=migrate_schema)
    if settings.search_index_on_import:
        from paperwire.search.binding import attach

        attach(store, settings)
    return store


class AppContext:
    def __init__(self, settings: Settings, store: Store | None = None) -> None:
        self.settings = settings
        self._store = store
        self._owns_store = store is None  # a store handed in (tests) is closed by its owner
        self._lock = threading.RLock()
        self._searcher: HybridSearcher | None = None
        self._authors: AuthorLookup | None = None
        self._index: SearchIndex | None = None
        self.follower: Any = None  # search.follow.IndexFollower
        self.embedder_job: Any = None  # search.background.BackgroundEmbedder
        self.schedulers: list[Any] = []

    # -- parts ------------------------------------------------------------------------
    @property
    def store(self) -> Store:
        """The store, migrated on first open (with the search indexer attached)."""
        with self._lock:
            if self._store is None:
                self._store = open_store(self.settings)
            return self._store

    @property
    def digests(self) -> DigestRepository:
        """The digest slice's repository (subscriptions, deliveries) over the store's engine."""
        from paperwire.digest.repository import DigestRepository

        return DigestRepository(self.store.engine)

    def index(self) -> SearchIndex:
        """This process's search index for these settings (one per index directory; kept
        here once opened, since ``open_index`` resolves the directory on disk per call)."""
        index = self._index
        if index is None:
            from paperwire.search.indexer import open_index

            index = self._index = open_index(self.settings)
        return index

    def index_or_none(self) -> SearchIndex | None:
        """The index, or None when it cannot be opened: for features where meaning is an
        extra (recommendations fall back to words); logged, never raised."""
        try:
            return self.index()
        except Exception:
            log.exception("search index unavailable; falling back to words only")
            return None

    def authors(self) -> AuthorLookup:
        """Author pages' lookup: the lexical index's author phrases, checked in the store
        (one per context: opening the index resolves its path on disk every time)."""
        with self._lock:
            if self._authors is None:
                from paperwire.authors.lookup import AuthorLookup
                from paperwire.authors.repository import AuthorRepository

                self._authors = AuthorLookup(
                    self.index().lexical, AuthorRepository(self.store.engine)
                )
            return self._authors

    def searcher(self) -> HybridSearcher:
        """One hybrid searcher per context, made on first use (it starts nothing)."""
        with self._lock:
            if self._searcher is None:
                from paperwire.search.hybrid import HybridSearcher

                self._searcher = HybridSearcher(self.index(), self.store)
            return self._searcher

    # -- background work --------------------------------------------------------------
    def start_follower(self) -> Any:
        """Keep this node's search index in step with the database (search/follow.py); the
        follower of the node that holds the scheduled-work claim runs the embedding job."""
        if self.settings.index_follow_interval <= 0:
            return None
        try:
            from paperwire.search import follow

            self.follower = follow.start(
                self.index(),
                self.store,
                self.settings.index_follow_interval,
                embed=self.settings.embed_on_import,
            )
        except Exception:  # search is an extra: never keep the site from starting
            log.exception("the search index follower could not start; search may lag")
            self.follower = None
        return self.follower

    def start_embedder(self) -> Any:
        """This process's own embedding job (``PAPERWIRE_EMBED_ON_IMPORT``), for an app
        without an index follower: with one, the follower that holds the scheduled-work
        claim runs the job instead, on one node."""
        if self.follower is not None or not self.settings.embed_on_import:
            return None
        try:
            from paperwire.search.background import BackgroundEmbedder

            self.embedder_job = BackgroundEmbedder(self.index(), self.store).start()
        except Exception:  # search is an extra: never keep the site from starting
            log.exception("the embedding job could not start; new papers wait for `embed`")
            self.embedder_job = None
        return self.embedder_job

    def start_schedulers(self, *, sync: bool = True) -> list[str]:
        """The daily sync (unless ``sync`` is false) and digest threads of ``paperwire
        serve``, as configured; returns a line per started job for the console."""
        lines = []
        if sync and self.settings.sync_enabled:
            from paperwire.sync import scheduler

            if job := scheduler.start(self.settings, open_store=open_store):
                self.schedulers.append(job)
                at = self.settings.sync_time
                lines.append(f"daily sync at {at} UTC (turn off with --no-sync)")
        if self.settings.digest_enabled:  # due at PAPERWIRE_DIGEST_TIME (docs/digest.md)
            from paperwire.digest import job as digest_job

            if digests := digest_job.start(self.settings, self.index):
                self.schedulers.append(digests)
                lines.append(f"email digests at {self.settings.digest_time} UTC")
        return lines

    def close(self) -> None:
        """Stop what this context started and close the store it opened."""
        if self.follower is not None:
            self.follower.stop()  # (it stops the embedding job it ran, if any)
        if self.embedder_job is not None:
            self.embedder_job.close()
        self.follower = self.embedder_job = None
        with self._lock:
            if self._owns_store and self._store is not None:
                self._store.close()
                self._store = None

    def __enter__(self) -> AppContext:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()
