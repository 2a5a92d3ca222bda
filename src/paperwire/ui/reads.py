"""Pages a worker may compute on its event loop instead of a thread.

FastAPI runs a sync route in anyio's thread pool.  With pages computed one at a time per
worker (``web/read_gate.py``) the thread still costs a page dearly under load: the event loop
keeps serving cached pages, and every SQLite call of the page's thread hands the GIL over and
waits up to the switch interval (5 ms) to get it back, dozens of times a page.  At 2.9M
papers, two workers, 100 connections and a Zipf mix of paper pages, computing them on the
loop served about 1.6x the requests a second with a p95 a third lower (docs/benchmarks.md,
"Pages on the event loop").

A page computed on the loop holds up every other request of its worker, cached ones
included, for as long as it takes.  So only routes measured to cost a few milliseconds at
2.9M papers opt in, with :func:`on_loop_when_gated` under their route decorator: the day
page and the paper page (``bench/render_cpu.py``: about 3 and 1 ms).  The wrapper runs the
route in place when the read gate marked the request (:func:`computing_on_loop`: pages one
at a time, ``read_on_loop``), and in the thread pool otherwise (a database across a
network, where the loop would wait with the page; the gate off).  Every other route (an
author with thousands of papers, recommendations, searches, which spend their time without
the GIL in tantivy and faiss) keeps its thread.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

from starlette.concurrency import run_in_threadpool

_ON_LOOP: ContextVar[bool] = ContextVar("paperwire_read_on_loop", default=False)


@contextlib.contextmanager
def computing_on_loop() -> Iterator[None]:
    """Within: a route wrapped by :func:`on_loop_when_gated` runs on the event loop (the
    read gate marks a page's request so)."""
    token = _ON_LOOP.set(True)
    try:
        yield
    finally:
        _ON_LOOP.reset(token)


def on_loop_when_gated(route: Callable[..., Any]) -> Callable[..., Any]:
    """``route`` (sync) as a coroutine that runs it in place when the request is marked,
    in the thread pool otherwise.  Put it under the route decorator; FastAPI reads the
    parameters and annotations of the wrapped function (``__wrapped__``)."""

    @functools.wraps(route)
    async def run(*args: Any, **kwargs: Any) -> Any:
        if _ON_LOOP.get():
            return route(*args, **kwargs)
        return await run_in_threadpool(route, *args, **kwargs)

    return run
