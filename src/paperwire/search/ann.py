"""The approximate nearest-neighbour graph for dense retrieval: faiss HNSW, ids = store ids.

``IndexHNSWFlat`` (inner product on unit vectors, M=16, efConstruction=100, the settings
measured in the shared DESIGN notes) wrapped in ``IndexIDMap2``, so searches return store ids
and filters run inside the graph walk as an ``IDSelectorBitmap`` over store ids.

HNSW cannot remove a node.  A paper whose vector changed gets a second node; ``live`` holds
the papers whose newest vector is in the graph, and ``stale`` counts the nodes that no longer
are (old vectors, deleted papers).  Searches rescore hits with the current vectors and keep a
paper once, so stale nodes cost only space; past ``REBUILD_STALE`` of the graph the writer
builds it afresh.  Persisted as one file (``dense.hnsw``: the faiss index, ``live`` and the
vectors-table sequence number it reflects), written to a temporary name and renamed.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import faiss
import numpy as np

M = 16
EF_CONSTRUCTION = 100
EF_SEARCH = 128  # at least 2 * k; see search()
REBUILD_STALE = 0.10  # rebuild when this share of the graph's nodes is stale
FORMAT = 1
CHUNK = 16_384  # vectors compared at a time when syncing


class AnnGraph:
    def __init__(self, dim: int, model: str = "") -> None:
        self.dim, self.model = dim, model
        base = faiss.IndexHNSWFlat(dim, M, faiss.METRIC_INNER_PRODUCT)
        base.hnsw.efConstruction = EF_CONSTRUCTION
        self.index = faiss.IndexIDMap2(base)
        self.live: set[int] = set()
        self.seq = 0  # the vectors-table sequence number this graph reflects

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    @property
    def stale(self) -> int:
        return self.size - len(self.live)

    def needs_rebuild(self) -> bool:
        return self.size > 0 and self.stale > REBUILD_STALE * self.size

    @classmethod
    def build(cls, pids: np.ndarray, vecs: np.ndarray, dim: int, model: str = "") -> AnnGraph:
        g = cls(dim, model)
        if len(pids):
            g.index.add_with_ids(
                np.ascontiguousarray(vecs, dtype=np.float32), pids.astype(np.int64)
            )
            g.live = {int(p) for p in pids}
        return g

    def sync(self, pids: np.ndarray, vecs: np.ndarray) -> int:
        """Bring these papers' current vectors into the graph; returns how many were added.

        A paper already in the graph with the same vector (only its filter fields changed) is
        left alone; one with a new vector gets a new node and its old node turns stale."""
        pids = np.asarray(pids, dtype=np.int64)
        if not len(pids):
            return 0
        vecs = np.ascontiguousarray(vecs, dtype=np.float32)
        known = np.fromiter((int(p) in self.live for p in pids), bool, len(pids))
        todo = ~known
        at = np.flatnonzero(known)
        for i in range(0, len(at), CHUNK):  # chunks: a full reconcile would copy every vector
            rows = at[i : i + CHUNK]
            old = self.index.reconstruct_batch(pids[rows])
            todo[rows] = ~np.all(old == vecs[rows], axis=1)
        if not todo.any():
            return 0
        self.index.add_with_ids(vecs[todo], pids[todo])
        self.live.update(int(p) for p in pids[todo])
        return int(todo.sum())

    def drop(self, pids) -> None:
        """These papers' nodes no longer hold their current vector (deleted or re-pending)."""
        self.live.difference_update(int(p) for p in pids)

    def search(
        self, qvec: np.ndarray, k: int, allowed: np.ndarray | None, ef: int = EF_SEARCH
    ) -> np.ndarray:
        """Store ids of up to ``k`` nearest nodes (duplicates possible; the caller rescores).

        ``allowed`` is a packed little-endian bitmap over store ids: only those are returned,
        decided inside the graph walk."""
        params = faiss.SearchParametersHNSW()
        params.efSearch = max(ef, 2 * k)
        if allowed is not None:
            sel = faiss.IDSelectorBitmap(len(allowed) * 8, faiss.swig_ptr(allowed))
            params.sel = sel
        q = np.ascontiguousarray(qvec, dtype=np.float32).reshape(1, -1)
        _d, ids = self.index.search(q, min(k, self.size), params=params)
        ids = ids[0]
        return ids[ids >= 0]

    # -- persistence ----------------------------------------------------------------
    def save(self, path: Path) -> None:
        path = Path(path)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            np.savez(
                fh,
                index=faiss.serialize_index(self.index),
                live=np.fromiter(sorted(self.live), np.int64, len(self.live)),
                meta=np.array([FORMAT, self.dim, self.seq], dtype=np.int64),
                model=np.array(self.model),
            )
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path, dim: int, model: str = "") -> AnnGraph | None:
        """The saved graph, or None when missing, unreadable or for another model.

        The open file stays the same even if a writer replaces the path meanwhile, and the
        faiss index is read straight from its zip member, so loading holds one copy of the
        graph (a 300 MB graph once took three: file bytes, array, index)."""
        try:
            with np.load(Path(path)) as z:
                fmt, fdim, seq = (int(x) for x in z["meta"])
                if fmt != FORMAT or fdim != dim or (model and str(z["model"]) != model):
                    return None
                g = cls(dim, model)
                with z.zip.open("index.npy") as member:
                    fmt_ = np.lib.format
                    header = {(1, 0): fmt_.read_array_header_1_0}.get(
                        fmt_.read_magic(member), fmt_.read_array_header_2_0
                    )
                    header(member)  # skip the .npy header: the raw bytes follow
                    reader = faiss.PyCallbackIOReader(member.read)
                    g.index = faiss.read_index(reader)
                g.live = set(z["live"].tolist())
                g.seq = seq
                return g
        except (OSError, ValueError, KeyError, RuntimeError, zipfile.BadZipFile):
            return None


def bitmap(pids: np.ndarray) -> np.ndarray:
    """A packed little-endian bitmap with the bits of these store ids set."""
    top = int(pids.max()) + 1 if len(pids) else 1
    bits = np.zeros(top, dtype=bool)
    bits[pids] = True
    return np.packbits(bits, bitorder="little")
