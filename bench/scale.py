"""The scale scenario in one command: grow a corpus, import it as a user would, then time
search over it in a fresh serving process.  Prints one figure per line.

    python bench/scale.py 2900000 --work /tmp/scale       # all of arXiv (hours on 2 cores)
    python bench/scale.py 300000 --work /tmp/scale300k    # a quicker point on the curve

1. ``bench/make_corpus.py`` writes N records (kept in --work and reused when present).
2. ``paperwire import`` into a fresh SQLite database and data directory, timed end to end
   (the command returns with lexical and static-vector search over every paper); the peak
   resident memory of the largest process of the import (main or an embedding worker).
3. A fresh process opens the index the way a server does and answers 1,000 queries (titles
   and title fragments of random papers; every 4th with a category filter, every 5th with a
   date range): lexical and hybrid (static tier) p50/p95, dense recall@10 of the vector
   index against an exact scan of every stored vector (the top 10 of the 100-paper pool the
   product asks the index for; 200 queries unfiltered, then 100 with each kind of filter,
   against the exact top 10 among the papers the filter allows), and that process's peak
   memory (read before the bench's own exact scan, and again after it: the figure recorded
   before 2026-12-01 was the second).

4. With ``--pages``: the HF daily papers are imported on top (they bring the listing days
   and the curated papers that day pages show), ``paperwire index --related`` keeps every
   paper's related list (what the index writer's job does in the background; timed), then
   ``bench/render_cpu.py`` prints the CPU cost of one cold render per page kind, and again
   for paper pages with the lists moved aside (a paper the job has not reached yet: its
   page searches), and a ``paperwire serve`` with 2 workers on the
   same data (sync, digests, the index follower and the embedding job off, so that only
   pages are measured) takes ``bench/load.py`` at 100 connections: day, paper and search
   pages with a Zipf URL mix (exponent 1.0; page cache on, as shipped), then the cold worst
   case, round-robin with the page cache off.  Each latency comes twice: as wrk reports it
   (corrected for coordinated omission) and as timed (``timed p95 ms``; see bench/load.py).

``--reuse`` keeps an existing data directory (the import is then not timed again), so the
later steps can be measured again after a change.  The hot path against nginx does not
depend on the corpus size (a cached page is served from memory) and is measured at 183k
(docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

SERVE = r"""
import random, sys, time
from datetime import date
from pathlib import Path
import numpy as np
from paperwire.search.hybrid import HybridSearcher
from paperwire.search.indexer import SearchIndex
from paperwire.search.lexical import Filters
from paperwire.search.query import parse

index = SearchIndex(Path(sys.argv[1]), embed_contextual=False)
t = time.perf_counter()
for tier in (index.contextual, index.dense):  # (the static tier refreshes the other first)
    tier.refresh(force=True)
index.lexical.refresh(force=True)
print(f"serving process index load s: {time.perf_counter() - t:.1f}")
index.query_vector("warm up")  # the model loads on the first query: not timed
rng = random.Random(7)
dense = index.dense
print(f"vector index: {dense.ann.kind}, {dense.ann.size} vectors"
      + (f", {dense.ann.index.nlist} lists" if dense.ann.kind == "ivf" else ""))
rows = rng.sample(range(len(dense.pids)), min(200, len(dense.pids)))
searcher = HybridSearcher(index, None)
cats = sorted({c for i in rows for c in dense.categories_of(int(dense.pids[i]))})
lat = {"lexical": [], "hybrid": []}
qvecs, approx, wants, kinds = [], [], [], []
for n, text in enumerate(TITLES):
    f = Filters()
    if n % 4 == 0 and cats:
        f = Filters(category=rng.choice(cats))
    elif n % 5 == 0:
        f = Filters(start=date(2020, 1, 1), end=date(2024, 12, 31))
    q = parse(text)
    t0 = time.perf_counter()
    index.lexical.search(q, f, 100)
    t1 = time.perf_counter()
    searcher.ranked(q, f)
    t2 = time.perf_counter()
    lat["lexical"].append(t1 - t0)
    lat["hybrid"].append(t2 - t1)
    kind = "category" if f.category else "range" if f.active else "none"
    if n < 200 or (f.active and kinds.count(kind) < 100):
        # as the product asks (a pool of 100 by meaning), then its top 10: the first 200
        # queries unfiltered, and the first 100 of each filter kind with their filter
        qv = index.query_vector(q.dense_text)
        for g in ([Filters()] if n < 200 else []) + ([f] if f.active else []):
            qvecs.append(qv)
            wants.append(g)
            kinds.append("category" if g.category else "range" if g.active else "none")
            approx.append({p for p, _ in dense.search(qv, g, 100)[:10]})
