"""RSS 2.0 and Atom feeds (feedgen) at stable URLs, every link absolute to the public URL.

``/feeds/daily.xml``, ``/feeds/trending.xml``, ``/feeds/search.xml?q=``,
``/feeds/org/{name}.xml`` are RSS 2.0; the same paths ending in ``.atom`` are Atom 1.0.
Entry ids are the paper URLs, so a reader never shows a paper twice.
"""

from __future__ import annotations

import html
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from feedgen.feed import FeedGenerator

from paperwire.safetext import xml_safe
from paperwire.store.trending import TrendingRepository
from paperwire.store.views import PaperView
from paperwire.ui.templating import PageError

router = APIRouter(include_in_schema=False)
DAILY_DAYS = 7  # the daily feed holds the latest week of listing days
LIMIT = 50
TYPES = {"rss": "application/rss+xml; charset=utf-8", "atom": "application/atom+xml; charset=utf-8"}


def _aware(value: datetime | date | None) -> datetime:
    if value is None:
        return datetime(1970, 1, 1, tzinfo=UTC)
    if not isinstance(value, datetime):
        value = datetime.combine(value, time())
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _when(p: PaperView) -> datetime:
    if p.listing:
        return _aware(p.listing.submitted_at or p.listing.day)
    return _aware(p.published_at)


def render_feed(
    request: Request,
    kind: str,
    title: str,
    page_path: str,
    feed_path: str,
    papers: list[PaperView],
    description: str,
) -> Response:
    settings = request.app.state.settings
    base = settings.public_url.rstrip("/")
    fg = FeedGenerator()
    fg.id(base + feed_path)
    fg.title(xml_safe(f"{settings.site_name}: {title}"))
    fg.link(href=base + page_path, rel="alternate")
    fg.link(href=base + feed_path, rel="self")
    fg.description(xml_safe(description))
    fg.subtitle(xml_safe(description))
    fg.language("en")
    newest = max((_when(p) for p in papers), default=_aware(date.today()))
    fg.updated(newest)
    fg.lastBuildDate(newest)
    for p in reversed(papers):  # feedgen prepends: keep the given order
        url = f"{base}/papers/{quote(p.arxiv_id, safe='/')}"
        fe = fg.add_entry()
        fe.id(url)
        fe.guid(url, permalink=True)
        fe.link(href=url, rel="alternate")
        title, summary = xml_safe(p.title), xml_safe(p.abstract or p.title)
        if kind == "rss":
            # RSS readers read <title> and <description> as HTML: escaped once more, an
            # abstract's "<img onerror=...>" shows as text instead of becoming markup
            fe.title(html.escape(title, quote=False))
            fe.description(html.escape(summary, quote=False), isSummary=True)
        else:  # Atom says what it holds: plain text
            fe.title(title)
            fe.summary(summary, type="text")
        fe.published(_when(p))
        fe.updated(_when(p))
        for name in p.authors[:20]:
            fe.author(name=xml_safe(name))
        for cat in p.categories:
            fe.category(term=cat)
    body = fg.atom_str(pretty=True) if kind == "atom" else fg.rss_str(pretty=True)
    headers = {"Cache-Control": "public, max-age=600"}
    return Response(body, media_type=TYPES[kind], headers=headers)


def kind_of(ext: str) -> str:
    return "atom" if ext == "atom" else "rss"


def _daily(request: Request, ext: str) -> Response:
    store = request.app.state.store
    last = store.latest_day()
    papers = []
    if last is not None:
        start = last - timedelta(days=DAILY_DAYS - 1)
        papers = store.listed(start, last, sort="publishedAt", limit=LIMIT * 2).items
    return render_feed(
        request,
        kind_of(ext),
        "Daily Papers",
        "/",
        f"/feeds/daily.{ext}",
        papers,
        "The papers of the latest days, newest first.",
    )


def _trending(request: Request, ext: str) -> Response:
    items = TrendingRepository(request.app.state.store.engine).trending(limit=LIMIT).items
    return render_feed(
        request,
        kind_of(ext),
        "Trending papers",
        "/",
        f"/feeds/trending.{ext}",
        [t.paper for t in items],
        "Papers by trending score (docs/ranking.md).",
    )


def _search(request: Request, ext: str, q: str | None) -> Response:
    q = (q or "").strip()
    if not q:
        raise PageError(400, "a search feed needs a query: /feeds/search.xml?q=diffusion")
    from paperwire.web.search_routes import searcher

    result = searcher(request).search(q, sort="date", limit=LIMIT)
    qs = urlencode({"q": q})
    return render_feed(
        request,
        kind_of(ext),
        f"search “{q}”",
        f"/search?{qs}",
        f"/feeds/search.{ext}?{qs}",
        result.items,
        f"The newest papers matching “{q}”.",
    )


def _org(request: Request, ext: str, name: str) -> Response:
    store = request.app.state.store
    org = store.organization(name)
    if org is None:
        raise PageError(404, f"no organization named {name!r}", [("Latest papers", "/")])
    papers = store.organization_papers(name, limit=LIMIT).items
    path = quote(name, safe="")
    return render_feed(
        request,
        kind_of(ext),
        f"papers from {org.display_name}",
        f"/organizations/{path}",
        f"/feeds/org/{path}.{ext}",
        papers,
        f"Papers from {org.display_name}, newest first.",
    )


@router.get("/feeds/daily.xml")
def daily_rss(request: Request) -> Response:
    return _daily(request, "xml")


@router.get("/feeds/daily.atom")
def daily_atom(request: Request) -> Response:
    return _daily(request, "atom")


@router.get("/feeds/trending.xml")
def trending_rss(request: Request) -> Response:
    return _trending(request, "xml")


@router.get("/feeds/trending.atom")
def trending_atom(request: Request) -> Response:
    return _trending(request, "atom")


@router.get("/feeds/search.xml")
def search_rss(request: Request, q: str | None = None) -> Response:
    return _search(request, "xml", q)


@router.get("/feeds/search.atom")
def search_atom(request: Request, q: str | None = None) -> Response:
    return _search(request, "atom", q)


@router.get("/feeds/org/{name}.xml")
def org_rss(request: Request, name: str) -> Response:
    return _org(request, "xml", name)


@router.get("/feeds/org/{name}.atom")
def org_atom(request: Request, name: str) -> Response:
    return _org(request, "atom", name)
