"""Each node's search index follows the database.

Every host keeps its own index directory, but papers reach the database from anywhere: a
sync on another node, a submission through another web process, ``paperwire import`` on
another host.  So every serving process runs an ``IndexFollower``: every
``PAPERWIRE_INDEX_FOLLOW_INTERVAL`` seconds (default 2) it reads the papers modified since the
directory's watermark and indexes those the directory does not hold as they are now
(``follow_state.py``).  Readers reload within a second, so a paper imported through node A is
searchable on node B within about interval + 1 s (docs/deploy.md; tested with two servers).

One process per index directory writes: the follower holds an exclusive ``flock`` on
``follow.lock`` in the directory (workers of one host share it); the others wait for it and
take over when its holder exits.  The writer also runs the background embedding job, so
the workers of a host do not embed the same papers side by side, and the related-papers job
(``related_fill.py``), which keeps the directory's related lists ahead of the pages.

A window of ``OVERLAP`` before the previous read is read again each time, because PostgreSQL
transactions can commit out of ``modified_at`` order; papers in the window that are already
indexed cost one comparison.  The start of the last whole round is kept in the follow state,
so a restarted server looks back from there, not from the watermark: after a quiet spell it
reads nothing again (the first round after an import still reads the import's last two
minutes once).
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from datetime import datetime, timedelta

from paperwire.core.clock import utcnow
from paperwire.search.background import BackgroundEmbedder
from paperwire.search.follow_state import Progress
from paperwire.search.indexer import EMBED_INLINE_MAX, SearchIndex
from paperwire.search.related_fill import RelatedFiller

log = logging.getLogger("paperwire.search")
OVERLAP = timedelta(seconds=120)  # longest write transaction the follower tolerates
LAST_READ = "papers:last_read"  # follow state: when the last whole round began
BATCH = 2000


class IndexFollower(threading.Thread):
    def __init__(
        self, index: SearchIndex, store, interval: float = 2.0, *, embed: bool = False
    ) -> None:
        super().__init__(name="paperwire-index-follow", daemon=True)
        self.index, self.store, self.interval = index, store, interval
        self.embed = embed  # the writer also runs the background embedding job
        self.embedder_job: BackgroundEmbedder | None = None
        self.related_job: RelatedFiller | None = None
        self._stop_event = threading.Event()
        self._lock_fd: int | None = None
        self.leader = threading.Event()  # set while this process writes the index
        self.indexed = 0  # papers this follower (re)indexed
        self._seen: dict[int, datetime] = {}  # (id, modified_at) read within the window
        self._last_read: datetime | None = None

    # -- control --------------------------------------------------------------------
    def stop(self, timeout: float | None = 5.0) -> None:
        self._stop_event.set()
        if self.is_alive():
            self.join(timeout)
        if self.embedder_job is not None:
            self.embedder_job.close()
            self.embedder_job = None
        if self.related_job is not None:
            self.related_job.close()
            self.related_job = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None
            self.leader.clear()

    def _try_lead(self) -> bool:
        if self._lock_fd is not None:
            return True
        fd = os.open(self.index.path / "follow.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._lock_fd = fd
        self.leader.set()
        log.info("index follower: this process (pid %d) writes %s", os.getpid(), self.index.path)
        if self.embed:  # one embedding job per index directory, not one per worker
            self.embedder_job = BackgroundEmbedder(self.index, self.store).start()
        self.related_job = RelatedFiller(self.index, self.store)  # node-local lists
        self.related_job.start()  # (kept before it starts: its lists may come first)
        return True

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                if self._try_lead():
                    self.step()
            except Exception:  # logged; the next round tries again
                log.exception("index follower failed; retrying")
            if self._stop_event.wait(self.interval):
                return

    # -- one round ------------------------------------------------------------------
    def step(self) -> int:
        """Index every paper changed since the watermark; returns how many were written.

        Rows that might still commit late have ``modified_at`` after (the previous read -
        OVERLAP), so that is how far back a round looks; once a quiet spell passes, only
        new rows are read.  A row seen already (same id, same ``modified_at``) in the window
        costs nothing more than being listed again."""
        state = self.index.follow_state
        self.index.recover(self.store)  # what a killed import left unindexed
        mark = state.watermark()
        read_at = utcnow()
        if self._last_read is None:  # a restart: when this directory's last round began
            kept = state.get(LAST_READ)
            self._last_read = datetime.fromisoformat(kept) if kept else None
        if mark is None:
            since = None
        elif self._last_read is None:
            since = mark - OVERLAP
        else:
            since = min(mark, self._last_read - OVERLAP)
        after: tuple[datetime, int] | None = None
        written = 0
        newest = mark
        progress = Progress(state.set_watermark, mark)
        while not self._stop_event.is_set():
            rows = self.store.changed_papers(since, after, BATCH)
            if not rows:
                break
            after = rows[-1][1], rows[-1][0]
            listed = [(pid, mod) for pid, mod in rows if self._seen.get(pid) != mod]
            held = state.recorded_at(listed) if listed else set()  # indexed at this version
            ids = [pid for pid, _ in listed if pid not in held]
            if ids:
                docs = self.store.search_docs(ids)
                fresh = state.unchanged(docs)
                todo = [d for d in docs if d.id not in fresh]
                if todo:
                    # (a node that does not embed takes the vectors from the store below)
                    inline = self.embed and len(todo) <= EMBED_INLINE_MAX
                    self.index.index_docs(self.store, todo, embed=inline)
                    written += len(todo)
            self._seen.update(rows)
            top = rows[-1][1]
            if newest is None or top > newest:
                newest = top
                progress.move(newest)
        progress.close()
        # vectors another node (or this one) saved to the store: loaded, never recomputed
        pulled = self.index.pull_vectors(self.store, self._stop_event)
        if pulled:
            log.info("index follower: took in %d stored vectors", pulled)
        self._last_read = read_at
        if not self._stop_event.is_set():  # a whole round: a restart need not look further back
            state.set(LAST_READ, read_at.isoformat())
        keep_from = read_at - OVERLAP
        if newest is not None and newest < keep_from:
            # every round reads the papers modified at the watermark itself (``>=``): an
            # import's last batch shares one timestamp, and forgetting it re-read and
            # re-hashed about 2,000 papers every round
            keep_from = newest
        self._seen = {p: m for p, m in self._seen.items() if m >= keep_from}
        if written:
            self.indexed += written
            log.info("index follower: indexed %d changed papers", written)
        return written


def start(index: SearchIndex, store, interval: float, embed: bool) -> IndexFollower | None:
    if interval <= 0:
        return None
    follower = IndexFollower(index, store, interval, embed=embed)
    follower.start()
    return follower
