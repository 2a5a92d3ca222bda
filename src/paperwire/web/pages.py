"""The listing pages: the latest day, a day (curated and arXiv tabs), an ISO week, a month."""

from __future__ import annotations

import re
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from paperwire.store import Store
from paperwire.store.trending import TrendingRepository
from paperwire.store.views import Page
from paperwire.ui.forms import flag
from paperwire.ui.periods import (
    BadPeriod,
    Period,
    day_period,
    month_period,
    parse_period,
    week_period,
)
from paperwire.ui.reads import on_loop_when_gated
from paperwire.ui.templating import PageError, day_url, render

router = APIRouter(include_in_schema=False)

PAGE_SORTS = ("upvotes", "trending", "publishedAt", "stars")
TABS = ("papers", "arxiv")


def _store(request: Request) -> Store:
    return request.app.state.store


MAX_PAGE = 1_000_000  # page * page size stays far inside a 64-bit SQL integer


def page_number(p: str | None) -> int:
    if p in (None, ""):
        return 0
    if not re.fullmatch(r"-?[0-9]+", p):
        raise PageError(400, f"page {p!r} is not a number: use ?p=0, ?p=1, ...")
    n = int(p)
    if n < 0:
        raise PageError(400, "the page number cannot be negative: use ?p=0 for the first page")
    if n > MAX_PAGE:
        raise PageError(400, f"the page number is too large: pages go up to {MAX_PAGE:,}")
    return n


def _sort(sort: str | None, period: Period | None = None) -> str:
    if sort in (None, ""):
        return "upvotes"
    if sort not in PAGE_SORTS:
        back = [("Sorted by upvotes", period.url)] if period else []
        raise PageError(
            400, f"unknown sort {sort!r}: use upvotes, trending, publishedAt or stars", back
        )
    return sort


def has_code_flag(value: str | None) -> bool:
    """``has_code=1`` (or true/yes/on): only papers with a code repository."""
    try:
        return flag("has_code", value, words=True)
    except ValueError as exc:
        raise PageError(400, str(exc)) from None


def _curated_page(
    store: Store, start: date, end: date, sort: str, page_no: int, size: int, has_code: bool
):
    """One page of the curated papers listed in [start, end]; ``trending`` is the documented
    score (docs/ranking.md) as of the end of the period, the same as the API's."""
    if sort != "trending":
        return store.listed(
            start, end, sort=sort, has_code=has_code, offset=page_no * size, limit=size
        )
    ranked = TrendingRepository(store.engine).trending_in(
        start, end, offset=page_no * size, limit=size, has_code=has_code
    )
    total = store.listed(start, end, has_code=has_code, limit=0).total
    return Page([item.paper for item in ranked.items], total, page_no * size, size)


def _period(kind: str, text: str) -> Period:
    try:
        return parse_period(kind, text)
    except BadPeriod as exc:
        raise PageError(
            400, str(exc), [("Latest papers", "/"), ("Example day", "/papers/date/2026-08-21")]
        ) from None


def _empty_database(store: Store) -> bool:
    return store.latest_day() is None and store.counts().papers == 0


def _render_day(
    request: Request,
    day: date,
    *,
    sort: str | None = None,
    tab: str | None = None,
    category: str | None = None,
    p: str | None = None,
) -> HTMLResponse:
    store = _store(request)
    period = day_period(day)
    sort_key = _sort(sort, period)
    tab = tab or "papers"
    if tab not in TABS:
        raise PageError(400, f"unknown tab {tab!r}: use papers or arxiv", [("Papers", period.url)])
    page_no = page_number(p)
    size = request.app.state.settings.page_size
    has_code = has_code_flag(request.query_params.get("has_code"))
    prev_day, next_day = store.neighbour_days(day)
    categories = store.arxiv_categories_on(day)
    arxiv_total = store.arxiv_published(day, None, limit=0).total if categories else 0
    if tab == "arxiv":
        page = store.arxiv_published(day, category or None, offset=page_no * size, limit=size)
        curated_total = store.listed(day, limit=0).total
    else:
        page = _curated_page(store, day, day, sort_key, page_no, size, has_code)
        curated_total = store.listed(day, limit=0).total if has_code else page.total
    return render(
        request,
        "day.html",
        title=f"Papers of {day.isoformat()} · {request.app.state.settings.site_name}",
        period=period,
        page=page,
        page_no=page_no,
        sort=sort_key,
        has_code=has_code,
        tab=tab,
        category=category or "",
        categories=categories,
        arxiv_total=arxiv_total,
        curated_total=curated_total,
        prev_day=prev_day,
        next_day=next_day,
        empty_db=page.total == 0 and _empty_database(store),
    )


