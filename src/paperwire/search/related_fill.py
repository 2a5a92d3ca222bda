"""The related-papers job: every paper's related list computed before anyone opens it.

A paper page shows the papers nearest it by meaning.  Searching for them on the page's first
view was a third of its render at 2.9M papers (about 2.4 ms of CPU a page, and more under
load); this job computes the lists ahead, in batches of ``BATCH`` papers, newest papers
first (they are the ones readers open), and keeps them in ``related.sqlite``
(``related.py``).  A batch's papers are searched together (``HybridSearcher.related_lists``,
the same code a page's first view runs for one paper): faiss reads each list of the
inverted file once for every query of a call that probes it, so a paper costs 0.79 ms of
CPU at 2.9M against 1.98 ms searched alone, with the same answer (``bench/related_fill.py``;
the calls are slices of ``dense.LOCK_SLICE`` queries).  Papers with a contextual vector
are ranked by both tiers, one at a time.

The index writer of each directory runs the job (the related table is node-local, like the
rest of the directory) in a thread that uses one core at most half the time: one faiss
thread, and after each batch it rests as long as the batch took (``PAUSE``).  It is not
given a lower CPU priority: it holds the dense index's lock while it searches (a slice of
``dense.LOCK_SLICE`` queries at a time), and a low-priority holder on busy cores would make
the pages' searches wait behind it for seconds.  ``paperwire index --related`` runs it in
the foreground on every core, without rests.  When every list is fresh the job looks for
work again after ``every`` seconds if papers were embedded meanwhile, and at least every
``RESCAN`` seconds for lists older than ``REFRESH_AGE``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import numpy as np

from paperwire.search.ann import faiss
from paperwire.search.hybrid import HybridSearcher
from paperwire.search.related import vectors_key

log = logging.getLogger("paperwire.search")
BATCH = 1000  # papers read, searched and kept together (then the server's job rests)
RESCAN = 3600.0  # seconds between looks for aged lists when nothing new was embedded
PAUSE = 1.0  # the server's job rests this many times as long as each batch took


def pending(index) -> np.ndarray:
    """Store ids of the embedded papers whose list is missing or older than
    ``REFRESH_AGE``, newest first (ties: the larger id first)."""
    order = index.dense.newest_embedded()
    return order[~np.isin(order, index.related.fresh())]


def fill(searcher: HybridSearcher, pids: list[int]) -> int:
    """Compute and keep the related lists of these papers; returns how many were kept."""
    index = searcher.index
    vecs = index.dense.vectors(pids)
    cvecs = index.contextual.vectors(pids) if index.contextual.embedded() else {}
    lists = searcher.related_lists(vecs, cvecs)
    index.related.put_many(
        [(p, vectors_key(vecs.get(p), cvecs.get(p)), ids) for p, ids in lists.items()]
    )
    return len(lists)


def fill_all(
    searcher: HybridSearcher,
    stop: threading.Event | None = None,
    advance: Callable[[int], None] | None = None,
    todo: np.ndarray | None = None,
    pause: float = 0.0,
) -> int:
    """Fill every pending list (see :func:`pending`), batch by batch, until ``stop``;
    after each batch, rest ``pause`` times as long as it took."""
    todo = pending(searcher.index) if todo is None else todo
    stop = stop or threading.Event()
    done = 0
    for at in range(0, len(todo), BATCH):
        if stop.is_set():
            break
        began = time.perf_counter()
        done += fill(searcher, todo[at : at + BATCH].tolist())
        if advance is not None:
            advance(min(BATCH, len(todo) - at))
        if pause > 0:
            stop.wait(pause * (time.perf_counter() - began))
    return done


class RelatedFiller:
    """Runs :func:`fill_all` in a daemon thread, on at most half of one core."""

    def __init__(self, index, store, every: float = 30.0) -> None:
        self.searcher = HybridSearcher(index, store)
        self.every = every
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True, name="paperwire-related")

    def start(self) -> RelatedFiller:
        self.thread.start()
        return self

    def _run(self) -> None:
        faiss.omp_set_num_threads(1)  # this thread's searches only (OpenMP's setting is per thread)
        seen, looked = -1, 0.0
        while not self.stop.is_set():
            try:
                embedded = self.searcher.index.dense.embedded()
                if embedded != seen or time.monotonic() - looked > RESCAN:
                    seen, looked = embedded, time.monotonic()
                    n = fill_all(self.searcher, self.stop, pause=PAUSE)
                    if n:
                        log.info("related papers: kept the lists of %d papers", n)
            except Exception:  # pragma: no cover - logged, retried later
                log.exception("related papers job failed; will retry")
            self.stop.wait(self.every)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
