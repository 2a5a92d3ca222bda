"""The memory and time of building the vector index from scratch, as an import ends.

    PAPERWIRE_DATA_DIR=DIR python bench/ann_build.py [--contextual]

DIR is a data directory that ``paperwire import`` filled.  The script opens its static (or
contextual) vector table the way the import does, forgets the vector index in this process
(the file on disk is left alone), builds it again from every stored vector
(``DenseIndex._build``: the inverted file trained on a sample and filled), and prints the
build's wall and CPU time, how much the process's resident memory grew, and its peak.  At
2.9M papers this step sets the import's peak memory (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import time

from paperwire.search.dense import DenseIndex
from paperwire.settings import Settings


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--contextual", action="store_true", help="the contextual tier's table")
    args = ap.parse_args()
    index_dir = Settings().resolved_index_dir
    name = "contextual.sqlite" if args.contextual else "vectors.sqlite"
    dense = DenseIndex(index_dir / name, dim=384 if args.contextual else 256)
    dense.refresh(force=True)
    pids = dense.pids[dense.has_vec]
    dense.ann = None  # (this process only)
    gc.collect()
    print(f"cpu cores: {os.cpu_count()}, load average at start: {os.getloadavg()[0]:.2f}")
    base, wall, cpu = rss_mb(), time.perf_counter(), time.process_time()
    with dense._db(write=False) as db:
        ann = dense._build(db, pids)
    print(f"vectors: {len(pids)}, kind: {ann.kind}, lists: {getattr(ann.index, 'nlist', 0)}")
    print(f"build wall s: {time.perf_counter() - wall:.1f}")
    print(f"build cpu s: {time.process_time() - cpu:.1f}")
    print(f"rss growth MB: {rss_mb() - base:.0f} (from {base:.0f})")
    print(f"peak rss MB: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")


if __name__ == "__main__":
    main()
