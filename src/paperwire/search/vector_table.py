"""``vectors.sqlite``: a dense tier's file, beside the lexical index (not the store).

Per paper: the filter fields (day, upvotes, organization, categories), the hash of the text
that was embedded, and the vector (float32), or NULL while the paper waits for the embedding
job.  Every write bumps a sequence number (deletions also an epoch), so that a serving
process (``dense.py``) reloads only what changed.  Reads of exact vectors (related papers,
"For you") go through one shared connection per process.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np

from paperwire.core.sql import IN_CHUNK
from paperwire.store.views import SearchDoc

_SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (
    pid INTEGER PRIMARY KEY, day INTEGER, upvotes INTEGER, org TEXT, cats TEXT,
    text_hash TEXT, vec BLOB, seq INTEGER
);
CREATE INDEX IF NOT EXISTS ix_vectors_seq ON vectors(seq);
CREATE INDEX IF NOT EXISTS ix_vectors_pending ON vectors(pid) WHERE vec IS NULL;
CREATE INDEX IF NOT EXISTS ix_vectors_pending_day ON vectors(day, pid) WHERE vec IS NULL;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
"""


def _rows_in(db: sqlite3.Connection, sql: str, ids: list[int]) -> Iterator[tuple]:
    """The rows of ``sql`` (its ``IN ({})`` filled with placeholders) for ``ids``, asked
    ``IN_CHUNK`` at a time."""
    for i in range(0, len(ids), IN_CHUNK):
        chunk = ids[i : i + IN_CHUNK]
        yield from db.execute(sql.format(",".join("?" * len(chunk))), chunk)


def text_hash(doc: SearchDoc) -> str:
    return hashlib.blake2b(doc.embed_text.encode(), digest_size=12).hexdigest()


