"""The dense index: one vector per paper plus the filter fields, beside the lexical index.

On disk it is ``vectors.sqlite`` (``vector_table.py``); a serving process reloads only the
rows whose sequence number moved, at most ``reload_every`` seconds late.

In memory a tier holds the filter fields as numpy columns (organization and category set as
small integer codes, a row array indexed by store id: no Python object per paper) and its
vectors once, in the vector index (``ann.py``: exact and flat for small collections, an
8-bit inverted file from ``TRAIN_MIN`` papers on), persisted as ``dense.ann`` by the
embedding job.  Filters run inside the index scan.  A serving process loads the saved file
and applies the rows written after it; a newer file written by another process replaces its
own.  ``vector()`` reads a paper's exact vector from the SQLite file (docs/search.md has the
measurements); the filter fields are ``columns.py``.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from paperwire.core.heap import release_free_heap
from paperwire.search.ann import (
    TRAIN_MIN,
    TRAIN_PER_LIST,
    AnnIndex,
    id_mask,
    nlist_for,
    temp_path,
)
from paperwire.search.columns import CHUNK, Columns
from paperwire.search.lexical import Filters
from paperwire.search.vector_table import VectorTable, text_hash

__all__ = ["DenseIndex", "text_hash"]

OLD_GRAPHS = {"dense.ann": "dense.hnsw", "contextual.ann": "contextual.hnsw"}
# Queries of a batch searched under one hold of the lock (search_many): a page's search in
# another thread waits for one slice at most.  At 2.9M papers a slice of 128 holds it about
# 0.1 s of one core, at 0.79 ms a query (64: 0.93 ms; one hold for 1,000: 0.62 ms, 0.6 s).
LOCK_SLICE = 128
# When a paper appeared says little about where its vector lies, so a day range does not
# widen the inverted file's reads as a category does: the nearest papers of a range lie in
# the lists nearest the query, as do an unfiltered query's, while the range holds at least
# RANGE_FREE of the papers; a narrower range reads more lists in proportion.  At 2.9M (200
# title queries, recall@10 against the exact filtered top 10): 2020-2024 (29% of the papers)
# 0.960 reading 426 lists against 0.981 reading 1,462 (5.2 against 12.5 ms); one month (0.5%)
# 0.955 with 426 lists; one week (0.12%) 0.923 with 426, so it reads more.  A category
# clusters by meaning: cs.CL (17%) kept 0.822 with 426 lists, so other filters widen by
# their whole share (docs/search.md, "Filters inside retrieval").
RANGE_FREE = 0.005
# Vectors read at a time to build the vector index (16 MB of a 256-d tier): a chunk's
# matrix and faiss's residuals of it are held while it is added (0.14 GB with its rows at
# 65,536 a chunk; the import's peak is the build's, docs/benchmarks.md)
BUILD_CHUNK = 16_384
SHRINK_TIMEOUT = 3600.0  # seconds for ann_shrink.py (at most about 2 minutes at 2.9M)
SHRINK_RETRY = 3600.0  # seconds before trying again after it failed
log = logging.getLogger("paperwire.search")


class DenseIndex(VectorTable):
    def __init__(
        self,
        path: Path,
        dim: int = 256,
        model: str = "",
        reload_every: float = 1.0,
        ann_name: str = "dense.ann",
    ):
        super().__init__(path, dim, model)
        self.reload_every = reload_every
        self._lock = threading.RLock()
        if ann_name in OLD_GRAPHS:  # the HNSW file of earlier versions (GBs at scale)
            self.path.with_name(OLD_GRAPHS[ann_name]).unlink(missing_ok=True)
        self.cols = Columns()
        self._seq = -1
        self._epoch = ""
        self._checked = 0.0
        self.ann_path = self.path.with_name(ann_name)
        self.ann: AnnIndex | None = None
        self._ann_stamp: tuple | None = None
        # A tier whose vectors judge a paper wherever it has one (the static tier's is the
        # contextual tier): the papers it holds are left out of this tier's vector index,
        # which then holds only the papers without such a vector.  See ``covered_ids``.
        self.covered: DenseIndex | None = None
        self._covered_version: tuple | None = None
        self._cover_ids: np.ndarray | None = None  # its papers, by store id, last we looked
        self.last_shrink: dict | None = None  # the last retraining by ann_shrink.py
        self._shrink_failed: float | None = None  # when it last failed (monotonic)

    def delete(self, pids: Iterable[int]) -> None:
        super().delete(pids)
        self._seq = -1  # deletions are rare: reload everything next time

    def clear(self) -> None:
        super().clear()
        self._seq = -1

    def refresh(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._checked < self.reload_every:
            return
        self._checked = now
        covered, cover_version = self.covered, None
        if covered is not None:  # first, so that what it holds is searchable there
            covered.refresh(force)
            cover_version = covered.version
        stamp = self._file_stamp()
        loaded = None
        if stamp is not None and stamp != self._ann_stamp:  # an index saved by another process
            head = AnnIndex.header(self.ann_path, self.dim, self.model)
            if head is None or (self.ann is not None and head["trained_on"] == self.ann.trained_on):
                # unreadable or another model's: ignored; trained as ours: this process
                # applies the same rows itself, without holding a second copy to load it
                self._ann_stamp = stamp
            else:
                if self.ann is not None and head["trained_on"] < self.ann.trained_on:
                    # trained afresh for fewer papers (most now judged in the covering
                    # tier): ours is let go first, or the process would hold both a while
                    with self._lock:
                        self.ann = None
                loaded = AnnIndex.load(self.ann_path, self.dim, self.model)
                if loaded is None:  # (truncated or unreadable: not read again every second)
                    self._ann_stamp = stamp
        with self._lock:
            if loaded is not None:
                self.ann, self._ann_stamp = loaded, stamp
            with self._db(write=False) as db:  # one snapshot for fields and vectors
                meta = dict(db.execute("SELECT key, value FROM meta WHERE key IN ('seq', 'epoch')"))
                seq, epoch = int(meta.get("seq", 0)), meta.get("epoch", "")
                same = seq == self._seq and epoch == self._epoch
                same = same and cover_version == self._covered_version
                if same and loaded is None and (self.ann is not None or not self.has_vec.any()):
                    return
                full = epoch != self._epoch or self._seq < 0
                if full:
                    self.cols = Columns()
                    self.cols.load(db)
                    changed = None
                else:
                    rows = db.execute(
                        "SELECT pid, day, upvotes, org, cats, vec IS NOT NULL FROM vectors"
                        " WHERE seq > ?",
                        (self._seq,),
                    ).fetchall()
                    self.cols.apply(rows)
                    changed = np.array([r[0] for r in rows], dtype=np.int64)
                flipped = self._cover(covered, cover_version, changed)
                if changed is not None and len(flipped):
                    changed = np.union1d(changed, flipped)
                self._sync_ann(db, seq, None if full or loaded is not None else changed)
            self._seq, self._epoch = seq, epoch
            self._covered_version = cover_version

    def _cover(self, covered: DenseIndex | None, version, changed: np.ndarray | None):
        """Mark the rows the covering tier holds (``Columns.cover``); the store ids whose
        mark changed.  Every row when that tier changed (or after a full load), else only
        this tier's changed rows; with no covering tier (any more), none."""
        if covered is not None:
            if version != self._covered_version or self._cover_ids is None:
                self._cover_ids, changed = covered.covered_ids(), None
            return self.cols.cover(self._cover_ids, changed)
        if self._cover_ids is not None:  # the covering tier was let go: every paper back
            self._cover_ids = None
            return self.cols.cover(None)
        return np.zeros(0, dtype=np.int64)

    @property
    def version(self) -> tuple:
        """What this tier's rows were as of the last refresh (changes when any row does)."""
        return (self._seq, self._epoch)

    def covered_ids(self) -> np.ndarray:
        """Booleans by store id: the papers with a vector in this tier, as its vector index
        holds them after the last refresh."""
        with self._lock:
            return self.cols.by_id(self.cols.has_vec)

    def _file_stamp(self) -> tuple | None:
        try:
            st = os.stat(self.ann_path)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def _sync_ann(self, db, seq: int, changed: np.ndarray | None) -> None:
        """Bring the vector index to ``seq`` and to the rows' membership (a vector, not
        covered): vectors written after it added, papers no longer members removed and
        papers that became members again (their covering vector gone) read back, among
        ``changed`` or all papers when None.  Without an index (none saved yet, or dropped)
        one is built from every member's vector."""
        if self.ann is None:
            if self.has_vec.any():  # (empty when another tier covers every paper)
                self.ann = self._build(db, self.pids[self.cols.members()])
                self.ann.seq = seq
            return
        if seq != self.ann.seq:
            cur = db.execute(
                "SELECT pid, vec FROM vectors WHERE seq > ? AND vec IS NOT NULL", (self.ann.seq,)
            )
            while chunk := cur.fetchmany(CHUNK):
                pids, vecs = self._decode(chunk)
                keep = self.cols.member_of(pids)
                self.ann.add(pids[keep], vecs[keep])
        if changed is None:
            live = np.flatnonzero(self.ann.live)
            self.ann.remove(live[~self.cols.member_of(live)])
            members = self.pids[self.cols.members()]
            back = members[~self.ann.holds(members)]
        else:
            inside = self.cols.member_of(changed)
            self.ann.remove(changed[~inside])
            back = changed[inside & ~self.ann.holds(changed)]
        for at in range(0, len(back), CHUNK):
            got = self._read(db, back[at : at + CHUNK].tolist())
            if got:
                self.ann.add(np.fromiter(got, np.int64, len(got)), np.stack(list(got.values())))
        self.ann.seq = seq

    def _build(self, db, pids: np.ndarray) -> AnnIndex:
        """A vector index over every vector in the file (``db``: one read transaction, so
        both passes below see the same rows): flat while small, else an inverted file
        trained on a random sample, then filled chunk by chunk (memory: the sample and the
        index's codes, never all the float vectors).  The inverted file's lists are sized
        first: a pass assigns every vector to its list, the lists get exactly the room they
        need, and a second pass adds the vectors with those assignments."""
        n = len(pids)
        member = id_mask(pids)  # (both passes below keep the same papers, whatever changes)
        if n < self.train_min:
            ann = AnnIndex.flat(self.dim, self.model)
            for chunk_pids, vecs in self._chunks(db, member):
                ann.add(chunk_pids, vecs)
            return ann
        want = min(n, TRAIN_PER_LIST * nlist_for(n))
        pick = np.sort(np.random.default_rng(0).choice(pids, want, replace=False))
        ann = AnnIndex.trained(self._matrix(db, pick.tolist()), n, self.dim, self.model)
        lists = [ann.assign(vecs) for _, vecs in self._chunks(db, member)]
        ann.reserve(np.bincount(np.concatenate(lists), minlength=ann.index.nlist))
        for (chunk_pids, vecs), assigned in zip(self._chunks(db, member), lists, strict=True):
            ann.add(chunk_pids, vecs, lists=assigned)
            release_free_heap()  # the holes the fast-scan lists' growth left (core/heap.py)
        return ann

    def _chunks(self, db, member: np.ndarray):
        """The vectors of the papers set in ``member`` (booleans by store id), in store id
        order, ``BUILD_CHUNK`` at a time: ``(pids, vectors)``.  Each row is copied into the
        chunk's matrix as it is read, so no chunk's worth of row objects is ever held (they
        fragmented the heap around the index growing beside them: 0.17 GB at 2.9M)."""
        cur = db.execute("SELECT pid, vec FROM vectors WHERE vec IS NOT NULL ORDER BY pid")
        width = 4 * self.dim
        while True:
            pids = np.empty(BUILD_CHUNK, dtype=np.int64)
            vecs = np.empty((BUILD_CHUNK, self.dim), dtype=np.float32)
            k = 0
            for pid, blob in cur:
                if len(blob) == width and pid < len(member) and member[pid]:
                    pids[k] = pid
                    vecs[k] = np.frombuffer(blob, dtype=np.float32)
                    k += 1
                    if k == BUILD_CHUNK:
                        break
            if k:
                yield pids[:k], vecs[:k]
            if k < BUILD_CHUNK:
                return

    def update_ann(self, save: bool = True) -> AnnIndex | None:
        """Bring the vector index up to date, trained afresh when the collection outgrew it,
        and save it (``save=False``: only this process's index, for a writer that saves it
        later).  Training runs outside the lock, so searches go on meanwhile."""
        self.refresh(force=True)
        with self._lock:
            pids = self.pids[self.cols.members()]
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

    def update_ann_if_shrunk(self) -> bool:
        """Have the vector index trained afresh when it holds under ``RETRAIN_SHRINK`` of
        the papers it was trained for, as the covering tier takes them over (the embedding
        job calls this after each contextual batch), then load it; True when it was.  The
        training runs in a process of its own (``ann_shrink.py``), so this one never holds
        the old index and the new one at once."""
        self.refresh(force=True)
        with self._lock:
            ann, n = self.ann, int(np.count_nonzero(self.cols.members()))
        if ann is None or not ann.oversized(n):
            return False
        took = time.monotonic()
        if self._shrink_failed is not None and took - self._shrink_failed < SHRINK_RETRY:
            return False  # (it failed lately: not again after every batch)
        cover = self.covered.path if self.covered is not None else ""
        cmd = [sys.executable, "-m", "paperwire.search.ann_shrink", str(self.path)]
        cmd += [str(self.dim), self.model, self.ann_path.name, str(self.train_min), str(cover)]
        out, why = self._run_shrink(cmd)
        if why:
            self._shrink_failed = time.monotonic()
            log.warning("the %s vector index was not trained afresh: %s", self.model, why)
            return False
        self._shrink_failed = None
        papers, peak = (int(x) for x in out.split()[-2:])
        self.last_shrink = {"papers": papers, "peak_mb": peak, "s": time.monotonic() - took}
        log.info(
            "the %s vector index was trained afresh for %d papers (it was for %d) in %.0f s,"
            " by a process that peaked at %d MB",
            self.model, papers, ann.trained_on, self.last_shrink["s"], peak,
        )  # fmt: skip
        self.refresh(force=True)  # lets ours go, loads the new file
        return True

    def _run_shrink(self, cmd: list[str]) -> tuple[str, str]:
        """Run ``ann_shrink.py``: its output, and why it failed ("" when it did not).  A
        child that failed or was killed leaves no half-written file behind."""
        try:
            child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        except OSError as exc:
            return "", str(exc)
        why = ""
        try:
            out, errs = child.communicate(timeout=SHRINK_TIMEOUT)
        except subprocess.TimeoutExpired:
            child.kill()
            out, errs = child.communicate()
            why = f"it took over {SHRINK_TIMEOUT:.0f} s"
        if child.returncode != 0:
            temp_path(self.ann_path, child.pid).unlink(missing_ok=True)
            why = why or (errs.strip().splitlines()[-1:] or ["(no output)"])[0]
        return out, why

    def ann_saved(self) -> bool:
        """Whether a vector index file this process can load is on disk."""
        return AnnIndex.header(self.ann_path, self.dim, self.model) is not None

    def drop_ann(self) -> None:
        """Forget the vector index (``index --rebuild``): the next refresh builds it anew."""
        with self._lock:
            self.ann, self._ann_stamp = None, None
            self.ann_path.unlink(missing_ok=True)

    train_min = TRAIN_MIN  # (tests lower it to exercise the inverted file on few papers)

    def embedded(self) -> int:
        """How many papers have a vector (as of the last refresh, at most a second old)."""
        self.refresh()
        return int(np.count_nonzero(self.has_vec))

    def meta(self, pids: list[int]) -> dict[int, tuple[int, int]]:
        """``store id -> (day ordinal, upvotes)`` for sorting a candidate pool."""
        self.refresh()
        with self._lock:
            return self.cols.meta(pids)

    def newest_embedded(self) -> np.ndarray:
        """Store ids of the papers with a vector, newest first (by day, then the larger id)."""
        self.refresh()
        with self._lock:
            cols = self.cols
            pids, days = cols.pids[cols.has_vec], cols.day[cols.has_vec].astype(np.int64)
        return pids[np.lexsort((-pids, -days))]

    def categories(self) -> dict[str, int]:
        """Papers per category (for benchmarks that pick realistic filters)."""
        self.refresh()
        return self.cols.categories()

    def categories_of(self, pid: int) -> frozenset[str]:
        return self.cols.categories_of(pid)

    @property
    def pids(self) -> np.ndarray:
        return self.cols.pids

    @property
    def has_vec(self) -> np.ndarray:
        return self.cols.has_vec

    def holds(self, pids: np.ndarray) -> np.ndarray:
        """Whether each of these papers is in the vector index (as of the last refresh)."""
        with self._lock:
            if self.ann is None:
                return np.zeros(len(pids), dtype=bool)
            return self.ann.holds(np.asarray(pids, dtype=np.int64))

    def similarities(self, pids: list[int], qvec: np.ndarray) -> dict[int, float]:
        """Cosine of the query with each paper that has a vector, from the vector index
        (exact while it is flat; decoded from 8 bits, within about 1e-3, when trained)."""
        self.refresh()
        with self._lock:
            if self.ann is None or not pids:
                return {}
            arr = np.unique(np.asarray(pids, dtype=np.int64))
            arr = arr[self.ann.holds(arr)]
            if not len(arr):
                return {}
            sims = self.ann.reconstruct(arr) @ np.asarray(qvec, dtype=np.float32)
        return {int(p): float(x) for p, x in zip(arr, sims, strict=True)}

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
        return self.cols.mask(f)

    def search(
        self,
        qvec: np.ndarray,
        filters: Filters = Filters(),
        limit: int = 100,
        exclude=(),
        effort: float = 1.0,
    ) -> list[tuple[int, float]]:
        """``(store id, cosine)`` best first (ties by id); filters apply inside retrieval.
        ``effort`` below 1 reads fewer lists of the inverted file (``AnnIndex.search``)."""
        return self.search_many(np.reshape(qvec, (1, -1)), filters, limit, [exclude], effort)[0]

    def search_many(
        self,
        qvecs: np.ndarray,
        filters: Filters = Filters(),
        limit: int = 100,
        excludes: Sequence[Iterable[int]] = (),
        effort: float = 1.0,
    ) -> list[list[tuple[int, float]]]:
        """:meth:`search` for each row of ``qvecs`` (``excludes[i]`` dropped from row i's
        answer) in calls to the vector index of ``LOCK_SLICE`` queries: the same answers for
        less CPU.  The lock is taken per slice, so a page's search in another thread waits
        for one slice (about 0.1 s at 2.9M), not for a whole batch of the related job."""
        qvecs = np.asarray(qvecs)
        excludes = list(excludes) or [() for _ in range(len(qvecs))]
        answers: list[list[tuple[int, float]]] = []
        for at in range(0, len(qvecs), LOCK_SLICE):
            part = slice(at, at + LOCK_SLICE)
            answers += self._search_slice(qvecs[part], filters, limit, excludes[part], effort)
        return answers

    def _search_slice(self, qvecs, filters: Filters, limit: int, excludes, effort: float):
        self.refresh()
        with self._lock:
            ann = self.ann
            if ann is None or limit <= 0:
                return [[] for _ in range(len(qvecs))]
            near, allowed, sel = self.cols.selection(filters)
            if not allowed:
                return [[] for _ in range(len(qvecs))]
            # excluded papers (a paper's own, for its related list) are asked for and dropped:
            # a bitmap over every store id cost 28 ms a query at 2.9M papers
            gones = [{int(p) for p in ex} for ex in excludes]
            want = min(limit + max(len(g) for g in gones), allowed)
            size = max(ann.size, 1)  # the part of the papers near a query it allows:
            share = near / size * min(1.0, allowed / near / RANGE_FREE)  # (see RANGE_FREE)
            found = ann.search_many(qvecs, want, sel, share, effort)
            outs = []
            for qvec, (ids, scores) in zip(qvecs, found, strict=True):
                if len(ids) < want and ann.kind == "ivf":  # too few in the lists read: all
                    ids, scores = ann.search(qvec, want, sel, 0.0)
                outs.append([(int(p), float(s)) for p, s in zip(ids, scores, strict=True)])
        answers = []
        for out, gone in zip(outs, gones, strict=True):
            out = [h for h in out if h[0] not in gone]
            out.sort(key=lambda t: (-t[1], t[0]))
            answers.append(out[:limit])
        return answers
