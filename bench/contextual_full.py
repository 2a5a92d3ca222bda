"""Where the background job ends: the serving process once every paper has a contextual
vector.  Prints one figure per line.

    python bench/contextual_full.py DATA_DIR CORPUS.jsonl.gz --work /tmp/ctxfull

DATA_DIR is a data directory that ``paperwire import`` filled (the 2.9M scenario's:
``bench/scale.py``), whose papers have static vectors only, as an import leaves them; the
background job then adds contextual ones, the newest first, over days at 2.9M papers.  This
script gives every paper (or, with ``--share``, the newest part of them, as the job goes) a
*stand-in* contextual vector (random unit vectors, fixed seed: the memory and the work per
query of real ones, not their rankings) in a copy of the contextual table under ``--work``
(the rest of the index is linked, not copied, and only read; the static tier's new vector
index replaces its link), builds that tier's vector index as the index writer does (timed),
lets the index writer have the static tier's vector index trained afresh for the papers left
without a contextual vector if it holds under ``RETRAIN_SHRINK`` of those it was trained for
(``DenseIndex.covered``; timed, with the writer process's peak memory and that of the
process that trains it), and then, ``--rounds`` times, runs the same serving process over
the unchanged index and over the copy, in turn: it opens the index as a server does and
answers ``--queries`` title queries of CORPUS (every fifth with a 2020-2024 range), and
prints hybrid p50 / p95 and its resident memory after the queries (and how much of it is
anonymous, and how much mapped files: the lexical index's and the models', which the workers
share).
Needs about 6 GB of disk under ``--work`` at 2.9M papers; remove it afterwards.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from scale import titles  # noqa: E402

SERVE = r"""
import sys, time
from datetime import date
from pathlib import Path
import numpy as np
from paperwire.search.hybrid import HybridSearcher
from paperwire.search.indexer import SearchIndex
from paperwire.search.lexical import Filters
from paperwire.search.query import parse

index = SearchIndex(Path(sys.argv[1]), embed_contextual=False)
for tier in (index.dense, index.contextual):
    tier.refresh(force=True)
index.lexical.refresh(force=True)
index.query_vector("warm up")  # the models load on the first query: not timed
index.contextual_query_vector("warm up")
searcher = HybridSearcher(index, None)
took = []
for n, text in enumerate(TITLES):
    f = Filters(start=date(2020, 1, 1), end=date(2024, 12, 31)) if n % 5 == 0 else Filters()
    t = time.perf_counter()
    searcher.ranked(parse(text), f)
    took.append(time.perf_counter() - t)
ms = np.array(took) * 1000
with open("/proc/self/status") as fh:
    kb = {
        line.split(":")[0]: int(line.split()[1])
        for line in fh
        if line.startswith(("VmRSS", "RssAnon", "RssFile"))
    }
_total, ctx = index.contextual.counts()
print(f"{ctx} {np.percentile(ms, 50):.1f} {np.percentile(ms, 95):.1f}",
      " ".join(f"{kb[k] / 1024:.0f}" for k in ("VmRSS", "RssAnon", "RssFile")))
"""

WRITER = r"""
import resource, sys, time
from pathlib import Path
from paperwire.search.indexer import SearchIndex

index = SearchIndex(Path(sys.argv[1]), embed_contextual=False)
t = time.perf_counter()
index.dense.refresh(force=True)  # the old static index, the contextual tier it now defers to
took = time.perf_counter() - t
t = time.perf_counter()
done = index.dense.update_ann_if_shrunk()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
child = (index.dense.last_shrink or {}).get("peak_mb", 0)  # (its own count: a child's
# ru_maxrss as the parent reads it includes the parent's pages shared at the fork)
print(f"{took:.0f} {time.perf_counter() - t:.0f} {int(done)} {index.dense.ann.size}"
      f" {peak:.0f} {child}")
