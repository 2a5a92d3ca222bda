"""Train a tier's vector index afresh for the papers it holds now, in a process of its own.

The static tier's vector index loses papers as the contextual tier takes them over
(``DenseIndex.covered``), and faiss keeps a list's room when an entry goes, so the index
writer has it trained afresh once it holds under ``RETRAIN_SHRINK`` of the papers it was
trained for.  Trained inside the writer, the old index and the new one would sit in the same
process (a web worker: 3.4 GB at the first retraining of a 2.9M collection, by the figures in
docs/benchmarks.md); this process reads the filter fields and the vectors from the tier's
SQLite file, the covering tier's membership from its own file (no vector index of either is
loaded), builds the index exactly as the writer does and saves it.  Every serving process,
the writer's included, then lets its own index go and loads the file (``DenseIndex.refresh``).

    python -m paperwire.search.ann_shrink VECTORS.sqlite DIM MODEL ANN_NAME TRAIN_MIN [COVERING]

(COVERING: the covering tier's SQLite file.)
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import numpy as np

from paperwire.search.ann import id_mask
from paperwire.search.dense import DenseIndex


def stored_ids(path: Path) -> np.ndarray:
    """Booleans by store id: the papers with a vector in the tier file at ``path``."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=60)
    try:
        pids = np.fromiter(
            (p for (p,) in db.execute("SELECT pid FROM vectors WHERE vec IS NOT NULL")), np.int64
        )
    finally:
        db.close()
    return id_mask(pids)


def rebuild(
    vectors: Path, dim: int, model: str, ann_name: str, train_min: int, covering: Path | None
) -> int:
    """Build and save the tier's vector index for its papers that ``covering`` does not
    hold; returns how many it holds."""
    tier = DenseIndex(vectors, dim=dim, model=model, ann_name=ann_name)
    tier.train_min = train_min
    with tier._db(write=False) as db:  # one snapshot: fields, membership and vectors
        seq = int((db.execute("SELECT value FROM meta WHERE key='seq'").fetchone() or [0])[0])
        tier.cols.load(db)
        if covering is not None:
            tier.cols.cover(stored_ids(covering))
        ann = tier._build(db, tier.pids[tier.cols.members()])
        ann.seq = seq
    ann.save(tier.ann_path)
    return ann.size


def main(argv: list[str]) -> int:
    vectors, dim, model, ann_name, train_min, *rest = argv
    covering = Path(rest[0]) if rest and rest[0] else None
    n = rebuild(Path(vectors), int(dim), model, ann_name, int(train_min), covering)
    print(n, _peak_mb())  # papers held, this process's peak MB
    return 0


def _peak_mb() -> int:
    """This process's peak resident memory since it started this program (VmHWM: the
    ``ru_maxrss`` of a process started from a large one counts the parent's pages)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