with open("/proc/self/status") as fh:  # (before the exact scan below, which is the bench's)
    hwm = next(int(l.split()[1]) for l in fh if l.startswith("VmHWM"))
# the exact top 10 of each query among the papers its filter allows: every stored vector,
# streamed (memory stays flat)
import json, sqlite3
Q = np.stack(qvecs).astype(np.float32)
best_s = np.full((len(Q), 10), -np.inf, dtype=np.float32)
best_p = np.zeros((len(Q), 10), dtype=np.int64)
db = sqlite3.connect(f"file:{dense.path}?mode=ro", uri=True)
cur = db.execute("SELECT pid, day, cats, vec FROM vectors WHERE vec IS NOT NULL")
while chunk := cur.fetchmany(65536):
    pids = np.fromiter((r[0] for r in chunk), np.int64, len(chunk))
    days = np.fromiter((r[1] or 0 for r in chunk), np.int64, len(chunk))
    cats = [set(json.loads(r[2] or "[]")) for r in chunk]
    outside = {c: np.fromiter((c not in x for x in cats), bool, len(cats))
               for c in {g.category for g in wants if g.category}}
    X = np.frombuffer(b"".join(r[3] for r in chunk), np.float32).reshape(len(chunk), -1)
    QX = Q @ X.T
    for i, g in enumerate(wants):
        if g.category:
            QX[i, outside[g.category]] = -np.inf
        if g.start:
            QX[i, days < g.start.toordinal()] = -np.inf
        if g.end:
            QX[i, days > g.end.toordinal()] = -np.inf
    S = np.concatenate([best_s, QX], axis=1)
    P = np.concatenate([best_p, np.broadcast_to(pids, (len(Q), len(pids)))], axis=1)
    top = np.argpartition(-S, 9, axis=1)[:, :10]
    best_s, best_p = np.take_along_axis(S, top, 1), np.take_along_axis(P, top, 1)
recall = {}
for a, e, s_, kind in zip(approx, best_p, best_s, kinds):
    e = set(e[np.isfinite(s_)].tolist())
    recall.setdefault(kind, []).append(len(a & e) / max(1, len(e)))
for mode, xs in lat.items():
    xs = np.array(xs) * 1000
    print(f"{mode} p50 ms: {np.percentile(xs, 50):.1f}")
    print(f"{mode} p95 ms: {np.percentile(xs, 95):.1f}")
print(f"dense recall@10 vs exact: {np.mean(recall['none']):.3f}")
for kind in ("range", "category"):
    if recall.get(kind):
        print(f"dense recall@10 vs exact, {kind} filter: {np.mean(recall[kind]):.3f}"
              f" ({len(recall[kind])} queries)")
print(f"serving process peak MB: {hwm / 1024:.0f}")
with open("/proc/self/status") as fh:
    hwm = next(int(l.split()[1]) for l in fh if l.startswith("VmHWM"))
