"""The dense index: one unit vector per paper plus the filter fields, beside the lexical index.

On disk it is a small SQLite file (``vectors.sqlite``; the search index's own file, not the
store) holding, per paper, the filter fields and the vector, or NULL while the paper waits for
the embedding job.  Every write bumps a sequence number (deletions also an epoch), so a
serving process reloads only what changed, at most ``reload_every`` seconds late.

In memory the vectors are one float32 matrix.  Beside it sits an HNSW graph (``ann.py``,
persisted as ``dense.hnsw`` by the embedding job): searches whose filters allow at least
``exact_below`` papers walk the graph with the filter as an id selector; more selective ones
(and every search while no graph file exists) take the exact masked matrix-vector product over
the allowed papers, which is both exact and fast there.  Vectors that arrive after the graph
was saved are added to the in-memory graph on the next refresh; a newer graph file written
by another process replaces it (docs/search.md has the measurements).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import numpy as np

from paperwire.search.ann import AnnGraph, bitmap
from paperwire.search.lexical import Filters
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


EXACT_BELOW = 20_000  # filters allowing fewer papers than this are searched exactly
EXACT_SHARE = 0.25  # ... or fewer than this share of all vectors (the graph's beam grows as
# size / allowed; measured at 178k: graph 15 ms p50 at 21% allowed, exact scan 16 ms for all)
MAX_EF = 4096


def text_hash(doc: SearchDoc) -> str:
    return hashlib.blake2b(doc.embed_text.encode(), digest_size=12).hexdigest()


class DenseIndex:
    def __init__(
        self,
        path: Path,
        dim: int = 256,
        model: str = "",
        reload_every: float = 1.0,
        ann_name: str = "dense.hnsw",
    ):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.dim, self.model, self.reload_every = dim, model, reload_every
        self._lock = threading.RLock()
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
        # in memory
        self._row: dict[int, int] = {}
        self.pids = np.zeros(0, dtype=np.int64)
        self.vecs = np.zeros((0, dim), dtype=np.float32)
        self.has_vec = np.zeros(0, dtype=bool)
        self.day = np.zeros(0, dtype=np.int32)
        self.upvotes = np.zeros(0, dtype=np.int32)
        self.org = np.zeros(0, dtype=object)
        self.cats: list[frozenset[str]] = []
        self._seq = -1
        self._epoch = ""
        self._checked = 0.0
        self.exact_below, self.exact_share = EXACT_BELOW, EXACT_SHARE
        self.ann_path = self.path.with_name(ann_name)
        self.ann: AnnGraph | None = None
        self._ann_stamp: tuple | None = None

    def _db(self, write: bool = True) -> _Tx:
        db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        db.execute("PRAGMA synchronous=NORMAL")
        return _Tx(db, write)

    # -- writing --------------------------------------------------------------------
    def upsert(self, docs: Iterable[SearchDoc]) -> int:
        """Record filter fields; a paper whose text changed waits for embedding again."""
        docs = list(docs)
        if not docs:
            return 0
        with self._db() as db:
            seq = self._next_seq(db)
            old = {}
            ids = [d.id for d in docs]
            for i in range(0, len(ids), 900):
                chunk = ids[i : i + 900]
                marks = ",".join("?" * len(chunk))
                old.update(
                    db.execute(
                        f"SELECT pid, text_hash FROM vectors WHERE pid IN ({marks})", chunk
                    ).fetchall()
                )
            rows = []
            for d in docs:
                h = text_hash(d)
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
        self, pids: list[int], vecs: np.ndarray, hashes: list[str] | None = None
    ) -> None:
        """Store vectors; with ``hashes`` only where the paper's text hash is still that one
        (a vector computed elsewhere while the text changed again is dropped)."""
        vecs = np.asarray(vecs, dtype=np.float32)
        with self._db() as db:
            seq = self._next_seq(db)
            if hashes is None:
                db.executemany(
                    "UPDATE vectors SET vec=?, seq=? WHERE pid=?",
                    [(v.tobytes(), seq, p) for p, v in zip(pids, vecs, strict=True)],
                )
            else:
                db.executemany(
                    "UPDATE vectors SET vec=?, seq=? WHERE pid=? AND text_hash=?",
                    [(v.tobytes(), seq, p, h) for p, v, h in zip(pids, vecs, hashes, strict=True)],
                )

    def delete(self, pids: Iterable[int]) -> None:
        with self._db() as db:
            db.executemany("DELETE FROM vectors WHERE pid=?", [(p,) for p in pids])
            self._next_seq(db, epoch=True)
        self._seq = -1  # deletions are rare: reload everything next time

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
        self._seq = -1

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

    # -- reading --------------------------------------------------------------------
    def refresh(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._checked < self.reload_every:
            return
        self._checked = now
        stamp = self._file_stamp()
        graph = None
        if stamp is not None and stamp != self._ann_stamp:  # a graph saved by another process
            graph = AnnGraph.load(self.ann_path, self.dim, self.model)
            if graph is None:  # unreadable or another model's: ignore this file
                self._ann_stamp = stamp
        with self._lock:
            if graph is not None:
                self.ann, self._ann_stamp = graph, stamp
            with self._db(write=False) as db:
                meta = dict(db.execute("SELECT key, value FROM meta WHERE key IN ('seq', 'epoch')"))
                seq, epoch = int(meta.get("seq", 0)), meta.get("epoch", "")
                if seq == self._seq and epoch == self._epoch and graph is None:
                    return
                if epoch != self._epoch:
                    self._seq = -1
                full = self._seq < 0
                if full:
                    self._reset()
                    self._load_all(db)
                    rows = []
                else:
                    rows = db.execute(
                        "SELECT pid, day, upvotes, org, cats, vec FROM vectors WHERE seq > ?",
                        (self._seq,),
                    ).fetchall()
            self._apply(rows)
            if self.ann is not None:
                if graph is not None or full:
                    self._reconcile()
                else:
                    self._sync_rows([r[0] for r in rows])
            self._seq, self._epoch = seq, epoch

    def _file_stamp(self) -> tuple | None:
        try:
            st = os.stat(self.ann_path)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def _sync_rows(self, pids: list[int]) -> None:
        """Changed rows into the graph: new vectors added, pending or deleted ones dropped."""
        rows = np.array([self._row[p] for p in pids if p in self._row], dtype=np.int64)
        if not len(rows):
            return
        has = self.has_vec[rows]
        self.ann.drop(self.pids[rows[~has]])
        self.ann.sync(self.pids[rows[has]], self.vecs[rows[has]])

    def _reconcile(self) -> None:
        """Make the graph's live set match every vector in memory."""
        rows = np.flatnonzero(self.has_vec)
        self.ann.drop(self.ann.live - set(self.pids[rows].tolist()))
        self.ann.sync(self.pids[rows], self.vecs[rows])

    def update_ann(self, save: bool = True) -> AnnGraph:
        """Bring the graph up to date (built afresh when missing or too stale) and save it
        (``save=False``: only this process's graph, for a writer that saves it later).

        The build runs outside the lock, so searches go on (exactly) meanwhile."""
        self.refresh(force=True)
        with self._lock:
            graph = self.ann
            if graph is None or graph.needs_rebuild():
                rows = np.flatnonzero(self.has_vec)
                pids, vecs = self.pids[rows], self.vecs[rows]  # copies
        if graph is None or graph.needs_rebuild():
            graph = AnnGraph.build(pids, vecs, self.dim, self.model)
        with self._lock:
            self.ann = graph
            self._reconcile()  # vectors that arrived during the build
            graph.seq = self._seq
            if save:
                graph.save(self.ann_path)
                self._ann_stamp = self._file_stamp()
        return graph

    def drop_ann(self) -> None:
        """Forget the graph (``index --rebuild``): searches are exact until the next build."""
        with self._lock:
            self.ann, self._ann_stamp = None, None
            self.ann_path.unlink(missing_ok=True)

    def _reset(self) -> None:
        self._row = {}
        self.pids = np.zeros(0, dtype=np.int64)
        self.vecs = np.zeros((0, self.dim), dtype=np.float32)
        self.has_vec = np.zeros(0, dtype=bool)
        self.day = np.zeros(0, dtype=np.int32)
        self.upvotes = np.zeros(0, dtype=np.int32)
        self.org = np.zeros(0, dtype=object)
        self.cats = []

    def _load_all(self, db) -> None:
        """Every row: the filter fields first, then the vectors streamed into the matrix in
        chunks (fetching all the blobs at once held a second copy of the vectors)."""
        self._apply(db.execute("SELECT pid, day, upvotes, org, cats, NULL FROM vectors").fetchall())
        cur = db.execute("SELECT pid, vec FROM vectors WHERE vec IS NOT NULL")
        while chunk := cur.fetchmany(8192):
            rows = np.fromiter((self._row[p] for p, _ in chunk), np.int64, len(chunk))
            blob = b"".join(v for _, v in chunk)
            self.vecs[rows] = np.frombuffer(blob, dtype=np.float32).reshape(len(rows), self.dim)
            self.has_vec[rows] = True

    def _apply(self, rows: list[tuple]) -> None:
        new = [r for r in rows if r[0] not in self._row]
        if new:
            n0, k = len(self.pids), len(new)
            self.pids = np.concatenate([self.pids, np.array([r[0] for r in new], dtype=np.int64)])
            self.vecs = np.concatenate([self.vecs, np.zeros((k, self.dim), dtype=np.float32)])
            self.has_vec = np.concatenate([self.has_vec, np.zeros(k, dtype=bool)])
            self.day = np.concatenate([self.day, np.zeros(k, dtype=np.int32)])
            self.upvotes = np.concatenate([self.upvotes, np.zeros(k, dtype=np.int32)])
            self.org = np.concatenate([self.org, np.empty(k, dtype=object)])
            self.cats.extend([frozenset()] * k)
            for i, r in enumerate(new):
                self._row[r[0]] = n0 + i
        for pid, day, upvotes, org, cats, vec in rows:
            i = self._row[pid]
            self.day[i], self.upvotes[i], self.org[i] = day or 0, upvotes or 0, org
            self.cats[i] = frozenset(json.loads(cats or "[]"))
            if vec is not None:
                self.vecs[i] = np.frombuffer(vec, dtype=np.float32)
                self.has_vec[i] = True
            else:
                self.has_vec[i] = False

    def embedded(self) -> int:
        """How many papers have a vector (as of the last refresh, at most a second old)."""
        self.refresh()
        return int(self.has_vec.sum())

    def meta(self, pids: list[int]) -> dict[int, tuple[int, int]]:
        """``store id -> (day ordinal, upvotes)`` for sorting a candidate pool."""
        self.refresh()
        out = {}
        for p in pids:
            i = self._row.get(p)
            if i is not None:
                out[p] = (int(self.day[i]), int(self.upvotes[i]))
        return out

    def similarities(self, pids: list[int], qvec: np.ndarray) -> dict[int, float]:
        """Exact cosine of the query with each paper that has a vector."""
        self.refresh()
        with self._lock:
            rows = [(p, self._row[p]) for p in pids if p in self._row]
            rows = [(p, i) for p, i in rows if self.has_vec[i]]
            if not rows:
                return {}
            sims = self.vecs[[i for _, i in rows]] @ np.asarray(qvec, dtype=np.float32)
        return {p: float(x) for (p, _), x in zip(rows, sims, strict=True)}

    def vector(self, pid: int) -> np.ndarray | None:
        self.refresh()
        i = self._row.get(pid)
        if i is None or not self.has_vec[i]:
            return None
        return self.vecs[i]

    def mask(self, f: Filters) -> np.ndarray:
        m = self.has_vec.copy()
        if f.start:
            m &= self.day >= f.start.toordinal()
        if f.end:
            m &= self.day <= f.end.toordinal()
        if f.min_upvotes > 0:
            m &= self.upvotes >= f.min_upvotes
        if f.organization:
            m &= self.org == f.organization
        if f.category:
            m &= np.fromiter((f.category in c for c in self.cats), bool, len(self.cats))
        return m

    def search(
        self, qvec: np.ndarray, filters: Filters = Filters(), limit: int = 100, exclude=()
    ) -> list[tuple[int, float]]:
        """``(store id, cosine)`` best first (ties by id); filters apply inside retrieval."""
        self.refresh()
        with self._lock:
            m = self.mask(filters)
            for pid in exclude:
                if pid in self._row:
                    m[self._row[pid]] = False
            allowed = int(m.sum())
            floor = max(self.exact_below, self.exact_share * len(m), limit + 1)
            if self.ann is not None and allowed >= floor:
                got = self._search_ann(qvec, m, allowed, filters.active or bool(exclude), limit)
                if got is not None:
                    return got
            rows = np.flatnonzero(m) if filters.active or exclude or not m.all() else None
            vecs = self.vecs if rows is None else self.vecs[rows]
            if not len(vecs):
                return []
            scores = vecs @ np.asarray(qvec, dtype=np.float32)
            k = min(limit, len(scores))
            top = np.argpartition(-scores, k - 1)[:k]
            pids = self.pids[top if rows is None else rows[top]]
            out = [(int(p), float(scores[t])) for p, t in zip(pids, top, strict=True)]
        out.sort(key=lambda t: (-t[1], t[0]))
        return out

    def _search_ann(self, qvec, m, allowed: int, restricted: bool, limit: int):
        """HNSW search, filters as an id selector, hits rescored with the current vectors.

        A selective filter needs a wider beam to collect ``limit`` allowed hits, so efSearch
        grows with ``size / allowed``; if too few survive it is widened, then None (exact)."""
        q = np.asarray(qvec, dtype=np.float32)
        g = self.ann
        sel = bitmap(self.pids[m]) if restricted or g.stale else None
        want = min(limit, allowed)
        ef = max(2 * limit, int(1.5 * limit * g.size / allowed))
        while ef <= MAX_EF:
            hits = np.unique(g.search(q, limit, sel, ef))
            rows = np.array([self._row.get(int(p), -1) for p in hits], dtype=np.int64)
            rows = rows[rows >= 0]
            rows = rows[m[rows]]
            if len(rows) >= want:
                scores = self.vecs[rows] @ q
                out = [(int(p), float(s)) for p, s in zip(self.pids[rows], scores, strict=True)]
                out.sort(key=lambda t: (-t[1], t[0]))
                return out[:limit]
            ef *= 4
        return None


def day_of(ordinal: int) -> date | None:
    return date.fromordinal(ordinal) if ordinal > 0 else None


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
