"""The hot path against its limit: one cached page from ``paperwire serve`` and the same HTML
from nginx, in the same run, at the same concurrency.  Prints one figure per line.

    python bench/hot_path.py DATA_DIR [--path /papers/date/2026-08-21] [--seconds 10]

DATA_DIR is a data directory that ``paperwire import`` filled. paperwire runs with 2 workers
(sync, digests, the follower and the embedding job off) and its page cache on, as shipped;
nginx (2 workers, access log off) serves the page's HTML saved as a static file. Each server
gets 5 s of warm-up, then ``wrk -t1 -c100`` with ``bench/load.py``'s script (one wrk thread:
on 2 cores the load generator must not starve the server), which gives wrk's percentiles
(corrected for coordinated omission) and the ones as timed (``timed``). paperwire is
measured twice: as wrk asks by default, without a cookie (every request a new reader, who
gets a session and a CSRF token), and as a returning reader, with the cookie of a first
visit. ``--follower`` runs paperwire as shipped, with the index follower on (every 2 s), and
waits ``--settle`` seconds before measuring, so that the follower's first round after the
start (it re-reads the overlap window before its watermark) is over. ``--server granian``
runs the same app under Granian (``pip install granian``: a Rust HTTP server) with 2 workers
instead of ``paperwire serve``'s uvicorn, to measure the server stack. ``--ceiling`` also
measures a bare ASGI app that answers every request with the same bytes under uvicorn as
``paperwire serve`` runs it (2 workers, uvloop, httptools, no access log): the most any app
can do on this server stack.
Needs wrk and nginx (Debian packages).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import run_wrk  # noqa: E402

BARE_APP = """
import os
BODY = open(os.environ["BARE_PAGE"], "rb").read()
HEAD = [(b"content-type", b"text/html; charset=utf-8"),
        (b"content-length", str(len(BODY)).encode())]
async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEAD})
    await send({"type": "http.response.body", "body": BODY})
"""

NGINX_CONF = """
worker_processes 2;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    client_body_temp_path {tmp}; proxy_temp_path {tmp}; fastcgi_temp_path {tmp};
    uwsgi_temp_path {tmp}; scgi_temp_path {tmp};
    server {{
        listen 127.0.0.1:{port};
        location / {{ root {tmp}/www; default_type text/html; try_files /page.html =404; }}
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(url: str) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{url} did not answer")


def wrk(url: str, seconds: int, cookie: str = "") -> dict[str, float]:
    """5 s of warm-up at 4 connections, then ``seconds`` at 100 through ``bench/load.py``'s
    wrk script, which also undoes wrk's coordinated-omission correction (``timed``)."""
    header = ("Cookie: " + cookie,) if cookie else ()
    warm = [x for h in header for x in ("-H", h)]
    subprocess.run(["wrk", "-t1", "-c4", "-d5s", *warm, url], capture_output=True, check=True)
    parts = urlsplit(url)
    with tempfile.TemporaryDirectory() as tmp:
        got = run_wrk(
            f"{parts.scheme}://{parts.netloc}", [parts.path or "/"], seconds, 100, 1, Path(tmp),
            headers=header,
        )  # fmt: skip
    keys = ("req/s", "p50 ms", "p99 ms", "timed p50 ms", "timed p99 ms")
    return {k: got[k] for k in keys}


def bare(tmp: str, seconds: int) -> dict[str, float]:
    """wrk against the bare ASGI app (``BARE_APP``) serving ``tmp``'s page under uvicorn."""
    (Path(tmp) / "bare.py").write_text(BARE_APP)
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", "bare:app", "--app-dir", tmp, "--port", str(port)]
    cmd += ["--workers", "2", "--loop", "uvloop", "--http", "httptools", "--no-access-log"]
    env = {**os.environ, "BARE_PAGE": str(Path(tmp) / "www" / "page.html")}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait(f"http://127.0.0.1:{port}/")
        return wrk(f"http://127.0.0.1:{port}/", seconds)
    finally:
        proc.terminate()
        proc.wait(60)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data", type=Path)
    ap.add_argument("--path", default="/papers/date/2026-08-21")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--follower", action="store_true", help="the index follower on, as shipped")
    ap.add_argument("--settle", type=int, default=45, help="seconds to wait with --follower")
    ap.add_argument("--server", choices=("uvicorn", "granian"), default="uvicorn")
    ap.add_argument("--ceiling", action="store_true", help="also a bare ASGI app, same stack")
    args = ap.parse_args()
    env = {
        **os.environ,
        "PAPERWIRE_DATA_DIR": str(args.data),
        "PAPERWIRE_SYNC_ENABLED": "false",
        "PAPERWIRE_DIGEST_ENABLED": "false",
        "PAPERWIRE_EMBED_CONTEXTUAL": "false",
        "PAPERWIRE_INDEX_FOLLOW_INTERVAL": "2" if args.follower else "0",
    }
    print(f"cpu cores: {os.cpu_count()}, load average at start: {os.getloadavg()[0]:.2f}")
    print(f"index follower: {'on, every 2 s' if args.follower else 'off'}")
    port, nport = free_port(), free_port()
    cmd = [sys.executable, "-m", "paperwire.cli", "serve", "--port", str(port), "--workers", "2"]
    cmd += ["--no-sync"]
    if args.server == "granian":
        cmd = ["granian", "--interface", "asgi", "--factory", "--workers", "2", "--port",
               str(port), "--no-access-log", "paperwire.web.app:create_app"]  # fmt: skip
    print(f"server: {args.server}")
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            url = f"http://127.0.0.1:{port}{args.path}"
            wait(url)
            if args.follower:
                time.sleep(args.settle)
            first = httpx.get(url, timeout=30)
            page = first.content
            # a returning reader: the anonymous session (and CSRF token) of their first visit
            cookie = "; ".join(f"{k}={v}" for k, v in first.cookies.items())
            (Path(tmp) / "www").mkdir()
            (Path(tmp) / "www" / "page.html").write_bytes(page)
            conf = Path(tmp) / "nginx.conf"
            conf.write_text(NGINX_CONF.format(tmp=tmp, port=nport))
            subprocess.run(["nginx", "-c", str(conf), "-p", tmp], check=True)
            try:
                wait(f"http://127.0.0.1:{nport}/")
                print(f"page: {args.path}, {len(page):,} bytes")
                figures = {
                    "nginx": wrk(f"http://127.0.0.1:{nport}/", args.seconds),
                    "paperwire": wrk(url, args.seconds),
                    "paperwire, returning reader": wrk(url, args.seconds, cookie),
                }
                if args.ceiling:
                    figures["bare ASGI app"] = bare(tmp, args.seconds)
            finally:
                subprocess.run(["nginx", "-c", str(conf), "-p", tmp, "-s", "stop"], check=False)
        finally:
            server.terminate()
            server.wait(60)
    for name, got in figures.items():
        for k, v in got.items():
            print(f"{name} {k}: {v:.1f}")
    ngx = figures["nginx"]
    for name in [n for n in figures if n != "nginx"]:
        pw = figures[name]
        print(f"ratio req/s (nginx / {name}): {ngx['req/s'] / pw['req/s']:.2f}")
        print(f"ratio p99 ({name} / nginx): {pw['p99 ms'] / ngx['p99 ms']:.2f}")
        print(f"ratio timed p99 ({name} / nginx): {pw['timed p99 ms'] / ngx['timed p99 ms']:.2f}")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