@router.get("/", response_class=HTMLResponse)
@on_loop_when_gated
def home(request: Request, sort: str | None = None, p: str | None = None) -> HTMLResponse:
    store = _store(request)
    latest = store.latest_day()
    if latest is None:
        arxiv_day = store.latest_published_day()
        if arxiv_day is not None:
            return _render_day(request, arxiv_day, tab="arxiv", p=p)
        return render(request, "empty.html", title=request.app.state.settings.site_name)
    return _render_day(request, latest, sort=sort, p=p)


@router.get("/papers/date/{day}", response_class=HTMLResponse)
@on_loop_when_gated
def day_page(
    request: Request,
    day: str,
    sort: str | None = None,
    tab: str | None = None,
    category: str | None = None,
    p: str | None = None,
) -> Response:
    period = _period("day", day)
    if period.key != day:
        return RedirectResponse(period.url, status_code=301)
    return _render_day(request, period.start, sort=sort, tab=tab, category=category, p=p)


def _render_range(request: Request, period: Period, sort: str | None, p: str | None):
    store = _store(request)
    sort_key = _sort(sort, period)
    page_no = page_number(p)
    size = request.app.state.settings.page_size
    has_code = has_code_flag(request.query_params.get("has_code"))
    page = _curated_page(store, period.start, period.end, sort_key, page_no, size, has_code)
    days = store.day_counts(period.start, period.end)
    earlier = store.neighbour_days(period.start)[0]
    later = store.neighbour_days(period.end)[1]
    back_day = days[-1][0] if days else (earlier or later)
    return render(
        request,
        "range.html",
        title=f"{period.label} · {request.app.state.settings.site_name}",
        period=period,
        page=page,
        page_no=page_no,
        sort=sort_key,
        has_code=has_code,
        days=days,
        earlier=earlier,
        later=later,
        back_day=back_day,
        empty_db=page.total == 0 and _empty_database(store),
    )


def _latest_or_today(request: Request) -> date:
    return _store(request).latest_day() or date.today()


@router.get("/papers/week", response_class=HTMLResponse)
def current_week(request: Request) -> RedirectResponse:
    return RedirectResponse(week_period(_latest_or_today(request)).url, status_code=302)


@router.get("/papers/month", response_class=HTMLResponse)
def current_month(request: Request) -> RedirectResponse:
    return RedirectResponse(month_period(_latest_or_today(request)).url, status_code=302)


@router.get("/papers/date", response_class=HTMLResponse)
def current_day(request: Request) -> RedirectResponse:
    return RedirectResponse(day_url(_latest_or_today(request)), status_code=302)


@router.get("/papers/week/{week}", response_class=HTMLResponse)
def week_page(
    request: Request, week: str, sort: str | None = None, p: str | None = None
) -> Response:
    period = _period("week", week)
    if period.key != week:
        return RedirectResponse(period.url, status_code=301)
    return _render_range(request, period, sort, p)


@router.get("/papers/month/{month}", response_class=HTMLResponse)
def month_page(
    request: Request, month: str, sort: str | None = None, p: str | None = None
) -> Response:
    period = _period("month", month)
    if period.key != month:
        return RedirectResponse(period.url, status_code=301)
    return _render_range(request, period, sort, p)
