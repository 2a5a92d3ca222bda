"""Import an arXiv snapshot (Kaggle JSONL, plain or .gz) into a fresh SQLite database.

Prints papers/second and the peak resident memory of this process, one figure per line.

    python bench/import_snapshot.py ../shared/data/arxiv-snapshot/arxiv-metadata-173k.jsonl.gz
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from paperwire.context import open_store
from paperwire.settings import Settings
from paperwire.sources.files import read_file


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("snapshot", type=Path)
    parser.add_argument("--db", help="SQLAlchemy URL (default: a fresh SQLite file)")
    parser.add_argument("--batch-size", type=int, default=2000)
    args = parser.parse_args()
    if not args.snapshot.exists():
        print(f"no such file: {args.snapshot}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'bench.db'}"
        store = open_store(Settings(data_dir=Path(tmp), database_url=url, secret_key="bench"))
        start = time.perf_counter()
        summary = store.importer(args.batch_size).run(read_file(args.snapshot))
        elapsed = time.perf_counter() - start
        again_start = time.perf_counter()
        again = store.importer(args.batch_size).run(read_file(args.snapshot))
        again_elapsed = time.perf_counter() - again_start
        store.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"papers: {summary.seen}")
    print(f"rejected: {summary.rejected}")
    print(f"seconds: {elapsed:.1f}")
    print(f"papers_per_second: {summary.seen / elapsed:.0f}")
    print(f"reimport_seconds: {again_elapsed:.1f} (new={again.new} updated={again.updated})")
    print(f"peak_rss_mb: {peak_mb:.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
