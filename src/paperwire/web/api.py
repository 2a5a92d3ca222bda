"""The JSON API, shaped like the Hugging Face papers API so its clients work unchanged.

``GET /api/daily_papers`` and ``GET /api/papers/{id}``, as ``huggingface_hub.HfApi`` calls them.
Errors are ``{"error": "..."}`` with a 4xx status, as HF answers.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from paperwire.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperwire.store import Store
from paperwire.store.trending import TrendingRepository
from paperwire.ui.api_schema import DailyItem, FullPaper, errors, query
from paperwire.ui.forms import flag
from paperwire.ui.hf_shapes import daily_item, full_paper, paper_object
from paperwire.ui.periods import BadPeriod, day_period, parse_period
from paperwire.web.pages import MAX_PAGE
from paperwire.web.search_routes import related_papers

router = APIRouter(prefix="/api", tags=["papers"])

API_SORTS = {"publishedAt": "publishedAt", "trending": "upvotes", "stars": "stars"}
MAX_LIMIT = 100
LIST_LIMIT = 120  # /api/papers, as the Hub caps its lists (search: hybrid.MAX_LIMIT)


class ApiError(Exception):
    def __init__(self, message: str, status_code: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


def _error(message: str, status_code: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status_code)


def _int(name: str, value: str | None, default: int, low: int, high: int | None) -> int:
    if value in (None, ""):
        return default
    if not re.fullmatch(r"-?[0-9]+", value):
        raise ApiError(f"{name} must be an integer, got {value!r}")
    n = int(value)
    if n < low or (high is not None and n > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ApiError(f"{name} must be {bound}, got {n}")
    return n


def _range(date_: str | None, week: str | None, month: str | None, submitter: str | None, store):
    given = [(k, v) for k, v in (("day", date_), ("week", week), ("month", month)) if v]
    if len(given) > 1:
        raise ApiError("give at most one of date, week and month")
    if given:
        kind, text = given[0]
        try:
            period = parse_period(kind, text)
        except BadPeriod as exc:
            raise ApiError(str(exc)) from None
        return period.start, period.end
    if submitter:
        return dt.date.min, dt.date.max
    latest = store.latest_day()
    if latest is None:
        return None
    period = day_period(latest)
    return period.start, period.end


STRING = {"type": "string"}


@router.get(
    "/daily_papers",
    summary="Daily papers",
    description="Curated papers of a day, an ISO week or a month (default: the latest day), "
    "as `huggingface_hub.HfApi.list_daily_papers` reads them.",
    responses={200: {"model": list[DailyItem], "description": "The papers"}, **errors(400)},
    openapi_extra={
        "parameters": [
            query("date", STRING, "YYYY-MM-DD"),
            query("week", STRING, "ISO week, YYYY-Www"),
            query("month", STRING, "YYYY-MM"),
            query("submitter", STRING, "HF username of the submitter"),
            query(
                "sort",
                {"type": "string", "enum": ["publishedAt", "trending", "stars"]},
                "publishedAt (default), trending or stars (GitHub stars)",
            ),
            query(
                "has_code",
                {"type": "string", "enum": ["0", "1"]},
                "1: only papers with a code repository",
            ),
            query(
                "p", {"type": "integer", "minimum": 0, "maximum": MAX_PAGE}, "page number, 0-based"
            ),
            query(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
                f"papers per page, 1 to {MAX_LIMIT} (50)",
            ),
        ]
    },  # fmt: skip
)
def daily_papers(request: Request) -> Any:
    # read here, not declared to FastAPI: a bad value is a 400 with our message, not a 422
    params = request.query_params
    date, week, month = params.get("date"), params.get("week"), params.get("month")
    submitter, sort = params.get("submitter"), params.get("sort")
    p, limit = params.get("p"), params.get("limit")
    store: Store = request.app.state.store
    try:
        sort_key = API_SORTS.get(sort or "publishedAt")
        if sort_key is None:
            raise ApiError(f"sort must be publishedAt, trending or stars, got {sort!r}")
        try:
            code = flag("has_code", params.get("has_code"))
        except ValueError as exc:
            raise ApiError(str(exc)) from None
        page = _int("p", p, 0, 0, MAX_PAGE)
        size = _int("limit", limit, 50, 1, MAX_LIMIT)
        span = _range(date, week, month, submitter, store)
    except ApiError as exc:
        return _error(exc.message, exc.status_code)
    if span is None:
        return []
    if sort == "trending" and not submitter:  # the documented score (docs/ranking.md)
        trends = TrendingRepository(store.engine)
        ranked = (
            trends.trending_in(span[0], span[1], offset=page * size, limit=size, has_code=code)
            if date or week or month
            else trends.trending(offset=page * size, limit=size, has_code=code)
        )
        return JSONResponse([daily_item(item.paper) for item in ranked.items])
    result = store.listed(
        span[0],
        span[1],
        sort=sort_key,
        submitter=submitter or None,
        has_code=code,
        offset=page * size,
        limit=size,
    )
    return JSONResponse([daily_item(paper) for paper in result.items])


def _cursor(text: str | None) -> int | None:
    """The store id a cursor stands for: an opaque token to clients (base64 of the id)."""
    if not text:
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        raw = ""
    if not raw.isdecimal() or not 0 < int(raw) < 2**63:
        raise ApiError("cursor is not one this server gave out: start again without it")
    return int(raw)


def _token(pid: int) -> str:
    return base64.urlsafe_b64encode(str(pid).encode()).decode().rstrip("=")


@router.get(
    "/papers",
    summary="All papers",
    description="Every paper, the most recently added first, as paper objects. Pages are "
    '`limit` long (1 to 120, default 50); the `Link` header\'s `rel="next"` URL (with its '
    "opaque `cursor`) is the next page, absent after the last, as the Hub paginates.",
    responses={200: {"model": list[FullPaper], "description": "The papers"}, **errors(400)},
    openapi_extra={
        "parameters": [
            query("cursor", STRING, "from a previous page's Link header"),
            query("limit", {"type": "integer", "minimum": 1, "maximum": LIST_LIMIT}, "papers"),
        ]
    },
)
def all_papers(request: Request) -> Any:
    params = request.query_params
    try:
        size = _int("limit", params.get("limit"), 50, 1, LIST_LIMIT)
        before = _cursor(params.get("cursor"))
    except ApiError as exc:
        return _error(exc.message, exc.status_code)
    papers, last = request.app.state.store.papers_before(before, size)
    headers = {}
    if last is not None:
        nxt = request.url.include_query_params(cursor=_token(last), limit=size)
        headers["Link"] = f'<{nxt}>; rel="next"'
    return JSONResponse([full_paper(p) for p in papers], headers=headers)


@router.get(
    "/papers/{arxiv_id:path}",
    summary="One paper",
    description="The paper object, as `huggingface_hub.HfApi.paper_info` reads it.",
    responses={200: {"model": FullPaper, "description": "The paper"}, **errors(400, 404)},
)
def paper(request: Request, arxiv_id: str) -> Any:
    try:
        canonical = parse_arxiv_id(arxiv_id).id
    except InvalidArxivId as exc:
        return _error(str(exc), 400)
    found = request.app.state.store.paper(canonical)
    if found is None:
        return _error(f"Paper {canonical} not found", 404)
    out = full_paper(found)
    out["relatedPapers"] = [paper_object(p) for p in related_papers(request, canonical)]
    return JSONResponse(out)
