"""HTTP load on a running ``paperwire serve``: req/s and p50/p95/p99 latency per endpoint.

Usage::

    PAPERWIRE_DATABASE_URL=... python bench/load.py http://127.0.0.1:8600 \\
        [--duration 30] [--connections 100] [--endpoints day,paper,search,trending,mix]

The server is not started here: start it yourself (``paperwire serve --port 8600 --no-sync
--workers 2``, digests off with ``PAPERWIRE_DIGEST_ENABLED=false``) on the same database this
script reads.  The script reads that database (``--db`` or the ``PAPERWIRE_*`` settings, as the
server does) only to pick realistic URLs, with a fixed seed:

- ``day``: ``/`` (one URL in ten) and the day pages of 300 real days that have papers;
- ``paper``: 2,000 paper pages, 70% curated (HF) papers, 30% any paper of the corpus;
- ``search``: ``/api/papers/search?q=`` with 500 queries drawn from HF titles and keyword
  phrases (as ``bench/search_speed.py`` draws them);
- ``trending``: ``/api/daily_papers?sort=trending`` (and its next pages, and ``limit=20``);
- ``mix``: all of the above interleaved, 30% day, 40% paper, 20% search, 10% trending.

``--zipf S`` replaces each endpoint's round-robin over its URLs by a popularity mix: 20,000
requests drawn (fixed seed) with the URL of rank r asked with probability proportional to
1 / r^S, as real traffic concentrates on a few pages (S = 1.0 is the classic web figure; the
paper endpoint then draws from every paper of the corpus, not a sample of 2,000).  Without it,
the round-robin over a large URL set with the page cache off (``PAPERWIRE_PAGE_CACHE_TTL=0``
on the server) is the cold worst case.

First the first URLs of every endpoint are asked concurrently, twice, and awaited (each
worker loads the search index on its first search or paper page, which takes seconds; this is
not timed).  Then every endpoint is driven for ``--duration`` seconds by ``--connections``
keep-alive connections (closed loop: each sends its next request when the last answer
arrived), after a short warm-up with 4 connections.  The URLs are requested round-robin
from a random start per thread.

It needs **wrk** (Debian: ``apt-get install wrk``), which costs the server little CPU (one
thread by default: on 2 cores the load generator must not starve the server).  Without wrk
(or with ``--client python``) a fallback closed-loop client on asyncio + httpx runs in this
process; it takes a whole core at a few thousand req/s, so on a small machine its figures
are pessimistic; the output says which client ran.

Prints one figure per line (``<endpoint> <figure>: <value>``), with the load average before
and after each run: ``req/s``, ``p50 ms``, ``p95 ms``, ``p99 ms``, ``timed p50 ms``, ``timed
p95 ms``, ``timed p99 ms``, ``errors`` (connect, read, write and timeout errors plus answers
that are not 2xx or 3xx) and ``requests``.

Two kinds of latency.  ``p50/p95/p99 ms`` are wrk's own percentiles, which wrk *corrects for
coordinated omission* before reporting them: an answer that took n >= 2E (E the run's mean
interval between two requests of one connection: duration x connections / requests) also
counts once at each of n - E, n - 2E, ... while above E, standing for the requests an
open-loop client, sending at that rate, would have had waiting meanwhile.  Under a cache the
hits make E small (10 ms at 10,000 req/s over 100 connections), so a few slow misses fill the
tail: a 2 s miss counts about 200 times.  ``timed`` percentiles undo the correction (exactly:
the script inverts it bin by bin and checks the count against the requests) and are the
answers as the closed loop of ``--connections`` connections timed them.  Every figure in
docs/benchmarks.md before 2026-12-01's sixteenth session, and issue #13's own baseline, is of
the first kind.  The Python client applies the same correction to its timings.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from urllib.parse import quote, urlencode

from sqlalchemy import select

from paperwire.context import open_store
from paperwire.core.cli import load_settings
from paperwire.store.models import Listing, Paper

ENDPOINTS = ("day", "paper", "search", "trending")
MIX = {"day": 3, "paper": 4, "search": 2, "trending": 1}
TIMED = ("timed p50 ms", "timed p95 ms", "timed p99 ms")

LUA = r"""
local ffi = require("ffi")
ffi.cdef[[typedef struct { uint64_t count, limit, min, max; uint64_t data[?]; } wrk_stats_t;]]
local reqs = {}
local i = 0
local connections = @CONNECTIONS@

