"""The web application: server-rendered pages, the HF-compatible JSON API, static files.

``paperwire serve`` runs ``create_app`` as a uvicorn factory (settings from the environment).
Tests pass their own ``Settings`` and ``Store``.
"""

from __future__ import annotations

import gc
import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from paperwire import __version__
from paperwire.authors.names import author_url
from paperwire.community import web as community
from paperwire.community.security import route_methods
from paperwire.context import AppContext
from paperwire.settings import Settings
from paperwire.store import Store
from paperwire.ui.templating import make_env, render
from paperwire.web import (
    api,
    authors,
    browse,
    cache_lane,
    cards,
    collections,
    docs,
    feeds,
    pages,
    paper_pages,
    read_gate,
    search_routes,
    subscribe,
    trends,
)
from paperwire.web import cache as page_cache
from paperwire.web.foryou import is_saved_global
from paperwire.web.foryou import router as foryou_router
from paperwire.web.security_headers import SECURITY_HEADERS, SecurityHeaders
from paperwire.web.status_page import router as status_router
from paperwire.web.sync_page import router as sync_router

STATIC = Path(__file__).parent / "static"
log = logging.getLogger("paperwire.web")

# Extra routers: other parts of paperwire (search, feeds, ...) add theirs here.
# Each entry is an ``APIRouter``; they are included BEFORE the built-in ones, so that the
# catch-all paper routes (``/papers/{id}``, ``/api/papers/{id}``) do not shadow e.g.
# ``/api/papers/search``; they must not reuse a built-in path.  Example:
#     from paperwire.web import search
#     EXTRA_ROUTERS.append(search.router)
EXTRA_ROUTERS: list = [search_routes.router, feeds.router, subscribe.router]
EXTRA_ROUTERS += community.ROUTERS  # accounts, votes, submit, comments, orgs, trending
EXTRA_ROUTERS.append(sync_router)  # /sync and /api/sync: the sync status
EXTRA_ROUTERS.append(foryou_router)  # /for-you, /me/library, not interested
EXTRA_ROUTERS.append(browse.router)  # /papers/jump (calendar) and /search/suggest (htmx)
EXTRA_ROUTERS.append(authors.router)  # /authors/{name}, its feeds, /api/authors/{name}
EXTRA_ROUTERS.append(trends.router)  # /api/trend: papers per month
EXTRA_ROUTERS.append(status_router)  # /status, /api/status (administrators)
EXTRA_ROUTERS.append(collections.router)  # /collections, /api/collections/{id}


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)  # (registered for it alone)
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 405:
        # every method taken at this path (Starlette names the first route's only, and
        # /login has a GET route and a POST route)
        methods = route_methods(request.scope) or set()
        exc.headers = {**(exc.headers or {}), "Allow": ", ".join(sorted(methods))}
    if _is_api(request):
        return JSONResponse({"error": detail}, status_code=exc.status_code, headers=exc.headers)
    response = render(
        request,
        "error.html",
        status_code=exc.status_code,
        title=f"{exc.status_code} · {request.app.state.settings.site_name}",
        status=exc.status_code,
        message=detail,
        suggestions=getattr(exc, "suggestions", None) or [],
    )
    if exc.headers:  # Retry-After on a 429, Allow on a 405: the page keeps them too
        response.headers.update(exc.headers)
    return response


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)  # (registered for it alone)
    parts = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err.get("loc", ()) if x not in ("query", "path"))
        parts.append(f"{loc}: {err.get('msg')}" if loc else str(err.get("msg")))
    message = "; ".join(parts) or "invalid request"
    if _is_api(request):
        return JSONResponse({"error": message}, status_code=400)
    return render(
        request, "error.html", status_code=400, status=400, message=message, suggestions=[]
    )


async def _server_error(request: Request, exc: Exception) -> Response:
    """A 500 that says what to do next (the traceback goes to the log, never to the page)."""
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    message = "Something went wrong on our side while making this page; it has been logged."
    headers = {k.decode(): v.decode() for k, v in SECURITY_HEADERS}
    if _is_api(request):
        return JSONResponse({"error": message}, status_code=500, headers=headers)
    try:
        response = render(
            request,
            "error.html",
            status_code=500,
            status=500,
            message=message + " Reload in a moment, or go on from here:",
            suggestions=[("Search papers", "/search"), ("This week", "/papers/week")],
        )
    except Exception:  # the templates themselves may be what failed
        response = HTMLResponse(
            "<!doctype html><title>Server error</title><h1>Server error</h1>"
            f"<p>{message}</p><p><a href='/'>Latest daily papers</a></p>",
            status_code=500,
        )
    response.headers.update(headers)
    return response