"""


def stand_ins(table: Path, dim: int, seed: int = 1, share: float = 1.0) -> int:
    """A random unit vector for every paper of the contextual table at ``table``, or for
    the newest ``share`` of them (the job embeds the newest first)."""
    db = sqlite3.connect(table, isolation_level=None)
    db.execute("PRAGMA synchronous=OFF")
    pids = [p for (p,) in db.execute("SELECT pid FROM vectors ORDER BY day DESC, pid DESC")]
    pids = sorted(pids[: math.ceil(share * len(pids))])
    rng = np.random.default_rng(seed)
    seq = (db.execute("SELECT coalesce(max(seq), 0) FROM vectors").fetchone()[0] or 0) + 1
    for i in range(0, len(pids), 50_000):
        chunk = pids[i : i + 50_000]
        v = rng.standard_normal((len(chunk), dim)).astype(np.float32)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        db.execute("BEGIN")
        db.executemany(
            "UPDATE vectors SET vec = ?, seq = ? WHERE pid = ?",
            [(x.tobytes(), seq, p) for p, x in zip(chunk, v, strict=True)],
        )
        db.execute("COMMIT")
    db.close()
    return len(pids)


def _run(code: str, index: Path) -> list[str]:
    """The last six words a script printed, run on ``index`` in a fresh process."""
    out = subprocess.run(
        [sys.executable, "-c", code, str(index)], capture_output=True, text=True, check=True
    )
    return out.stdout.split()[-6:]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data", type=Path)
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--work", type=Path, required=True, help="outside the repository")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument(
        "--share",
        type=float,
        default=1.0,
        help="give stand-ins to the newest SHARE of the papers only (a moment of the job)",
    )
    args = ap.parse_args()
    from paperwire.search.contextual import ContextualEmbedder
    from paperwire.search.dense import DenseIndex
    from paperwire.search.indexer import CONTEXTUAL_MODEL

    src = args.data / "index"
    if not (src / "contextual.sqlite").exists():
        raise SystemExit(f"{src} has no contextual table: import into {args.data} first")
    print(f"cpu cores: {os.cpu_count()}, load average at start: {os.getloadavg()[0]:.2f}")
    work = args.work / "index"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    for name in ("lexical", "vectors.sqlite", "dense.ann"):
        (work / name).symlink_to(src / name)
    shutil.copyfile(src / "contextual.sqlite", work / "contextual.sqlite")
    t = time.perf_counter()
    n = stand_ins(work / "contextual.sqlite", ContextualEmbedder.dim, share=args.share)
    print(f"stand-in contextual vectors: {n:,} in {time.perf_counter() - t:.0f} s")
    tier = DenseIndex(
        work / "contextual.sqlite",
        dim=ContextualEmbedder.dim,
        model=CONTEXTUAL_MODEL,
        ann_name="contextual.ann",
    )
    t = time.perf_counter()
    tier.update_ann(save=True)
    print(f"contextual vector index built s: {time.perf_counter() - t:.0f}")
    print(f"contextual vector index MB: {(work / 'contextual.ann').stat().st_size / 2**20:.0f}")
    del tier
    load_s, train_s, done, size, peak, child = _run(WRITER, work)
    print(f"static vector index: the old one loaded and its covered papers removed s: {load_s}")
    print(f"static vector index trained afresh: {done == '1'}, holding {int(size):,} papers")
    print(f"static vector index trained afresh s: {train_s}")
    print(f"static vector index MB: {(work / 'dense.ann').stat().st_size / 2**20:.1f}")
    print(f"index writer process peak MB (both tiers loaded, then the new static index): {peak}")
    print(f"... the process that trained the static index afresh, peak MB: {child}")
    code = f"TITLES = {titles(args.corpus)[: args.queries]!r}\n" + SERVE
    label_ctx = "every paper" if args.share >= 1 else f"newest {args.share:.0%} of papers"
    for r in range(args.rounds):
        for label, index in (("static only", src), (f"{label_ctx} contextual", work)):
            ctx, p50, p95, rss, anon, mapped = _run(code, index)
            print(f"round {r + 1}, {label} ({int(ctx):,} contextual) hybrid p50 ms: {p50}")
            print(f"round {r + 1}, {label} hybrid p95 ms: {p95}")
            print(f"round {r + 1}, {label} serving process RSS MB: {rss}")
            print(f"round {r + 1}, {label} ... anonymous / mapped files MB: {anon} / {mapped}")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
