"""Related papers, computed ahead and kept: a node-local table beside the search index.

Finding a paper's related papers is a search by meaning over the whole collection (about
2.4 ms of CPU at 2.9M papers, a third of a paper page's first render).  The answer changes
only when the paper's own vectors change, or as new papers arrive; so each answer is kept in
``related.sqlite`` (the index directory's own file, derived data like the rest of it) under
a key made of the paper's vectors.  The index writer's related-papers job
(``related_fill.py``) computes the lists ahead of any view, newest papers first, in batches
(a third of the CPU a paper), and computes again each list older than ``REFRESH_AGE``, so
papers published since appear.  A page reads the kept list; it searches itself only for a
paper the job has not reached, a re-embedded paper (a new key), or a list older than
``MAX_AGE`` (the job has not run).  The table is best effort: a locked or unreadable file
only means computing the answer again.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REFRESH_AGE = 86_400.0  # seconds before the job computes a list again
MAX_AGE = 7 * 86_400.0  # seconds a page serves a list without computing it again
KEEP = 10  # related papers kept per paper (pages show 5)

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS related (pid INTEGER PRIMARY KEY, key TEXT, ids TEXT, made REAL)"
)


def vectors_key(*vecs: np.ndarray | None) -> str:
    """A key for a paper's vectors (None where a tier has none)."""
    h = hashlib.blake2b(digest_size=12)
    for v in vecs:
        h.update(b"-" if v is None else np.asarray(v, dtype=np.float32).tobytes())
        h.update(b"|")
    return h.hexdigest()


class RelatedCache:
    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.clock = clock
        self._lock = threading.Lock()
        self._db: tuple[int, sqlite3.Connection] | None = None

    def _conn(self) -> sqlite3.Connection:
        if self._db is None or self._db[0] != os.getpid():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=0.2, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=OFF")  # derived data: a lost write is recomputed
            db.execute(_SCHEMA)
            self._db = (os.getpid(), db)
        return self._db[1]

    def get(self, pid: int, key: str) -> list[int] | None:
        """The kept answer for this paper with these vectors, if fresh enough."""
        try:
            with self._lock:
                row = (
                    self._conn()
                    .execute("SELECT key, ids, made FROM related WHERE pid = ?", (pid,))
                    .fetchone()
                )
        except sqlite3.Error:
            return None
        if row is None or row[0] != key or self.clock() - row[2] > MAX_AGE:
            return None
        return [int(p) for p in json.loads(row[1])]

    def lists(self, pids: list[int]) -> dict[int, list[int]]:
        """The kept lists of these papers, whatever their key or age (candidates for their
        next list: ``HybridSearcher.related_lists``)."""
        out: dict[int, list[int]] = {}
        try:
            with self._lock:
                db = self._conn()
                for at in range(0, len(pids), 500):
                    part = [int(p) for p in pids[at : at + 500]]
                    marks = ",".join("?" * len(part))
                    sql = f"SELECT pid, ids FROM related WHERE pid IN ({marks})"
                    out.update((p, json.loads(ids)) for p, ids in db.execute(sql, part))
        except sqlite3.Error:
            return {}
        return out

    def put(self, pid: int, key: str, ids: list[int]) -> None:
        self.put_many([(pid, key, ids)])

    def put_many(self, answers: list[tuple[int, str, list[int]]]) -> None:
        """Keep these ``(paper, vectors key, related ids)`` answers, in one transaction."""
        now = self.clock()
        rows = [
            (pid, key, json.dumps([int(p) for p in ids[:KEEP]]), now) for pid, key, ids in answers
        ]
        try:
            with self._lock:
                db = self._conn()
                db.executemany("INSERT OR REPLACE INTO related VALUES (?, ?, ?, ?)", rows)
                db.commit()
        except sqlite3.Error:
            pass  # best effort: the next view computes it again

    def fresh(self, age: float = REFRESH_AGE) -> np.ndarray:
        """The papers whose kept list is younger than ``age`` seconds (sorted store ids)."""
        try:
            with self._lock:
                got = self._conn().execute(
                    "SELECT pid FROM related WHERE made >= ?", (self.clock() - age,)
                )
                pids = np.fromiter((r[0] for r in got), dtype=np.int64)
        except sqlite3.Error:
            return np.zeros(0, dtype=np.int64)
        return np.sort(pids)

    def forget(self, pids: list[int]) -> None:
        """Drop the lists of papers whose vectors changed (the job computes them again)."""
        try:
            with self._lock:
                db = self._conn()
                db.executemany("DELETE FROM related WHERE pid = ?", [(int(p),) for p in pids])
                db.commit()
        except sqlite3.Error:
            pass  # their keys changed anyway: a view computes them again

    def clear(self) -> None:
        try:
            with self._lock:
                db = self._conn()
                db.execute("DELETE FROM related")
                db.commit()
        except sqlite3.Error:
            pass
