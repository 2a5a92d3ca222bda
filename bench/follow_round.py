"""The CPU of the index follower's rounds: the first after a start, then quiet ones.

    PAPERWIRE_DATA_DIR=DIR python bench/follow_round.py [--rounds 5]

DIR is a data directory that ``paperwire import`` filled.  Every serving process's writer
runs these rounds every ``PAPERWIRE_INDEX_FOLLOW_INTERVAL`` seconds (default 2): read the
papers changed since the watermark and the vectors stored since the last pull, index what
this directory does not hold yet.  The script runs the same rounds in this process, one after
another, and prints the process CPU of each.  The first round re-reads the overlap window
before the watermark (the end of the import); a round in a quiet spell should cost almost
nothing, since it runs every two seconds for as long as the server runs.  It writes what a
server's follower writes: the directory's follow state (watermark, vector marks).
"""

from __future__ import annotations

import argparse
import logging
import os
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    os.environ.setdefault("PAPERWIRE_EMBED_CONTEXTUAL", "false")
    logging.disable(logging.INFO)
    from paperwire.context import open_store
    from paperwire.search.follow import IndexFollower
    from paperwire.search.indexer import open_index
    from paperwire.settings import Settings

    settings = Settings()
    store = open_store(settings)
    index = open_index(settings)
    print(f"cpu cores: {os.cpu_count()}, load average at start: {os.getloadavg()[0]:.2f}")
    print(f"papers: {store.counts().papers:,}")
    follower = IndexFollower(index, store, embed=False)
    if not follower._try_lead():
        raise SystemExit("another process (a running server?) writes this index directory")
    try:
        for i in range(args.rounds):
            t, w = time.process_time(), time.perf_counter()
            written = follower.step()
            cpu, wall = time.process_time() - t, time.perf_counter() - w
            label = "first round" if i == 0 else f"quiet round {i}"
            print(f"{label}: cpu {cpu * 1000:.0f} ms, wall {wall * 1000:.0f} ms, indexed {written}")
    finally:
        follower.stop()
        store.close()
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
