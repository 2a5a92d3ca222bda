"""``/api/trend``: papers per month for a search, an author or an organization, the series
the pages chart (``trend_chart`` in ``_macros.html``; docs/trends.md)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from paperwire.authors.names import MAX_NAME, display
from paperwire.core.trend import MONTHS, MonthCount, as_json, count_by_month, months_until
from paperwire.store.facts import PaperFacts
from paperwire.ui.api_schema import errors, query
from paperwire.web.collections import collection_trend, public_papers
from paperwire.web.search_routes import BadParam, int_param, search_filters, searcher

router = APIRouter()
MAX_MONTHS = 240


def organization_trend(request: Request, name: str, months: int = MONTHS) -> list[MonthCount]:
    store = request.app.state.store
    last = PaperFacts(store.engine).latest_day()
    if last is None:
        return []
    return count_by_month(
        PaperFacts(store.engine).organization_days(name), months_until(last, months)
    )


@router.get(
    "/api/trend",
    tags=["papers"],
    summary="Papers per month",
    description="How many papers, and their upvotes, per month over the last `months` months "
    "(60) up to the newest paper: for a search `q` (papers with every word; the search "
    "filters apply), an `author`, an organization `org` or a public `collection` (its id). "
    "Exactly one of them.",
    responses={200: {"description": "The series, oldest month first"}, **errors(400, 404)},
    openapi_extra={"parameters": [
        query("q", {"type": "string", "maxLength": 250}, "words, \"a phrase\", -excluded"),
        query("author", {"type": "string", "maxLength": MAX_NAME}, "an author's name"),
        query("org", {"type": "string"}, "an organization's name"),
        query("collection", {"type": "integer", "minimum": 1}, "a public collection's id"),
        query("months", {"type": "integer", "minimum": 1, "maximum": MAX_MONTHS}, "(60)"),
    ]},
)  # fmt: skip
def api_trend(request: Request) -> Response:
    params = request.query_params
    q, author, org = params.get("q"), params.get("author"), params.get("org")
    collection = params.get("collection")
    try:
        if sum(1 for v in (q, author, org, collection) if v) != 1:
            raise BadParam("give exactly one of q, author, org or collection")
        months = int_param("months", params.get("months"), MONTHS, 1, MAX_MONTHS)
        if q:
            if len(q) > request.app.state.settings.api_max_query:
                raise BadParam("q must be at most 250 characters long")
            series = searcher(request).trend(q, search_filters(params), months)
        elif author:
            name = display(author)
            if len(name) > MAX_NAME:
                raise BadParam(f"author has at most {MAX_NAME} characters")
            last = PaperFacts(request.app.state.store.engine).latest_day()
            papers = request.app.state.ctx.authors().papers_of(name)
            if not papers or last is None:
                return JSONResponse({"error": f"no paper has an author named {name!r}"}, 404)
            series = count_by_month(
                ((p.day, p.upvotes) for p in papers), months_until(last, months)
            )
        elif collection:
            cid = int_param("collection", collection, 0, 1, 2**31 - 1)
            papers = public_papers(request, cid)
            if papers is None:
                return JSONResponse({"error": f"there is no public collection {cid}"}, 404)
            series = collection_trend(request, papers, months)
        else:
            if request.app.state.store.organization(org) is None:
                return JSONResponse({"error": f"no organization named {org!r}"}, 404)
            series = organization_trend(request, org or "", months)
    except BadParam as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    return JSONResponse({"months": as_json(series)})
