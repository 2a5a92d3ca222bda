"""The read gate (web/read_gate.py): a worker computes one page at a time and two searches,
in arrival order; writes are not held; a reader that drains its answer slowly, or a page
that fails, frees its place.  A real uvicorn server on loopback, real HTTP clients in
threads, sync routes that sleep and count how many of them run at once."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse, StreamingResponse
from starlette.routing import Route

from conftest import LiveServer
from paperwire.settings import Settings
from paperwire.ui.reads import on_loop_when_gated
from paperwire.web.app import create_app
from paperwire.web.read_gate import ReadGate

BUSY = 0.25  # seconds a probed route takes


class Probe:
    """How many probed requests run at once, at most, and in which order they started."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = self.peak = 0
        self.started: list[str] = []
        self.arrived: list[str] = []  # as the server saw them, before the gate

    def work(self, name: str) -> None:
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
            self.started.append(name)
        time.sleep(BUSY)
        with self.lock:
            self.now -= 1


@pytest.fixture
def served():
    probe, drained = Probe(), threading.Event()

    def busy(request):  # sync: runs in the thread pool, as the app's pages do
        probe.work(request.query_params.get("n", ""))
        return PlainTextResponse("done")

    def boom(request):
        raise RuntimeError("a page that fails")

    def slow_body(request):
        def body():
            yield b"first part "
            drained.wait(10)  # the reader has the start of the answer; the rest waits
            yield b"rest"

        return StreamingResponse(body(), media_type="text/plain")

    app = Starlette(
        routes=[
            Route("/page", busy, methods=["GET", "POST"]),
            Route("/search", busy),
            Route("/boom", boom),
            Route("/slow", slow_body),
        ]
    )
    app.add_middleware(ReadGate, pages=1, searches=2)

    def arrivals(inner):  # outermost: the order in which requests reached the server
        async def asgi(scope, receive, send):
            if scope["type"] == "http" and scope["path"] == "/page":
                probe.arrived.append(parse_qs(scope["query_string"].decode()).get("n", [""])[0])
            await inner(scope, receive, send)

        return asgi

    app.add_middleware(arrivals)
    with LiveServer(app) as server:
        yield server.url, probe, drained
    drained.set()


def _at_once(url: str, requests: list[tuple[str, str]]) -> list[int]:
    """Send ``requests`` ((method, path)) together, one client each; their statuses."""

    def one(req: tuple[str, str]) -> int:
        with httpx.Client(base_url=url, timeout=30) as c:
            return c.request(*req).status_code

    with ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(one, requests))


def test_pages_are_computed_one_at_a_time_in_arrival_order(served):
    url, probe, _ = served

    def one(n: int) -> int:
        time.sleep(n * 0.05)  # arrive in order 0, 1, 2, 3
        with httpx.Client(base_url=url, timeout=30) as c:
            return c.get(f"/page?n={n}").status_code

    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(one, range(4)))
    assert statuses == [200] * 4
    assert probe.peak == 1
    # in the order they reached the server (on a busy machine the clients' threads may
    # not send them in the order they were started)
    assert sorted(probe.started) == ["0", "1", "2", "3"]
    assert probe.started == probe.arrived


def test_searches_have_their_own_line_two_wide(served):
    url, probe, _ = served
    assert _at_once(url, [("GET", "/search")] * 4) == [200] * 4
    assert probe.peak == 2


def test_writes_are_not_held_in_line(served):
    url, probe, _ = served
    assert _at_once(url, [("POST", "/page")] * 3) == [200] * 3
    assert probe.peak == 3


def test_a_slow_reader_holds_no_place_once_the_answer_started(served):
    url, _probe, drained = served
    with httpx.Client(base_url=url, timeout=30) as slow, slow.stream("GET", "/slow") as r:
        parts = r.iter_bytes()
        assert next(parts).startswith(b"first part")  # the answer has started
        t = time.monotonic()
        with httpx.Client(base_url=url, timeout=5) as c:
            assert c.get("/page").status_code == 200  # not waiting for the slow reader
        assert time.monotonic() - t < 3
        drained.set()
        assert b"".join(parts).endswith(b"rest")


def test_a_failing_page_frees_its_place(served):
    url, _probe, _ = served
    with httpx.Client(base_url=url, timeout=5) as c:
        assert c.get("/boom").status_code == 500  # (the server closes this connection)
    with httpx.Client(base_url=url, timeout=5) as c:
        assert c.get("/page").status_code == 200  # would time out if the place were kept


def _gate(settings: Settings) -> ReadGate | None:
    """The gate the app for ``settings`` builds, None when it builds none."""
    app = create_app(settings)
    try:
        found = [m for m in app.user_middleware if m.cls is ReadGate]
        return found[0] if found else None
    finally:
        app.state.ctx.close()


def test_the_app_gates_reads_as_its_settings_say(tmp_path):
    db = f"sqlite:///{tmp_path / 'paperwire.db'}"
    shipped = _gate(Settings(database_url=db))
    assert shipped is not None
    assert shipped.kwargs == {"pages": 1, "searches": 2, "on_loop": True}
    wider = _gate(Settings(database_url=db, read_concurrency=4, search_concurrency=0))
    assert wider is not None and wider.kwargs == {"pages": 4, "searches": 0, "on_loop": False}
    assert _gate(Settings(database_url=db, read_concurrency=0, search_concurrency=0)) is None
    threads = _gate(Settings(database_url=db, read_on_loop=False))
    assert threads is not None and threads.kwargs["on_loop"] is False


def test_pages_on_the_loop_by_default_for_sqlite_only():
    assert Settings(database_url="sqlite:///x.db").resolved_read_on_loop
    assert not Settings(database_url="postgresql+psycopg://h/db").resolved_read_on_loop
    assert Settings(
        database_url="postgresql+psycopg://h/db", read_on_loop=True
    ).resolved_read_on_loop
    assert not Settings(database_url="sqlite:///x.db", read_concurrency=2).resolved_read_on_loop


def _where_routes_run(on_loop: bool) -> dict[str, bool]:
    """For each route of an app behind the gate: whether it ran on the event loop's
    thread."""
    router, seen = APIRouter(), {}

    @router.get("/loop")
    async def loop_thread() -> int:
        return threading.get_ident()

    @router.get("/page")
    @on_loop_when_gated
    def page(n: int = 0) -> int:  # a sync page route, its parameters read as usual
        seen["page"] = threading.get_ident()
        return n + 1

    @router.get("/other")
    def other() -> int:  # a page that did not opt in
        seen["other"] = threading.get_ident()
        return 0

    @router.get("/search")
    @on_loop_when_gated
    def search() -> int:  # in the searches' line, which the gate never marks
        seen["search"] = threading.get_ident()
        return 0

    @router.post("/page")
    def write() -> int:
        seen["write"] = threading.get_ident()
        return 0

    app = FastAPI()
    app.include_router(router)
    app.add_middleware(ReadGate, pages=1, searches=2, on_loop=on_loop)
    with TestClient(app) as client:
        loop = client.get("/loop").json()
        assert client.get("/page", params={"n": 41}).json() == 42
        assert client.get("/other").status_code == 200
        assert client.get("/search").status_code == 200
        assert client.post("/page").status_code == 200
    return {name: ident == loop for name, ident in seen.items()}


def test_pages_run_on_the_event_loop_when_the_gate_says_so():
    off = {"page": False, "other": False, "search": False, "write": False}
    assert _where_routes_run(on_loop=True) == {**off, "page": True}
    assert _where_routes_run(on_loop=False) == off