class VectorTable:
    def __init__(self, path: Path, dim: int, model: str = "") -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.dim, self.model = dim, model
        init = sqlite3.connect(self.path, timeout=60)
        init.execute("PRAGMA journal_mode=WAL")
        init.executescript(_SCHEMA)
        init.close()
        with self._db() as db:
            got = db.execute("SELECT value FROM meta WHERE key='model'").fetchone()
            if got is None:
                db.execute("INSERT INTO meta VALUES ('model', ?)", (model,))
            elif model and got[0] != model:  # another model's vectors: embed everything again
                db.execute("UPDATE vectors SET vec = NULL, seq = seq + 1")
                db.execute("UPDATE meta SET value = ? WHERE key = 'model'", (model,))
        self._reader: tuple[int, sqlite3.Connection] | None = None
        self._reader_lock = threading.Lock()
        # told the papers whose vectors set_vectors just stored, wherever it was called from
        # (the index drops their kept related lists: new vectors, new neighbours)
        self.on_set: Callable[[list[int]], None] | None = None

    def _db(self, write: bool = True) -> _Tx:
        db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        db.execute("PRAGMA synchronous=NORMAL")
        return _Tx(db, write)

    # -- reading --------------------------------------------------------------------
    # -- writing --------------------------------------------------------------------
    def upsert(self, docs: Iterable[SearchDoc], hashes: list[str] | None = None) -> int:
        """Record filter fields; a paper whose text changed waits for embedding again.
        ``hashes``: the docs' ``text_hash``, when the caller has them already."""
        docs = list(docs)
        if not docs:
            return 0
        if hashes is None:
            hashes = [text_hash(d) for d in docs]
        with self._db() as db:
            seq = self._next_seq(db)
            old: dict[int, str] = dict(
                _rows_in(
                    db, "SELECT pid, text_hash FROM vectors WHERE pid IN ({})", [d.id for d in docs]
                )
            )
            rows = []
            for d, h in zip(docs, hashes, strict=True):
                fields = (
                    d.day.toordinal() if d.day else 0,
                    d.upvotes,
                    d.organization,
                    json.dumps(sorted(set(d.categories))),
                    seq,
                    d.id,
                )
                if old.get(d.id) == h:
                    rows.append(("keep", fields, h))
                else:
                    rows.append(("new", fields, h))
            db.executemany(
                "UPDATE vectors SET day=?, upvotes=?, org=?, cats=?, seq=? WHERE pid=?",
                [f for kind, f, _ in rows if kind == "keep"],
            )
            db.executemany(
                "INSERT OR REPLACE INTO vectors (day, upvotes, org, cats, seq, pid, text_hash, vec)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
                [(*f, h) for kind, f, h in rows if kind == "new"],
            )
        return len(docs)

    def set_vectors(
        self,
        pids: list[int],
        vecs: np.ndarray,
        hashes: list[str] | None = None,
        *,
        missing_only: bool = False,
    ) -> None:
        """Store vectors; with ``hashes`` only where the paper's text hash is still that one
        (a vector computed elsewhere while the text changed again is dropped).
        ``missing_only``: leave a paper that has a vector of that text already (the same
        model on the same text: the same vector), as a follower pulling an overlap window
        again would otherwise rewrite tens of thousands of them."""
        vecs = np.asarray(vecs, dtype=np.float32)
        with self._db() as db:
            seq = self._next_seq(db)
            if hashes is None:
                db.executemany(
                    "UPDATE vectors SET vec=?, seq=? WHERE pid=?",
                    [(v.tobytes(), seq, p) for p, v in zip(pids, vecs, strict=True)],
                )
            else:
                only = " AND vec IS NULL" if missing_only else ""
                db.executemany(
                    f"UPDATE vectors SET vec=?, seq=? WHERE pid=? AND text_hash=?{only}",
                    [(v.tobytes(), seq, p, h) for p, v, h in zip(pids, vecs, hashes, strict=True)],
                )
        if self.on_set is not None:
            self.on_set(list(pids))

    def lacking(self, wanted: dict[int, str]) -> dict[int, str]:
        """The papers among ``wanted`` (id -> text hash) that have that text here and no
        vector yet: the ones ``set_vectors(..., missing_only=True)`` would take."""
        sql = "SELECT pid, text_hash FROM vectors WHERE pid IN ({}) AND vec IS NULL"
        with self._db(write=False) as db:
            return {p: h for p, h in _rows_in(db, sql, list(wanted)) if wanted[p] == h}

    def delete(self, pids: Iterable[int]) -> None:
        with self._db() as db:
            db.executemany("DELETE FROM vectors WHERE pid=?", [(p,) for p in pids])
            self._next_seq(db, epoch=True)

    def retain(self, keep: set[int]) -> int:
        """Delete every paper not in ``keep``; returns how many went."""
        with self._db(write=False) as db:
            gone = [r[0] for r in db.execute("SELECT pid FROM vectors") if r[0] not in keep]
        if gone:
            self.delete(gone)
        return len(gone)

    def clear(self) -> None:
        with self._db() as db:
            db.execute("DELETE FROM vectors")
            self._next_seq(db, epoch=True)

    def _next_seq(self, db, epoch: bool = False) -> int:
        """Bump the sequence number; ``epoch`` too when rows were deleted, so that every
        serving process reloads everything instead of only the changed rows."""
        got = db.execute("SELECT value FROM meta WHERE key='seq'").fetchone()
        seq = int(got[0]) + 1 if got else 1
        db.execute("INSERT OR REPLACE INTO meta VALUES ('seq', ?)", (str(seq),))
        if epoch:
            db.execute("INSERT OR REPLACE INTO meta VALUES ('epoch', ?)", (f"{seq}.{os.getpid()}",))
        return seq

    def pending(self, limit: int = 1000, after: int = 0) -> list[int]:
        with self._db(write=False) as db:
            return [
                r[0]
                for r in db.execute(
                    "SELECT pid FROM vectors WHERE vec IS NULL AND pid > ? ORDER BY pid LIMIT ?",
                    (after, limit),
                )
            ]

    def pending_newest(
        self, limit: int = 1000, before: tuple[int, int] = (1 << 62, 0)
    ) -> list[tuple[int, int]]:
        """``(pid, day)`` of papers waiting for a vector, newest day first, after the key
        ``before`` (day, pid): the contextual job serves the papers readers see first."""
        day, pid = before
        with self._db(write=False) as db:
            return db.execute(
                "SELECT pid, day FROM vectors WHERE vec IS NULL AND (day < ? OR (day = ? AND "
                "pid < ?)) ORDER BY day DESC, pid DESC LIMIT ?",
                (day, day, pid, limit),
            ).fetchall()

    def counts(self) -> tuple[int, int]:
        """(papers known, papers embedded)."""
        with self._db(write=False) as db:
            total, done = db.execute("SELECT count(*), count(vec) FROM vectors").fetchone()
        return total, done

    def vectors(self, pids: Iterable[int]) -> dict[int, np.ndarray]:
        """The stored (exact) vectors of these papers, read from the file."""
        pids = list(dict.fromkeys(int(p) for p in pids))
        with self._reader_lock:
            if self._reader is None or self._reader[0] != os.getpid():
                db = sqlite3.connect(self.path, timeout=60, check_same_thread=False)
                self._reader = (os.getpid(), db)
            return self._read(self._reader[1], pids)

    def _read(self, db, pids: list[int]) -> dict[int, np.ndarray]:
        out = {}
        sql = "SELECT pid, vec FROM vectors WHERE pid IN ({}) AND vec IS NOT NULL"
        for p, v in _rows_in(db, sql, pids):
            vec = np.frombuffer(v, dtype=np.float32)
            if len(vec) == self.dim:
                out[p] = vec
        return out

    def _matrix(self, db, pids: list[int]) -> np.ndarray:
        """The vectors of these papers (those that have one), as one matrix filled row by
        row: no array per vector and no second copy stacked from them (a training sample at
        2.9M papers is 136k vectors, 0.14 GB)."""
        out = np.empty((len(pids), self.dim), dtype=np.float32)
        k = 0
        sql = "SELECT pid, vec FROM vectors WHERE pid IN ({}) AND vec IS NOT NULL"
        for _, v in _rows_in(db, sql, pids):
            if len(v) == 4 * self.dim:
                out[k] = np.frombuffer(v, dtype=np.float32)
                k += 1
        return out[:k]

    def vector(self, pid: int) -> np.ndarray | None:
        return self.vectors([pid]).get(int(pid))

    def _decode(self, rows: list[tuple[int, bytes]]) -> tuple[np.ndarray, np.ndarray]:
        pids = np.fromiter((p for p, _ in rows), np.int64, len(rows))
        vecs = np.frombuffer(b"".join(v for _, v in rows), dtype=np.float32)
        return pids, vecs.reshape(len(rows), self.dim)


class _Tx:
    """A connection used as ``with``: one transaction, then closed."""

    def __init__(self, db: sqlite3.Connection, write: bool) -> None:
        self.db, self.write = db, write

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE" if self.write else "BEGIN")
        return self.db

    def __exit__(self, exc_type, *_):
        try:
            self.db.execute("ROLLBACK" if exc_type else "COMMIT")
        finally:
            self.db.close()
