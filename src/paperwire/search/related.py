"""Related papers, computed once and kept: a node-local cache beside the search index.

Finding a paper's related papers is a search by meaning over the whole collection (80 ms
of CPU at 2.9M papers, most of a paper page's cost).  The answer changes only when the
paper's own vectors change, or as new papers arrive; so each answer is kept in
``related.sqlite`` (the index directory's own file, derived data like the rest of it) under
a key made of the paper's vectors, for at most ``MAX_AGE`` seconds.  A re-embedded paper has
a new key and is computed afresh; an answer older than a day is recomputed, so papers
published since can appear.  The cache is best effort: a locked or unreadable file only
means computing the answer again.
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

MAX_AGE = 86_400.0  # seconds an answer is kept
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

    def put(self, pid: int, key: str, ids: list[int]) -> None:
        try:
            with self._lock:
                db = self._conn()
                db.execute(
                    "INSERT OR REPLACE INTO related VALUES (?, ?, ?, ?)",
                    (pid, key, json.dumps([int(p) for p in ids[:KEEP]]), self.clock()),
                )
                db.commit()
        except sqlite3.Error:
            pass  # best effort: the next view computes it again

    def clear(self) -> None:
        try:
            with self._lock:
                db = self._conn()
                db.execute("DELETE FROM related")
                db.commit()
        except sqlite3.Error:
            pass