def freeze_startup_objects() -> None:
    """Put what a worker has loaded by now (modules, templates, the store's metadata, the
    search index's maps: about 190,000 objects at 183k papers) out of the garbage collector's
    reach.  Every full collection walked them all, 150-230 ms each in a loaded worker, and
    those pauses were the hot path's p99 (docs/benchmarks.md).  Only in a serving worker:
    tests build many apps in one process, and frozen objects are never freed."""
    gc.collect()
    gc.freeze()


def configure_logging() -> None:
    """paperwire's own log lines (schedules, index follower) on stderr, once per process."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(
            level=logging.INFO,
            format="%(asctime)s %(levelname)s %(name)s [%(process)d] %(message)s",
        )
        logging.getLogger("httpx").setLevel(logging.WARNING)


def _openapi(app: FastAPI) -> dict:
    """FastAPI's document, told the truth: invalid input is answered 400 with ``{"error"}``
    (``_validation_error``), never FastAPI's 422 validation body, so those entries go."""
    if app.openapi_schema is None:
        from fastapi.openapi.utils import get_openapi

        doc = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        for ops in doc.get("paths", {}).values():
            for op in ops.values():
                gone = op.get("responses", {}).get("422", {})
                if "HTTPValidationError" in str(gone):
                    del op["responses"]["422"]
        schemas = doc.get("components", {}).get("schemas", {})
        if "HTTPValidationError" not in str(doc.get("paths")):
            schemas.pop("HTTPValidationError", None)
            schemas.pop("ValidationError", None)
        app.openapi_schema = doc
    return app.openapi_schema


def create_app(settings: Settings | None = None, store: Store | None = None) -> FastAPI:
    """The web app over one :class:`AppContext` (the composition root): a real server's
    worker opens its own store and follows the database; tests hand in their store."""
    ctx = AppContext(settings or Settings(), store)
    settings, serving = ctx.settings, store is None
    store = ctx.store

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        if serving:  # a real server: follow the database (and maybe run the embedding job)
            configure_logging()
            ctx.start_follower()
        # (the embedder only without a follower) background work starts here, never from
        # a request
        ctx.start_embedder()
        if serving:
            freeze_startup_objects()
        yield
        ctx.close()

    app = FastAPI(
        lifespan=lifespan,
        title=settings.site_name,
        version=__version__,
        description="Daily papers, served the way the Hugging Face papers API serves them.",
        docs_url=None,  # our own /docs page, rendered without JavaScript or a CDN
        redoc_url=None,
        openapi_url="/openapi.json",
        telemetry=None
        if settings.opentelemetry
        else {"tracing": False, "metrics": False, "logs": False},
    )
    app.state.ctx = ctx
    app.state.settings = settings
    app.state.store = store
    app.state.jinja = make_env()
    # FastAPI documents replacing the method as the way to customize the schema
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]

    read_gate.install(app)  # one page computed at a time per worker, innermost: after a miss
    page_cache.install(app)  # anonymous GETs from memory; runs inside the next
    community.install(app)  # sessions, CSRF on every unsafe request, rate limits
    app.state.jinja.globals["is_saved"] = is_saved_global(store)  # the Save buttons
    app.state.jinja.globals["author_url"] = author_url  # author names link to their pages
    app.state.jinja.globals["author_links"] = authors.author_links
    app.state.jinja.globals.update(cards.GLOBALS)  # paper_card and its parts (web/cards.py)
    app.state.jinja.globals["my_collections"] = collections.my_collections_global(store)
    app.add_middleware(SecurityHeaders)
    cache_lane.install(app)  # cached pages for signed-out readers, before all of the above
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _server_error)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    # the pages readers ask most, first: FastAPI tries routes in order, about 1.4 us each
    # (the listing pages' addresses match no other router's; see paper_pages.first)
    app.include_router(pages.router)
    app.include_router(paper_pages.first)
    for router in EXTRA_ROUTERS:
        app.include_router(router)
    app.include_router(api.router)
    app.include_router(docs.router)
    app.include_router(paper_pages.router)
    return app
