"""Browsing helpers for the pages: the calendar jump and the as-you-type search suggestions.

``GET /papers/jump?day=2026-08-10&kind=week`` redirects to that day, week or month (the date
form on the listing pages; works without JavaScript).  ``GET /search/suggest?q=`` returns the
HTML fragment htmx shows under the header search box: a few lexical (BM25, stemmed) matches,
fast enough to answer at every pause in typing.  Stemming lets an unfinished word match
(``diffus`` finds "diffusion"); the full ``/search`` page has filters and meaning-based search.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from paperwire.search.lexical import Filters
from paperwire.ui.periods import BadPeriod, day_period, month_period, parse_day, week_period
from paperwire.ui.templating import PageError, render
from paperwire.web.search_routes import searcher

router = APIRouter(include_in_schema=False)

SUGGESTIONS = 5
MAX_QUERY = 200
PERIODS = {"day": day_period, "week": week_period, "month": month_period}


@router.get("/papers/jump")
def jump(request: Request, day: str = "", kind: str = "day") -> RedirectResponse:
    examples = [("Latest papers", "/"), ("Example day", "/papers/date/2026-08-21")]
    if kind not in PERIODS:
        raise PageError(400, f"unknown view {kind!r}: choose day, week or month", examples)
    try:
        when = parse_day(day)
    except BadPeriod as exc:
        raise PageError(400, f"{exc}: pick a day in the calendar", examples) from None
    return RedirectResponse(PERIODS[kind](when).url, status_code=303)


@router.get("/search/suggest", response_class=HTMLResponse)
def suggest(request: Request, q: str = "") -> HTMLResponse:
    q = q.strip()[:MAX_QUERY]
    items, total = [], 0
    if q:
        try:
            result = searcher(request).search(q, Filters(), limit=SUGGESTIONS, mode="lexical")
            items, total = result.items, result.total
        except Exception:  # suggestions are an extra: the full search page explains errors
            items, total = [], 0
    return render(request, "_suggest.html", q=q, items=items, total=total)