function init(args)
  for line in io.lines(args[1]) do
    reqs[#reqs + 1] = wrk.format("GET", line)
  end
  math.randomseed(os.time() + tonumber(string.format("%d", (os.clock() * 1e6) % 1e6)))
  i = math.random(#reqs) - 1
end

function request()
  i = (i % #reqs) + 1
  return reqs[i]
end

-- wrk "corrects" its latency histogram for coordinated omission before done() sees it
-- (stats_correct in wrk.c): each answer of n us, n >= 2E, also counts at n - E, n - 2E, ...
-- while above E, E being the run's mean interval between one connection's requests.  Undo
-- it, from the slowest bin down, to get the answers as they were timed (the closed loop).
local function as_timed(summary, latency)
  local s = ffi.cast("wrk_stats_t**", latency)[0]
  local per = math.floor(summary.requests / connections)
  local e = per > 0 and math.floor(summary.duration / per) or 0
  local lo, hi = tonumber(s.min), tonumber(s.max)
  if hi < lo then return {0, 0, 0, 0} end
  local raw = ffi.new("double[?]", hi - lo + 1)
  local later = ffi.new("double[?]", hi - lo + 1)  -- raw[n + E] + raw[n + 2E] + ...
  local total = 0
  for n = hi, lo, -1 do
    local c = tonumber(s.data[n])
    if e > 0 and n > e and n + e <= hi then
      later[n - lo] = raw[n + e - lo] + later[n + e - lo]
      c = c - later[n - lo]
    end
    raw[n - lo] = c
    total = total + c
  end
  local out = {total}
  for _, p in ipairs({50, 95, 99}) do
    local rank, seen, at = math.floor(p / 100 * total + 1), 0, hi
    for n = lo, hi do
      seen = seen + raw[n - lo]
      if seen >= rank then at = n; break end
    end
    out[#out + 1] = at
  end
  return out
end

function done(summary, latency, requests)
  local e = summary.errors
  local t = as_timed(summary, latency)
  io.write(string.format(
    'WRK {"requests": %d, "duration_us": %d, "bytes": %d, "p50": %d, "p95": %d, ' ..
    '"p99": %d, "max": %d, "timed": %d, "timed_p50": %d, "timed_p95": %d, ' ..
    '"timed_p99": %d, "connect": %d, "read": %d, "write": %d, "status": %d, ' ..
    '"timeout": %d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    t[1], t[2], t[3], t[4],
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def zipf_mix(population: list[str], s: float, n: int = 20_000, seed: int = 11) -> list[str]:
    """``n`` URLs drawn from ``population`` (in a shuffled order: rank 1 is a random URL) with
    probability proportional to 1 / rank**s."""
    rnd = random.Random(seed)
    order = list(population)
    rnd.shuffle(order)
    weights = [1.0 / (r**s) for r in range(1, len(order) + 1)]
    return rnd.choices(order, weights=weights, k=n)


def pick_urls(db: str | None, seed: int = 7, zipf: float | None = None) -> dict[str, list[str]]:
    """Realistic URLs per endpoint, from the database the server serves."""
    rnd = random.Random(seed)
    settings = load_settings(db).model_copy(update={"search_index_on_import": False})
    store = open_store(settings, migrate_schema=False)  # read only: the server migrated it
    try:
        days = [d for d, _n in store.day_counts(date.min, date.max)]
        with store.engine.connect() as conn:
            curated = sorted(
                set(
                    conn.execute(
                        select(Paper.arxiv_id).join(Listing, Listing.paper_id == Paper.id)
                    ).scalars()
                )
            )
            everything = list(conn.execute(select(Paper.arxiv_id).order_by(Paper.id)).scalars())
            hf = conn.execute(
                select(Paper.title, Paper.keywords).where(Paper.in_hf.is_(True)).order_by(Paper.id)
            ).all()
    finally:
        store.close()
    if not days or not curated:
        raise SystemExit("the database has no curated days: import the HF daily papers first")
    day_urls = [f"/papers/date/{d.isoformat()}" for d in rnd.sample(days, min(300, len(days)))]
    day_urls = [u for i, u in enumerate(day_urls) for u in (["/", u] if i % 9 == 0 else [u])]
    ids = rnd.sample(curated, min(1400, len(curated))) + rnd.sample(
        everything, min(600, len(everything))
    )
    rnd.shuffle(ids)
    paper_urls = ["/papers/" + quote(a, safe="/") for a in ids]
    queries: list[str] = []
    for title, keywords in hf:
        queries.append(" ".join(title.split()))
        queries.extend(" ".join(k.split()[:3]) for k in (keywords or [])[:2])
    queries = rnd.sample(queries, min(500, len(queries)))
    search_urls = ["/api/papers/search?" + urlencode({"q": q}) for q in queries]
    trending_urls = [
        "/api/daily_papers?sort=trending",
        "/api/daily_papers?sort=trending&p=1",
        "/api/daily_papers?sort=trending&p=2",
        "/api/daily_papers?sort=trending&limit=20",
    ]
    if zipf is not None:  # popularity over the whole corpus: papers, days, queries
        every_day = [f"/papers/date/{d.isoformat()}" for d in days] + ["/"]
        day_urls = zipf_mix(every_day, zipf)
        paper_urls = zipf_mix(["/papers/" + quote(a, safe="/") for a in everything], zipf)
        search_urls = zipf_mix(search_urls, zipf)
    urls = {"day": day_urls, "paper": paper_urls, "search": search_urls, "trending": trending_urls}
    mix: list[str] = []
    cursors = dict.fromkeys(MIX, 0)
    for _ in range(2000 // sum(MIX.values())):
        for name, weight in MIX.items():
            for _ in range(weight):
                mix.append(urls[name][cursors[name] % len(urls[name])])
                cursors[name] += 1
    urls["mix"] = mix
    return urls


def run_wrk(
    base: str,
    urls: list[str],
    seconds: float,
    connections: int,
    threads: int,
    tmp: Path,
    headers: tuple[str, ...] = (),
) -> dict:
    """wrk over ``urls`` (paths under ``base``), each request with ``headers`` (``Name:
    value``); the figures of both kinds (the module's docstring)."""
    script, listing = tmp / "load.lua", tmp / "urls.txt"
    script.write_text(LUA.replace("@CONNECTIONS@", str(connections)))
    listing.write_text("\n".join(urls) + "\n")
    cmd = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s",
        *(x for h in headers for x in ("-H", h)), "-s", str(script), base, "--", str(listing),
    ]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRK "))
    r = json.loads(line[4:])
    errors = r["connect"] + r["read"] + r["write"] + r["status"] + r["timeout"]
    if r["timed"] != r["requests"] - r["timeout"]:  # the inversion must find every answer
        print(f"warning: {r['timed']} timed answers for {r['requests']} requests", file=sys.stderr)
    return {
        "requests": r["requests"],
        "req/s": r["requests"] / (r["duration_us"] / 1e6),
        "p50 ms": r["p50"] / 1000,
        "p95 ms": r["p95"] / 1000,
        "p99 ms": r["p99"] / 1000,
        "timed p50 ms": r["timed_p50"] / 1000,
        "timed p95 ms": r["timed_p95"] / 1000,
        "timed p99 ms": r["timed_p99"] / 1000,
        "errors": errors,
    }


async def _python_load(base: str, urls: list[str], seconds: float, connections: int) -> dict:
    import httpx

    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=10) as client:

        async def worker(start: int) -> None:
            nonlocal errors
            i = start
            while time.perf_counter() < deadline:
                t = time.perf_counter()
                try:
                    r = await client.get(urls[i % len(urls)])
                    await r.aread()
                    if r.status_code >= 400:
                        errors += 1
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - t)
                i += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(worker(random.randrange(len(urls))) for _ in range(connections)))
        elapsed = time.perf_counter() - t0
    timed = sorted(latencies)
    # wrk's correction, so that both clients print the same two kinds of figure
    per = len(timed) // connections
    both = corrected(timed, elapsed / per) if per else timed

    def pct(xs: list[float], p: float) -> float:
        return xs[min(len(xs) - 1, int(p / 100 * len(xs)))] * 1000

    return {
        "requests": len(timed),
        "req/s": len(timed) / elapsed,
        "p50 ms": pct(both, 50),
        "p95 ms": pct(both, 95),
        "p99 ms": pct(both, 99),
        "timed p50 ms": pct(timed, 50),
        "timed p95 ms": pct(timed, 95),
        "timed p99 ms": pct(timed, 99),
        "errors": errors,
    }


def corrected(timed: list[float], interval: float) -> list[float]:
    """wrk's coordinated-omission correction (``stats_correct`` in wrk.c) of sorted timings:
    an answer that took ``t >= 2 * interval`` also counts at ``t - interval``, ``t - 2 *
    interval``, ... while above ``interval``: the requests an open-loop client sending one
    request per ``interval`` on each connection would have had waiting meanwhile."""
    out = list(timed)
    for t in timed:
        if t >= 2 * interval:
            m = t - interval
            while m > interval:
                out.append(m)
                m -= interval
    out.sort()
    return out


def run_python(base: str, urls: list[str], seconds: float, connections: int) -> dict:
    return asyncio.run(_python_load(base, urls, seconds, connections))


def prime(base: str, urls: dict[str, list[str]], per_url: int = 8) -> None:
    """First use in every worker (the search index loads on the first search or paper page,
    which can take seconds): ask each endpoint's first URLs concurrently and wait (untimed)."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    firsts = [u for name in ENDPOINTS for u in urls[name][:per_url]]
    with httpx.Client(base_url=base, timeout=300) as client, ThreadPoolExecutor(16) as pool:
        t = time.perf_counter()
        for _ in range(2):
            statuses = list(pool.map(lambda u: client.get(u).status_code, firsts))
        bad = [s for s in statuses if s >= 400]
        print(f"primed in {time.perf_counter() - t:.1f} s ({len(bad)} errors)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("base", help="the server's base URL, e.g. http://127.0.0.1:8600")
    ap.add_argument("--db", help="database URL or SQLite path (default: the PAPERWIRE_* settings)")
    ap.add_argument("--duration", type=float, default=30.0, help="seconds per endpoint")
    ap.add_argument("--connections", type=int, default=100)
    ap.add_argument("--threads", type=int, default=1, help="wrk threads")
    ap.add_argument("--warmup", type=float, default=5.0, help="seconds per endpoint, 4 conns")
    ap.add_argument("--endpoints", default=",".join(ENDPOINTS), help="day,paper,search,...,mix")
    ap.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    ap.add_argument("--zipf", type=float, default=None, help="popularity exponent (e.g. 1.0)")
    args = ap.parse_args()
    base = args.base.rstrip("/")
    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"
    if client == "wrk" and not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk), or use --client python")
    urls = pick_urls(args.db, zipf=args.zipf)
    names = [n.strip() for n in args.endpoints.split(",") if n.strip()]
    unknown = [n for n in names if n not in urls]
    if unknown:
        raise SystemExit(f"unknown endpoint {unknown[0]!r}: choose from {', '.join(urls)}")
    prime(base, urls)
    print(f"client: {client}, {args.connections} connections, {args.duration:g} s per endpoint")
    print(f"url mix: {f'zipf, exponent {args.zipf:g}' if args.zipf is not None else 'round-robin'}")
    print(f"cpus: {os.cpu_count()}")
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            print(f"{name} urls: {len(urls[name])} (e.g. {urls[name][1]})")
            if args.warmup > 0:
                if client == "wrk":
                    run_wrk(base, urls[name], args.warmup, 4, 1, Path(tmp))
                else:
                    run_python(base, urls[name], args.warmup, 4)
            before = os.getloadavg()[0]
            if client == "wrk":
                r = run_wrk(
                    base, urls[name], args.duration, args.connections, args.threads, Path(tmp)
                )
            else:
                r = run_python(base, urls[name], args.duration, args.connections)
            after = os.getloadavg()[0]
            print(f"{name} load average (1 min) before / after: {before:.2f} / {after:.2f}")
            for key in ("req/s", "p50 ms", "p95 ms", "p99 ms", *TIMED):
                print(f"{name} {key}: {r[key]:.1f}")
            print(f"{name} errors: {r['errors']}")
            print(f"{name} requests: {r['requests']}")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
