"""Read routes a worker may compute on its event loop instead of a thread.

FastAPI runs a sync route in anyio's thread pool.  With pages computed one at a time per
worker (``web/read_gate.py``) the thread still costs a page dearly under load: the event loop
keeps serving cached pages, and every SQLite call of the page's thread hands the GIL over and
waits up to the switch interval (5 ms) to get it back, dozens of times a page.  At 2.9M
papers, two workers, 100 connections and a Zipf mix of paper pages, computing them on the
loop served about 1.6x the requests a second with a p95 a third lower (docs/benchmarks.md,
"Pages on the event loop").

:class:`ReadRouter` registers every sync GET route wrapped: the wrapper calls the route
directly when the read gate has marked the request (:func:`computing_on_loop`), and in the
thread pool otherwise (searches, which spend their time without the GIL in tantivy and faiss;
a database across a network, where the loop would wait with the page; the gate off).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

_ON_LOOP: ContextVar[bool] = ContextVar("paperwire_read_on_loop", default=False)
READS = frozenset({"GET", "HEAD"})


@contextlib.contextmanager
def computing_on_loop() -> Iterator[None]:
    """Within: sync read routes of this request run on the event loop (the read gate's)."""
    token = _ON_LOOP.set(True)
    try:
        yield
    finally:
        _ON_LOOP.reset(token)


def on_loop_when_gated(route: Callable[..., Any]) -> Callable[..., Any]:
    """``route`` (sync) as a coroutine that runs it in place when the request is marked,
    in the thread pool otherwise.  FastAPI reads the parameters and annotations of the
    wrapped function (``__wrapped__``)."""

    @functools.wraps(route)
    async def run(*args: Any, **kwargs: Any) -> Any:
        if _ON_LOOP.get():
            return route(*args, **kwargs)
        return await run_in_threadpool(route, *args, **kwargs)

    return run


class ReadRouter(APIRouter):
    """An ``APIRouter`` whose sync GET routes may run on the event loop (see above)."""

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        methods = kwargs.get("methods")
        if methods and set(methods) <= READS and not inspect.iscoroutinefunction(endpoint):
            endpoint = on_loop_when_gated(endpoint)
        super().add_api_route(path, endpoint, **kwargs)
