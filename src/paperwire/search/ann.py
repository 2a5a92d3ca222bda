"""The vector index for dense retrieval: the one in-memory copy of a tier's vectors.

Small collections keep the vectors as they are (``IndexFlatIP``: exact).  From
``TRAIN_MIN`` vectors on, the writer trains an inverted file over 8-bit scalar-quantized
residuals (``IndexIVFScalarQuantizer``, inner product): one byte per dimension, so 2.9M
static vectors take 0.75 GB instead of 3 GB, and a search reads only the lists nearest the
query.  The lists are read in a fast-scan copy (4-bit product-quantized codes on the same
lists, ``IndexIVFPQFastScan``, 0.2 GB at 2.9M) and its best candidates ranked again by the
8-bit vectors: a fifth of the time of reading the 8-bit lists, about the same answers.
Both kinds carry the store ids, take filters as an ``IDSelectorBitmap`` over store ids
inside the scan, and remove a paper's old vector when a new one comes (no stale entries).
docs/search.md has the measurements that chose this over HNSW.

The list count is fixed when the file is trained; the writer trains afresh when the
collection has grown ``RETRAIN_GROWTH`` times since (so an import that starts empty trains a
few times, each on a sample, and fills the lists chunk by chunk: memory stays flat), and a
separate process trains it afresh when it has shrunk (``RETRAIN_SHRINK``, dense.py).

Persisted as one file (``dense.ann``): a header line with the vectors-table sequence number
it reflects and the model, then (an inverted file) the fast-scan copy, then the faiss
index, each streamed (no copy in memory), written to a temporary name and renamed.  A file
of an earlier format is rebuilt from the stored vectors.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import faiss as _faiss
import numpy as np

# faiss ships partial SWIG stubs that lack most of its Python API (nlist, invlists, DirectMap,
# the IO callbacks), so the module is typed as Any here rather than ignored line by line.
faiss: Any = _faiss

TRAIN_MIN = 50_000  # below this many vectors the exact flat index is fast enough
RETRAIN_GROWTH = 4  # train afresh when the collection has grown this many times
# ... or holds under RETRAIN_SHRINK of it: removing a vector keeps its list's room (faiss
# resizes the list's buffers down without freeing), so an index whose papers move to the
# contextual tier (dense.py, ``covered``) keeps its old size until it is trained afresh.  At
# 2.9M papers, retraining at 1/2 let a process reach 3.01 GB (the newest 49% contextual, the
# index still sized for all); at 3/4 no moment measured passed 2.62 GB (docs/benchmarks.md)
RETRAIN_SHRINK = 0.75
LISTS_PER_SQRT = 2  # nlist = 2 * sqrt(n) at training time (docs/search.md)
TRAIN_PER_LIST = 40  # training sample: this many vectors per list
NPROBE = 16  # lists read per unfiltered query at least ...
NPROBE_SHARE = 0.125  # ... or this share of them (recall@10 0.963 at 2.9M, docs/search.md)
# The lists are scanned in a second copy of the vectors, SCAN_M product-quantized codes of 4
# bits each (64 bytes a vector), which faiss reads with SIMD table lookups ("fast scan"); its
# best SCAN_FACTOR * k candidates (SCAN_FLOOR at least) are ranked by the 8-bit vectors.  At
# 2.9M papers a search's 426 lists took 5.8 instead of 26.5 ms (bench/ann_fastscan.py); for
# title queries, recall@10 0.953 / 0.959 / 0.962 with 2 / 3 / 5 candidates a result against
# 0.963 reading the 8-bit lists, 0.4 ms apart (docs/search.md).
SCAN_M = 128
SCAN_FACTOR = 5
SCAN_FLOOR = 100
FORMAT = 4  # 4: both indexes streamed (3, only at f807e6d, had the copy length-prefixed)
MAGIC = b"paperwire-ann\n"


def id_mask(pids: np.ndarray) -> np.ndarray:
    """Booleans by store id, set for these store ids (as long as the largest needs)."""
    out = np.zeros(int(pids.max()) + 1 if len(pids) else 0, dtype=bool)
    out[pids] = True
    return out


def temp_path(path: Path, pid: int) -> Path:
    """Where process ``pid`` writes ``path`` before renaming it into place (``save``)."""
    return path.with_name(f".{path.name}.{pid}.tmp")


def nlist_for(n: int) -> int:
    return max(1, min(int(LISTS_PER_SQRT * math.sqrt(max(n, 1))), n // TRAIN_PER_LIST))


class AnnIndex:
    """Store ids and their vectors in a faiss index that can remove and search with filters."""

    def __init__(
        self, index: Any, dim: int, model: str = "", trained_on: int = 0, scan: Any = None
    ):
        self.index, self.dim, self.model = index, dim, model
        self.scan = scan  # the fast-scan copy of an inverted file's lists (None: flat)
        self.trained_on = trained_on  # vectors at training time (0: the flat kind)
        self.live = np.zeros(0, dtype=bool)  # by store id: in the index
        self.seq = 0  # the vectors-table sequence number this index reflects

    @classmethod
    def flat(cls, dim: int, model: str = "") -> AnnIndex:
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dim)), dim, model)

    @classmethod
    def trained(cls, sample: np.ndarray, n: int, dim: int, model: str = "") -> AnnIndex:
        """An empty inverted file for about ``n`` vectors, trained on ``sample``."""
        nlist = nlist_for(n)
        ivf = faiss.IndexIVFScalarQuantizer(
            faiss.IndexFlatIP(dim), dim, nlist, faiss.ScalarQuantizer.QT_8bit,
            faiss.METRIC_INNER_PRODUCT, True,
        )  # fmt: skip
        sample = np.ascontiguousarray(sample, dtype=np.float32)
        ivf.train(sample)
        ivf.set_direct_map_type(faiss.DirectMap.Hashtable)  # reconstruct and remove by id
        # the fast-scan copy reads the same lists: the same centroids, only its codes trained
        centroids = faiss.IndexFlatIP(dim)
        centroids.add(ivf.quantizer.reconstruct_n(0, nlist))
        scan = faiss.IndexIVFPQFastScan(
            centroids, dim, nlist, SCAN_M, 4, faiss.METRIC_INNER_PRODUCT
        )
        scan.train(sample)
        return cls(ivf, dim, model, trained_on=n, scan=scan)

    @property
    def kind(self) -> str:
        return "ivf" if self.trained_on else "flat"

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    def needs_training(self, n: int) -> bool:
        """Whether an index for ``n`` vectors should be trained afresh."""
        if self.kind == "flat":
            return n >= TRAIN_MIN
        return n > RETRAIN_GROWTH * self.trained_on

    def oversized(self, n: int) -> bool:
        """Whether an inverted file trained for more papers than ``n`` should be trained
        afresh for ``n`` (see ``RETRAIN_SHRINK``)."""
        return self.kind == "ivf" and n < RETRAIN_SHRINK * self.trained_on

    def holds(self, pids: np.ndarray) -> np.ndarray:
        """Whether each of these store ids is in the index."""
        inside = pids < len(self.live)
        out = np.zeros(len(pids), dtype=bool)
        out[inside] = self.live[pids[inside]]
        return out

    def add(self, pids, vecs, lists: np.ndarray | None = None) -> None:
        """These papers' current vectors (a paper's earlier vector is replaced).  ``lists``:
        the inverted file's list of each vector, when ``assign`` gave them already."""
        pids = np.asarray(pids, dtype=np.int64)
        if not len(pids):
            return
        vecs = np.asarray(vecs, dtype=np.float32)
        if len(pids) > 1 and not (np.diff(pids) > 0).all():  # the last vector of a paper
            pids, first = np.unique(pids[::-1], return_index=True)
            vecs = vecs[::-1][first]
            lists = None if lists is None else np.asarray(lists)[::-1][first]
        vecs = np.ascontiguousarray(vecs)  # (a build's chunks, in id order: no copy)
        self.remove(pids)
        if lists is None or self.kind == "flat":
            self.index.add_with_ids(vecs, pids)
        else:  # what add_with_ids does after its own assignment
            lists = np.ascontiguousarray(lists, dtype=np.int64)
            p = faiss.swig_ptr
            self.index.add_core(len(pids), p(vecs), p(pids), p(lists))
        if self.scan is not None:  # (its own assignment: add_core leaves fast-scan codes
            self.scan.add_with_ids(vecs, pids)  # unpacked, and no query finds them)
        top = int(pids.max()) + 1
        if top > len(self.live):
            self.live = np.concatenate([self.live, np.zeros(top - len(self.live), bool)])
        self.live[pids] = True

    def assign(self, vecs) -> np.ndarray:
        """The inverted file's list for each vector (the nearest centroid)."""
        x = np.ascontiguousarray(vecs, dtype=np.float32)
        _, lists = self.index.quantizer.search(x, 1)
        return lists[:, 0]

    def reserve(self, counts: np.ndarray) -> None:
        """Room for exactly ``counts[i]`` more entries in list i.  Lists filled one chunk at
        a time grow by doubling, which left an index built at 2.9M about a quarter larger
        in memory than its entries (the import's peak; docs/benchmarks.md)."""
        inv = faiss.downcast_InvertedLists(self.index.invlists)
        for i in np.flatnonzero(counts):
            n = inv.list_size(int(i))
            inv.resize(int(i), n + int(counts[i]))  # allocates exactly this much ...
            inv.resize(int(i), n)  # ... and keeps it when the size goes back

    def remove(self, pids) -> None:
        pids = np.asarray(pids, dtype=np.int64)
        gone = pids[self.holds(pids)]
        if len(gone):
            gone = np.ascontiguousarray(gone)
            if self.kind == "ivf":  # the id hashtable takes exactly this selector
                self.index.remove_ids(faiss.IDSelectorArray(len(gone), faiss.swig_ptr(gone)))
                # (no id map in the fast-scan copy: one pass over its ids, a hash lookup each)
                self.scan.remove_ids(faiss.IDSelectorBatch(gone))
            else:
                self.index.remove_ids(faiss.IDSelectorBatch(gone))
            self.live[gone] = False

    def reconstruct(self, pids: np.ndarray) -> np.ndarray:
        """The indexed vectors of these (live) papers: exact for the flat kind, decoded from
        8 bits for the inverted file (cosines within about 1e-3)."""
        if not len(pids):
            return np.zeros((0, self.dim), dtype=np.float32)
        return self.index.reconstruct_batch(np.asarray(pids, dtype=np.int64))

    def search(
        self,
        qvec: np.ndarray,
        k: int,
        allowed: np.ndarray | None,
        share: float = 1.0,
        effort: float = 1.0,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Store ids and inner products of up to ``k`` nearest papers, best first.

        ``allowed`` is a packed little-endian bitmap over store ids (None: every paper),
        applied inside the scan.  ``share`` is the part of the papers near a query that it
        allows (``DenseIndex`` counts a broad day range as allowing all of them): the
        inverted file reads ``NPROBE / share`` lists, so a filter keeps as many candidates
        as an unfiltered query sees; one that allows few papers reads every list (exact
        over the quantized vectors).  ``effort`` scales the lists read (related papers read
        a quarter)."""
        return self.search_many(np.reshape(qvec, (1, -1)), k, allowed, share, effort)[0]

    def search_many(
        self,
        qvecs: np.ndarray,
        k: int,
        allowed: np.ndarray | None,
        share: float = 1.0,
        effort: float = 1.0,
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """:meth:`search` for each row of ``qvecs``, in one call: the same answers, and at
        2.9M papers a third of the CPU a query in batches of a thousand (faiss shares the
        lists' reads among the queries that probe them; related lists are filled so)."""
        q = np.ascontiguousarray(qvecs, dtype=np.float32).reshape(-1, self.dim)
        k = min(k, self.size)
        if k <= 0:
            return [(np.zeros(0, np.int64), np.zeros(0, np.float32)) for _ in range(len(q))]
        if self.kind == "ivf":
            nlist = self.index.nlist
            base = max(NPROBE, math.ceil(NPROBE_SHARE * nlist))
            params = faiss.SearchParametersIVF()
            params.nprobe = min(nlist, max(1, math.ceil(base * effort / max(share, 1e-9))))
        else:
            params = faiss.SearchParameters()
        if allowed is not None:
            # (its size is in bytes: ids past the bitmap are not members)
            sel = faiss.IDSelectorBitmap(len(allowed), faiss.swig_ptr(allowed))
            params.sel = sel
        if self.kind == "flat":
            scores, ids = self.index.search(q, k, params=params)
            return [(i[i >= 0], s[i >= 0]) for i, s in zip(ids, scores, strict=True)]
        # the fast-scan copy finds the candidates, the 8-bit vectors rank them
        _, found = self.scan.search(
            q, min(max(SCAN_FACTOR * k, SCAN_FLOOR), self.size), params=params
        )
        out = []
        for row, ids in zip(q, found, strict=True):
            ids = ids[ids >= 0]
            scores = (
                self.index.reconstruct_batch(ids) @ row if len(ids) else np.zeros(0, np.float32)
            )
            best = np.argsort(-scores, kind="stable")[:k]
            out.append((ids[best], scores[best]))
        return out

    # -- persistence ----------------------------------------------------------------
    def save(self, path: Path) -> None:
        """One header line (JSON), then the faiss index streamed to the file: no in-memory
        copy of the index (serializing to an array first doubled a 0.75 GB index)."""
        path = Path(path)
        tmp = temp_path(path, os.getpid())
        head = {"format": FORMAT, "dim": self.dim, "seq": self.seq, "trained_on": self.trained_on}
        with tmp.open("wb") as fh:
            fh.write(MAGIC + json.dumps({**head, "model": self.model}).encode() + b"\n")
            if self.scan is not None:  # the fast-scan copy first, streamed too
                faiss.write_index(self.scan, faiss.PyCallbackIOWriter(fh.write))
            faiss.write_index(self.index, faiss.PyCallbackIOWriter(fh.write))
        os.replace(tmp, path)

    @staticmethod
    def header(path: Path, dim: int, model: str = "") -> dict | None:
        """The header of the index saved at ``path`` if it is of this format, size and model
        (a file of an older version or another model is to be written afresh), else None."""
        try:
            with Path(path).open("rb") as fh:
                if fh.read(len(MAGIC)) != MAGIC:
                    return None
                head = json.loads(fh.readline())
                return head if _fits(head, dim, model) else None
        except (OSError, ValueError, KeyError):
            return None

    @classmethod
    def load(cls, path: Path, dim: int, model: str = "") -> AnnIndex | None:
        """The saved index, or None when missing, unreadable or for another model.  The open
        file stays the same even if a writer replaces the path meanwhile."""
        try:
            with Path(path).open("rb") as fh:
                if fh.read(len(MAGIC)) != MAGIC:
                    return None
                head = json.loads(fh.readline())
                if not _fits(head, dim, model):
                    return None
                # (each read takes exactly its index's bytes from the file, in order)
                scan = (
                    faiss.read_index(faiss.PyCallbackIOReader(fh.read))
                    if head["trained_on"]
                    else None
                )
                index = faiss.read_index(faiss.PyCallbackIOReader(fh.read))
        except (OSError, ValueError, KeyError, RuntimeError):
            return None
        g = cls(index, dim, model, int(head["trained_on"]), scan)
        g.seq = int(head["seq"])
        g.live = id_mask(g.ids())
        return g

    def ids(self) -> np.ndarray:
        """Every store id in the index."""
        if self.kind == "flat":
            return faiss.vector_to_array(self.index.id_map).astype(np.int64)
        inv = self.index.invlists
        parts = [
            faiss.rev_swig_ptr(inv.get_ids(i), inv.list_size(i)).copy()
            for i in range(self.index.nlist)
            if inv.list_size(i)
        ]
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)


def _fits(head: dict, dim: int, model: str) -> bool:
    return head["format"] == FORMAT and head["dim"] == dim and (not model or head["model"] == model)