print(f"... and with the bench's exact scan MB: {hwm / 1024:.0f}")
"""


def titles(corpus: Path, n: int = 1000) -> list[str]:
    """Query texts: titles of papers spread through the file, and their first four words
    (about one paper in a thousand, at most ``n``)."""
    import gzip
    import json
    import random

    rng = random.Random(11)
    out: list[str] = []
    with gzip.open(corpus, "rt", encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if i % 997 == 0:
                title = " ".join(json.loads(line)["title"].split())
                out.append(title if rng.random() < 0.5 else " ".join(title.split()[:4]))
            if len(out) >= n:
                break
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("n", type=int, nargs="?", default=2_900_000)
    ap.add_argument("--work", type=Path, required=True, help="outside the repository")
    ap.add_argument("--source", type=Path, default=None, help="the real snapshot to grow from")
    ap.add_argument("--reuse", action="store_true", help="keep an imported data directory")
    ap.add_argument("--pages", action="store_true", help="also time pages (render, load)")
    ap.add_argument("--hf", type=Path, default=HERE.parent.parent / "shared/data/hf-daily-papers")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    print(f"cpu cores: {os.cpu_count()}, load average at start: {os.getloadavg()[0]:.2f}")
    corpus = args.work / f"arxiv-{args.n}.jsonl.gz"
    if not corpus.exists():
        cmd = [sys.executable, str(HERE / "make_corpus.py"), str(args.n), str(corpus)]
        if args.source:
            cmd += ["--source", str(args.source)]
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        print(f"corpus generate s: {time.perf_counter() - t:.0f}")
    print(f"corpus MB: {corpus.stat().st_size / 2**20:.0f}")
    data = args.work / f"data-{args.n}"
    env = {**os.environ, "PAPERWIRE_DATA_DIR": str(data), "PAPERWIRE_SECRET_KEY": "bench"}
    if not (args.reuse and (data / "paperwire.db").exists()):
        if data.exists():
            import shutil

            shutil.rmtree(data)
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "paperwire.cli", "import", str(corpus)],
            env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        took = time.perf_counter() - t
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"import s: {took:.0f}")
        print(f"import papers/s: {args.n / took:.0f}")
        print(f"import peak MB (largest process): {peak:.0f}")
    # the vector index: saved by the import; built here from the stored vectors when an
    # older version's data directory is reused (the step an import ends with)
    t = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run(
        [sys.executable, "-m", "paperwire.cli", "embed", "--static-only"],
        env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"paperwire embed (vector index up to date) s: {time.perf_counter() - t:.0f}")
    if peak > before:
        print(f"paperwire embed peak MB: {peak / 1024:.0f}")
    status = subprocess.run(
        [sys.executable, "-m", "paperwire.cli", "index"], env=env, capture_output=True, text=True
    ).stdout
    for line in status.splitlines()[1:4]:
        print(f"index {line}")
    queries = titles(corpus)
    code = f"TITLES = {queries!r}\n" + SERVE
    got = subprocess.run(
        [sys.executable, "-c", code, str(data / "index")],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    if got.returncode != 0:
        print(got.stderr[-2000:], file=sys.stderr)
        return 1
    print(got.stdout, end="")
    if args.pages:
        pages(args, data, env)
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    return 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(env: dict, port: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "paperwire.cli", "serve", "--port", str(port), "--workers", "2"]
    proc = subprocess.Popen(cmd + ["--no-sync"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    import httpx

    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/", timeout=5).status_code < 500:
                return proc
        except httpx.HTTPError:
            time.sleep(1)
    proc.kill()
    raise SystemExit("the server did not start")


def pages(args, data: Path, env: dict) -> None:
    if args.hf.is_dir():
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "paperwire.cli", "import", str(args.hf)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        print(f"hf daily papers imported on top s: {time.perf_counter() - t:.0f}")
    else:  # (day pages then show publication days, or HF days an earlier run imported)
        print(f"hf daily papers: not imported ({args.hf} is not a directory; see --hf)")
    quiet = {
        **env,
        "PAPERWIRE_DIGEST_ENABLED": "false",
        "PAPERWIRE_INDEX_FOLLOW_INTERVAL": "0",
        "PAPERWIRE_EMBED_CONTEXTUAL": "false",
    }
    # every paper's related list, as the index writer's job keeps them (search/related_fill.py)
    t = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "paperwire.cli", "index", "--related"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    print(f"related lists kept for every paper s: {time.perf_counter() - t:.0f}")
    render = [sys.executable, str(HERE / "render_cpu.py"), "--pages", "200"]
    got = subprocess.run(render, env=quiet, capture_output=True, text=True)
    print("\n".join(x for x in got.stdout.splitlines() if "cold render" in x))
    # and a paper the job has not reached yet (its page searches): the lists moved aside
    kept = [
        data / "index" / n for n in ("related.sqlite", "related.sqlite-wal", "related.sqlite-shm")
    ]
    for f in kept:
        if f.exists():
            f.rename(f.with_name(f.name + ".bench"))
    try:
        got = subprocess.run(
            [*render, "--only", "paper"], env=quiet, capture_output=True, text=True
        )
    finally:
        for f in kept:
            f.unlink(missing_ok=True)  # (the first views' own lists)
            moved = f.with_name(f.name + ".bench")
            if moved.exists():
                moved.rename(f)
    lines = [x for x in got.stdout.splitlines() if x.startswith("paper cold render")]
    print("\n".join(x.replace("paper cold", "paper (list not kept yet) cold") for x in lines))
    load = [sys.executable, str(HERE / "load.py"), "--duration", "15", "--connections", "100",
            "--endpoints", "day,paper,search"]  # fmt: skip
    for label, extra, opts in (
        ("zipf 1.0, page cache on", {}, ["--zipf", "1.0"]),
        ("round-robin, page cache off", {"PAPERWIRE_PAGE_CACHE_TTL": "0"}, []),
    ):
        port = free_port()
        proc = serve({**quiet, **extra}, port)
        try:
            got = subprocess.run(
                [*load, f"http://127.0.0.1:{port}", *opts],
                env={**quiet, **extra}, capture_output=True, text=True,
            )  # fmt: skip
        finally:
            proc.terminate()
            proc.wait(60)
        for line in got.stdout.splitlines():
            if any(k in line for k in ("p50 ms", "p95 ms", "p99 ms", "req/s", "errors")):
                print(f"pages ({label}) {line}")
        if got.returncode:
            print(got.stderr[-2000:], file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
