"""Search in the browser (``/search``) and in HF's API shape (``GET /api/papers/search``).

Registered in ``web.app.EXTRA_ROUTERS``.  Filters live in the URL: ``from``, ``to``
(YYYY-MM-DD), ``category``, ``org``, ``min_upvotes``; ``sort`` is relevance, trending, date or
upvotes; ``p`` is the page.  Bad input always gets a helpful answer, never a 500.
"""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from paperwire.authors.names import MAX_NAME, display
from paperwire.search.hybrid import MAX_LIMIT, MODES, SORTS, HybridSearcher
from paperwire.search.lexical import Filters
from paperwire.store.views import PaperView
from paperwire.ui.api_schema import DailyItem, errors, query
from paperwire.ui.forms import flag
from paperwire.ui.hf_shapes import daily_item
from paperwire.ui.templating import render

router = APIRouter()
PAGE_SIZE = 20
API_DEFAULT_LIMIT = 50


class BadParam(ValueError):
    pass


def searcher(request: Request) -> HybridSearcher:
    """The app's searcher (``AppContext.searcher``: made on first use)."""
    return request.app.state.ctx.searcher()


RELATED_SORTS = ("relevance", "date", "upvotes")


def related_papers(
    request: Request,
    paper: str | PaperView,
    k: int = 5,
    sort: str = "relevance",
    *,
    titles: bool = False,
) -> list[PaperView]:
    """Top ``k`` nearest papers for the paper page and ``/api/papers/{id}``, nearest first or
    sorted by ``date`` (newest first) or ``upvotes``; [] if unknown.  ``paper``: its arXiv id
    or its view (whose store id saves a lookup); ``titles``: only ids, titles, dates and
    upvotes (what the page lists)."""
    try:
        if isinstance(paper, PaperView):
            found = searcher(request).related(paper.arxiv_id, k, pid=paper.pid, titles=titles)
        else:
            found = searcher(request).related(paper, k, titles=titles)
    except Exception:  # related papers are an extra: never break the paper page
        return []
    if sort == "date":
        found.sort(key=lambda p: p.published_at or datetime.min, reverse=True)
    elif sort == "upvotes":
        found.sort(key=lambda p: p.upvotes, reverse=True)
    return found


