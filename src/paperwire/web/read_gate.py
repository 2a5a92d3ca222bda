"""A worker computes one page at a time (two searches), the other requests wait in line.

A sync route runs in anyio's thread pool (40 threads).  Under load every cache miss of a
worker got its own thread, and the threads took turns on the GIL, which each SQLite call
hands over: at 2.9M papers, one worker, page cache off, 100 connections, a paper page cost
about 4 ms of CPU over HTTP against 1.1 ms in process, with 110,000-120,000 context switches
a second and a third of the CPU in the kernel.  One page at a time served 2.2-3.3x the
paper pages a second (docs/benchmarks.md, "One page at a time").

A search spends most of its time in tantivy and faiss, which run without the GIL, and its
lexical half runs on a thread of its own: two searches at a time served 63 a second where
one served 40 (and no gate 58), while two pages at a time served a quarter fewer than one.
So searches (``/search``, ``/api/papers/search``) wait in a line of their own, as wide
as the ``search_concurrency`` setting, and every other read in one ``read_concurrency`` wide.

The gate covers GET and HEAD requests that reach the routes: answers the page cache serves
never wait here (the cache and the hit lane sit outside it).  A request leaves the gate when
its answer starts, so a slow reader who drains a big page holds nothing, and requests wait
in arrival order (anyio's semaphore hands a freed place to the longest waiter).  Writes
(POST and the rest) are not gated: one may wait seconds for the database's write lock or
for arXiv, and must not hold up every reader of its worker.  A width of 0 turns a line off.

With pages one at a time and ``read_on_loop`` (SQLite's default), the day and paper pages
are computed on the event loop itself rather than on a thread (``ui/reads.py`` says why and
which): the gate marks the request, and a route wrapped by ``on_loop_when_gated`` sees the
mark.  Searches keep their threads.
"""

from __future__ import annotations

from contextlib import nullcontext

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paperwire.ui.reads import computing_on_loop

READS = frozenset({"GET", "HEAD"})
SEARCHES = frozenset({"/search", "/api/papers/search"})


class ReadGate:
    """Pure ASGI middleware: a FIFO semaphore for searches and one for the other reads."""

    def __init__(self, app: ASGIApp, pages: int, searches: int, on_loop: bool = False) -> None:
        self.app = app
        self.widths = {"pages": pages, "searches": searches}
        self.on_loop = on_loop  # pages computed on the event loop (Settings.resolved_read_on_loop)
        self._lines: dict[str, anyio.Semaphore] = {}  # made inside the event loop

    def kind(self, scope: Scope) -> str | None:
        """The line this request waits in ("pages" or "searches"), None when not gated."""
        if scope["type"] != "http" or scope["method"] not in READS:
            return None
        kind = "searches" if scope["path"] in SEARCHES else "pages"
        return kind if self.widths[kind] > 0 else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = self.kind(scope)
        if kind is None:
            await self.app(scope, receive, send)
            return
        if kind not in self._lines:
            self._lines[kind] = anyio.Semaphore(self.widths[kind])
        line = self._lines[kind]
        await line.acquire()
        held = True

        def release() -> None:
            nonlocal held
            if held:
                held = False
                line.release()

        async def send_and_release(message: Message) -> None:
            if message["type"] == "http.response.start":
                release()  # computed: the rest is sending, which a slow reader paces
            await send(message)

        marked = computing_on_loop() if self.on_loop and kind == "pages" else nullcontext()
        try:
            with marked:
                await self.app(scope, receive, send_and_release)
        finally:
            release()


def install(app) -> None:
    """Add the gate; call it before the page cache's ``install`` so that it runs inside."""
    s = app.state.settings
    if s.read_concurrency > 0 or s.search_concurrency > 0:
        app.add_middleware(
            ReadGate,
            pages=s.read_concurrency,
            searches=s.search_concurrency,
            on_loop=s.resolved_read_on_loop,
        )
