"""The dense index: one vector per paper plus the filter fields, beside the lexical index.

On disk it is a small SQLite file (``vectors.sqlite``; the search index's own file, not the
store) holding, per paper, the filter fields and the vector (float32), or NULL while the paper
waits for the embedding job.  Every write bumps a sequence number (deletions also an epoch),
so a serving process reloads only what changed, at most ``reload_every`` seconds late.

In memory a tier holds the filter fields as numpy columns (organization and category set as
small integer codes, a row array indexed by store id: no Python object per paper) and its
vectors once, in the vector index (``ann.py``: exact and flat for small collections, an
8-bit inverted file from ``TRAIN_MIN`` papers on), persisted as ``dense.ann`` by the
embedding job.  Filters run inside the index scan.  A serving process loads the saved file
and applies the rows written after it; a newer file written by another process replaces its
own.  ``vector()`` reads a paper's exact vector from the SQLite file (docs/search.md has the
measurements).
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

from paperwire.search.ann import TRAIN_MIN, TRAIN_PER_LIST, AnnIndex, bitmap, nlist_for
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

CHUNK = 65_536  # rows read at a time when loading or building
OLD_GRAPHS = {"dense.ann": "dense.hnsw", "contextual.ann": "contextual.hnsw"}


def text_hash(doc: SearchDoc) -> str:
    return hashlib.blake2b(doc.embed_text.encode(), digest_size=12).hexdigest()


class DenseIndex:
    def __init__(
        self,
        path: Path,
        dim: int = 256,
        model: str = "",
        reload_every: float = 1.0,
        ann_name: str = "dense.ann",
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
        if ann_name in OLD_GRAPHS:  # the HNSW file of earlier versions (GBs at scale)
            self.path.with_name(OLD_GRAPHS[ann_name]).unlink(missing_ok=True)
        self._reset()
        self._seq = -1
        self._epoch = ""
        self._checked = 0.0
        self.ann_path = self.path.with_name(ann_name)
        self.ann: AnnIndex | None = None
        self._ann_stamp: tuple | None = None
        self._reader: tuple[int, sqlite3.Connection] | None = None
        self._reader_lock = threading.Lock()

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
        loaded = None
        if stamp is not None and stamp != self._ann_stamp:  # an index saved by another process
            loaded = AnnIndex.load(self.ann_path, self.dim, self.model)
            if loaded is None:  # unreadable or another model's: ignore this file
                self._ann_stamp = stamp
        with self._lock:
            if loaded is not None:
                self.ann, self._ann_stamp = loaded, stamp
            with self._db(write=False) as db:  # one snapshot for fields and vectors
                meta = dict(db.execute("SELECT key, value FROM meta WHERE key IN ('seq', 'epoch')"))
                seq, epoch = int(meta.get("seq", 0)), meta.get("epoch", "")
                same = seq == self._seq and epoch == self._epoch
                if same and loaded is None and (self.ann is not None or not self.has_vec.any()):
                    return
                full = epoch != self._epoch or self._seq < 0
                if full:
                    self._reset()
                    self._load_fields(db)
                    changed = None
                else:
                    rows = db.execute(
                        "SELECT pid, day, upvotes, org, cats, vec IS NOT NULL FROM vectors"
                        " WHERE seq > ?",
                        (self._seq,),
                    ).fetchall()
                    self._apply(rows)
                    changed = np.array([r[0] for r in rows], dtype=np.int64)
                self._sync_ann(db, seq, None if full or loaded is not None else changed)
            self._seq, self._epoch = seq, epoch

    def _file_stamp(self) -> tuple | None:
        try:
            st = os.stat(self.ann_path)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def _sync_ann(self, db, seq: int, changed: np.ndarray | None) -> None:
        """Bring the vector index to ``seq``: vectors written after it added, papers without
        a current vector removed (among ``changed``, or all when None).  Without an index
        (none saved yet, or dropped) one is built from every vector."""
        if self.ann is None:
            if self.has_vec.any():
                self.ann = self._build(db, self.pids[self.has_vec])
                self.ann.seq = seq
            return
        if seq != self.ann.seq:
            cur = db.execute(
                "SELECT pid, vec FROM vectors WHERE seq > ? AND vec IS NOT NULL", (self.ann.seq,)
            )
            while chunk := cur.fetchmany(CHUNK):
                self.ann.add(*self._decode(chunk))
        pids = np.flatnonzero(self.ann.live) if changed is None else changed
        self.ann.remove(pids[~self._has_vec_of(pids)])
        self.ann.seq = seq

    def _decode(self, rows: list[tuple[int, bytes]]) -> tuple[np.ndarray, np.ndarray]:
        pids = np.fromiter((p for p, _ in rows), np.int64, len(rows))
        vecs = np.frombuffer(b"".join(v for _, v in rows), dtype=np.float32)
        return pids, vecs.reshape(len(rows), self.dim)

    def _build(self, db, pids: np.ndarray) -> AnnIndex:
        """A vector index over every vector in the file: flat while small, else an inverted
        file trained on a random sample, filled chunk by chunk (memory: the sample and the
        index's codes, never all the float vectors)."""
        n = len(pids)
        if n < self.train_min:
            ann = AnnIndex.flat(self.dim, self.model)
        else:
            want = min(n, TRAIN_PER_LIST * nlist_for(n))
            pick = np.sort(np.random.default_rng(0).choice(pids, want, replace=False))
            got = self._read(db, pick.tolist())
            ann = AnnIndex.trained(np.stack(list(got.values())), n, self.dim, self.model)
        cur = db.execute("SELECT pid, vec FROM vectors WHERE vec IS NOT NULL")
        while chunk := cur.fetchmany(CHUNK):
            ann.add(*self._decode(chunk))
        return ann

    def update_ann(self, save: bool = True) -> AnnIndex | None:
        """Bring the vector index up to date, trained afresh when the collection outgrew it,
        and save it (``save=False``: only this process's index, for a writer that saves it
        later).  Training runs outside the lock, so searches go on meanwhile."""
        self.refresh(force=True)
        with self._lock:
            pids = self.pids[self.has_vec]
            retrain = self.ann is not None and self.ann.needs_training(len(pids))
        if retrain:
            with self._db(write=False) as db:
                seq = int(db.execute("SELECT value FROM meta WHERE key='seq'").fetchone()[0])
                fresh = self._build(db, pids)
                fresh.seq = seq
            with self._lock:
                self.ann = fresh
                with self._db(write=False) as db:  # what was written during the build
                    self._sync_ann(db, self._seq, None)
        with self._lock:
            if save and self.ann is not None:
                self.ann.save(self.ann_path)
                self._ann_stamp = self._file_stamp()
            return self.ann

    def drop_ann(self) -> None:
        """Forget the vector index (``index --rebuild``): the next refresh builds it anew."""
        with self._lock:
            self.ann, self._ann_stamp = None, None
            self.ann_path.unlink(missing_ok=True)

    train_min = TRAIN_MIN  # (tests lower it to exercise the inverted file on few papers)

    def _reset(self) -> None:
        self._row_of = np.full(0, -1, dtype=np.int64)  # store id -> row
        self.pids = np.zeros(0, dtype=np.int64)
        self.has_vec = np.zeros(0, dtype=bool)
        self.day = np.zeros(0, dtype=np.int32)
        self.upvotes = np.zeros(0, dtype=np.int32)
        self.org_code = np.zeros(0, dtype=np.int32)  # into self._orgs
        self.cat_code = np.zeros(0, dtype=np.int32)  # into self._catsets
        self._orgs: list[str | None] = [None]
        self._org_codes: dict[str | None, int] = {None: 0}
        self._catsets: list[frozenset[str]] = [frozenset()]
        self._cat_codes: dict[str | None, int] = {None: 0, "[]": 0}

    def _org(self, org: str | None) -> int:
        code = self._org_codes.get(org)
        if code is None:
            code = self._org_codes[org] = len(self._orgs)
            self._orgs.append(org)
        return code

    def _cats(self, cats: str | None) -> int:
        code = self._cat_codes.get(cats)
        if code is None:
            code = self._cat_codes[cats] = len(self._catsets)
            self._catsets.append(frozenset(json.loads(cats)))
        return code

    def _load_fields(self, db) -> None:
        """Every row's filter fields, straight into the columns, chunk by chunk."""
        total, top = db.execute("SELECT count(*), coalesce(max(pid), 0) FROM vectors").fetchone()
        self._grow(total)
        self._row_of = np.full(top + 1, -1, dtype=np.int64)
        at = 0
        cur = db.execute("SELECT pid, day, upvotes, org, cats, vec IS NOT NULL FROM vectors")
        while chunk := cur.fetchmany(CHUNK):
            self._fill(at, chunk)
            at += len(chunk)
        self._truncate(at)  # (rows written meanwhile are not in this snapshot's count)

    def _grow(self, k: int) -> None:
        def more(a: np.ndarray) -> np.ndarray:
            return np.concatenate([a, np.zeros(k, dtype=a.dtype)])

        self.pids, self.has_vec, self.day = more(self.pids), more(self.has_vec), more(self.day)
        self.upvotes, self.org_code = more(self.upvotes), more(self.org_code)
        self.cat_code = more(self.cat_code)

    def _truncate(self, n: int) -> None:
        for name in ("pids", "has_vec", "day", "upvotes", "org_code", "cat_code"):
            setattr(self, name, getattr(self, name)[:n])

    def _fill(self, at: int, rows: list[tuple]) -> None:
        k = len(rows)
        sl = slice(at, at + k)
        pids = np.fromiter((r[0] for r in rows), np.int64, k)
        self.pids[sl] = pids
        self.day[sl] = np.fromiter((r[1] or 0 for r in rows), np.int32, k)
        self.upvotes[sl] = np.fromiter((r[2] or 0 for r in rows), np.int32, k)
        self.org_code[sl] = np.fromiter((self._org(r[3]) for r in rows), np.int32, k)
        self.cat_code[sl] = np.fromiter((self._cats(r[4]) for r in rows), np.int32, k)
        self.has_vec[sl] = np.fromiter((bool(r[5]) for r in rows), bool, k)
        top = int(pids.max()) + 1
        if top > len(self._row_of):
            grown = np.full(max(top, 2 * len(self._row_of)), -1, dtype=np.int64)
            grown[: len(self._row_of)] = self._row_of
            self._row_of = grown
        self._row_of[pids] = np.arange(at, at + k)

    def _apply(self, rows: list[tuple]) -> None:
        """Changed rows ``(pid, day, upvotes, org, cats, has vector)``: new ones appended."""
        if not rows:
            return
        new = [r for r in dict((r[0], r) for r in rows).values()]
        known = self._rows_of(np.array([r[0] for r in new], dtype=np.int64))
        old = [(i, r) for i, r in zip(known, new, strict=True) if i >= 0]
        fresh = [r for i, r in zip(known, new, strict=True) if i < 0]
        for i, r in old:
            self._fill_one(int(i), r)
        if fresh:
            at = len(self.pids)
            self._grow(len(fresh))
            self._fill(at, fresh)

    def _fill_one(self, i: int, r: tuple) -> None:
        self.day[i], self.upvotes[i] = r[1] or 0, r[2] or 0
        self.org_code[i], self.cat_code[i] = self._org(r[3]), self._cats(r[4])
        self.has_vec[i] = bool(r[5])

    def _rows_of(self, pids: np.ndarray) -> np.ndarray:
        """Rows of these store ids (-1 where unknown)."""
        out = np.full(len(pids), -1, dtype=np.int64)
        inside = (pids >= 0) & (pids < len(self._row_of))
        out[inside] = self._row_of[pids[inside]]
        return out

    def _has_vec_of(self, pids: np.ndarray) -> np.ndarray:
        rows = self._rows_of(pids)
        out = rows >= 0
        out[out] = self.has_vec[rows[out]]
        return out

    def embedded(self) -> int:
        """How many papers have a vector (as of the last refresh, at most a second old)."""
        self.refresh()
        return int(self.has_vec.sum())

    def meta(self, pids: list[int]) -> dict[int, tuple[int, int]]:
        """``store id -> (day ordinal, upvotes)`` for sorting a candidate pool."""
        self.refresh()
        with self._lock:
            arr = np.asarray(pids, dtype=np.int64)
            rows = self._rows_of(arr)
            return {
                int(p): (int(self.day[i]), int(self.upvotes[i]))
                for p, i in zip(arr, rows, strict=True)
                if i >= 0
            }

    def categories(self) -> dict[str, int]:
        """Papers per category (for benchmarks that pick realistic filters)."""
        self.refresh()
        out: dict[str, int] = {}
        counts = np.bincount(self.cat_code, minlength=len(self._catsets))
        for cats, n in zip(self._catsets, counts, strict=True):
            for c in cats:
                out[c] = out.get(c, 0) + int(n)
        return out

    def categories_of(self, pid: int) -> frozenset[str]:
        i = self._rows_of(np.array([pid], dtype=np.int64))[0]
        return self._catsets[self.cat_code[i]] if i >= 0 else frozenset()

    def similarities(self, pids: list[int], qvec: np.ndarray) -> dict[int, float]:
        """Cosine of the query with each paper that has a vector, from the vector index
        (exact while it is flat; decoded from 8 bits, within about 1e-3, when trained)."""
        self.refresh()
        with self._lock:
            if self.ann is None or not pids:
                return {}
            arr = np.unique(np.asarray(pids, dtype=np.int64))
            arr = arr[self.ann._is_live(arr)]
            if not len(arr):
                return {}
            sims = self.ann.reconstruct(arr) @ np.asarray(qvec, dtype=np.float32)
        return {int(p): float(x) for p, x in zip(arr, sims, strict=True)}

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
        for i in range(0, len(pids), 900):
            chunk = pids[i : i + 900]
            marks = ",".join("?" * len(chunk))
            for p, v in db.execute(
                f"SELECT pid, vec FROM vectors WHERE pid IN ({marks}) AND vec IS NOT NULL", chunk
            ):
                vec = np.frombuffer(v, dtype=np.float32)
                if len(vec) == self.dim:
                    out[p] = vec
        return out

    def vector(self, pid: int) -> np.ndarray | None:
        return self.vectors([pid]).get(int(pid))

    def sample(self, n: int, exclude: set[int], seed: int) -> np.ndarray | None:
        """Up to ``n`` embedded papers' vectors (not ``exclude``), the same for the same
        seed while the index does not change."""
        self.refresh()
        with self._lock:
            pids = self.pids[self.has_vec]
        if exclude:
            pids = pids[~np.isin(pids, np.fromiter(exclude, np.int64, len(exclude)))]
        if not len(pids):
            return None
        pick = np.sort(np.random.default_rng(seed).choice(pids, min(n, len(pids)), replace=False))
        got = self.vectors(pick.tolist())
        return np.stack([got[p] for p in pick.tolist() if p in got]) if got else None

    def mask(self, f: Filters) -> np.ndarray:
        m = self.has_vec.copy()
        if f.start:
            m &= self.day >= f.start.toordinal()
        if f.end:
            m &= self.day <= f.end.toordinal()
        if f.min_upvotes > 0:
            m &= self.upvotes >= f.min_upvotes
        if f.organization:
            code = self._org_codes.get(f.organization)
            m &= self.org_code == code if code is not None else False
        if f.category:
            has = np.fromiter((f.category in c for c in self._catsets), bool, len(self._catsets))
            m &= has[self.cat_code]
        return m

    def search(
        self, qvec: np.ndarray, filters: Filters = Filters(), limit: int = 100, exclude=()
    ) -> list[tuple[int, float]]:
        """``(store id, cosine)`` best first (ties by id); filters apply inside retrieval."""
        self.refresh()
        with self._lock:
            ann = self.ann
            if ann is None or limit <= 0:
                return []
            m = self.mask(filters)
            if exclude:
                rows = self._rows_of(np.asarray(list(exclude), dtype=np.int64))
                m[rows[rows >= 0]] = False
            allowed = int(m.sum())
            if not allowed:
                return []
            sel = bitmap(self.pids[m]) if filters.active or exclude or not m.all() else None
            want = min(limit, allowed)
            share = allowed / max(ann.size, 1)
            ids, scores = ann.search(qvec, want, sel, share)
            if len(ids) < want and ann.kind == "ivf":  # too few in the lists read: read all
                ids, scores = ann.search(qvec, want, sel, 0.0)
            out = [(int(p), float(s)) for p, s in zip(ids, scores, strict=True)]
        out.sort(key=lambda t: (-t[1], t[0]))
        return out


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