def date_param(name: str, value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadParam(f"{name} must be a date like 2026-08-20, got {value!r}") from None


def int_param(name: str, value: str | None, default: int, low: int, high: int) -> int:
    if value in (None, ""):
        return default
    try:
        n = int(value)
    except ValueError:
        raise BadParam(f"{name} must be a whole number, got {value!r}") from None
    if not low <= n <= high:
        raise BadParam(f"{name} must be between {low} and {high}, got {n}")
    return n


def date_range(params) -> tuple[date | None, date | None]:
    """``from`` and ``to``, checked: dates, in order."""
    start, end = date_param("from", params.get("from")), date_param("to", params.get("to"))
    if start and end and start > end:
        raise BadParam("'from' is after 'to': swap the dates")
    return start, end


def search_filters(params) -> Filters:
    start, end = date_range(params)
    return Filters(
        start=start,
        end=end,
        category=(params.get("category") or "").strip() or None,
        organization=(params.get("org") or "").strip() or None,
        min_upvotes=int_param("min_upvotes", params.get("min_upvotes"), 0, 0, 10**9),
        author=_author(params.get("author")),
        has_code=_flag("has_code", params.get("has_code")),
    )


def _flag(name: str, value: str | None) -> bool:
    try:
        return flag(name, value)
    except ValueError as exc:
        raise BadParam(str(exc)) from None


def _author(value: str | None) -> str | None:
    name = display(value or "")
    if len(name) > MAX_NAME:
        raise BadParam(f"author has at most {MAX_NAME} characters")
    return name or None


def choice_param(name: str, value: str | None, allowed: tuple[str, ...]) -> str:
    if not value:
        return allowed[0]
    if value not in allowed:
        raise BadParam(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


@router.get(
    "/api/papers/search",
    tags=["papers"],
    summary="Search papers",
    description="Hybrid (BM25 + embedding) search; the items have the shape of "
    "`/api/daily_papers`, as `huggingface_hub.HfApi.list_papers(query=...)` reads them. "
    "Optional filters: from, to, category, org, min_upvotes, author, has_code; sort: relevance, "
    "trending, date, upvotes, stars; offset; mode: hybrid, lexical, dense.",
    responses={200: {"model": list[DailyItem], "description": "The papers, best first"},
               **errors(400)},
    openapi_extra={"parameters": [
        query("q", {"type": "string", "maxLength": 250},
              "words, \"a phrase\", prefix*, -excluded (250 characters, as the Hub)"),
        query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}, "results (50)"),
        query("offset", {"type": "integer", "minimum": 0, "maximum": 10_000}, "skip this many"),
        query("from", {"type": "string", "format": "date"}, "first day, YYYY-MM-DD"),
        query("to", {"type": "string", "format": "date"}, "last day, YYYY-MM-DD"),
        query("category", {"type": "string"}, "arXiv category, e.g. cs.CL"),
        query("org", {"type": "string"}, "organization name"),
        query("min_upvotes", {"type": "integer", "minimum": 0}, "at least this many upvotes"),
        query("author", {"type": "string", "maxLength": MAX_NAME}, "an author's name"),
        query("has_code", {"type": "string", "enum": ["0", "1"]}, "1: papers with code only"),
        query("sort", {"type": "string", "enum": list(SORTS)}, "relevance (default)"),
        query("mode", {"type": "string", "enum": list(MODES)}, "hybrid (default)"),
    ]},
)  # fmt: skip
def api_search(request: Request) -> Response:
    params = request.query_params
    try:
        limit = int_param("limit", params.get("limit"), API_DEFAULT_LIMIT, 1, MAX_LIMIT)
        offset = int_param("offset", params.get("offset"), 0, 0, 10_000)
        filters = search_filters(params)
        sort = choice_param("sort", params.get("sort"), SORTS)
        mode = choice_param("mode", params.get("mode"), MODES)
        most = request.app.state.settings.api_max_query
        if len(params.get("q") or "") > most:
            raise BadParam(f"q must be at most {most} characters long")
    except BadParam as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    result = searcher(request).search(
        params.get("q"), filters, sort=sort, offset=offset, limit=limit, mode=mode
    )
    if result.query.empty:
        return JSONResponse({"error": " ".join(result.notes)}, status_code=400)
    headers = {"X-Total-Count": str(result.total)}
    if result.notes:
        headers["X-Search-Notes"] = " ".join(result.notes).encode("ascii", "replace").decode()
    return JSONResponse([daily_item(p) for p in result.items], headers=headers)


@router.get("/search", response_class=HTMLResponse, include_in_schema=False)
def search_page(request: Request) -> HTMLResponse:
    params = request.query_params
    q = (params.get("q") or "").strip()
    error, result = None, None
    page_no = 0
    try:
        filters = search_filters(params)
        sort = choice_param("sort", params.get("sort"), SORTS)
        page_no = int_param("p", params.get("p"), 0, 0, 500)
    except BadParam as exc:
        error, filters, sort = str(exc), Filters(), "relevance"
    trend = []
    if error is None:
        result = searcher(request).search(
            q, filters, sort=sort, offset=page_no * PAGE_SIZE, limit=PAGE_SIZE
        )
        if not result.query.empty and page_no == 0:
            trend = searcher(request).trend(q, filters)
    keep = {
        "q": q,
        "from": params.get("from"),
        "to": params.get("to"),
        "category": params.get("category"),
        "org": params.get("org"),
        "min_upvotes": params.get("min_upvotes"),
        "author": params.get("author"),
        "has_code": params.get("has_code"),
    }
    return render(
        request,
        "search.html",
        status_code=400 if error else 200,
        title=(f"{q} · " if q else "Search · ") + request.app.state.settings.site_name,
        q=q,
        error=error,
        result=result,
        sort=sort,
        sorts=SORTS,
        page_no=page_no,
        params=keep,
        terms=result.query.marked if result else [],
        trend=trend,
    )
