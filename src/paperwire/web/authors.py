"""Author pages: ``/authors/{name}`` (HTML), ``/api/authors/{name}``, the author's feeds and
the follow button.  The lookup itself is the authors slice's (``authors/lookup.py``)."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from markupsafe import Markup, escape
from starlette.convertors import Convertor, register_url_convertor

from paperwire.authors.lookup import SORTS, Author, AuthorLookup
from paperwire.authors.names import MAX_NAME, author_feed_url, author_url, display
from paperwire.community.helpers import require_user, see_other
from paperwire.community.security import current_user
from paperwire.store.facts import PaperFacts
from paperwire.store.views import Page
from paperwire.ui.api_schema import errors, query
from paperwire.ui.hf_shapes import daily_item
from paperwire.ui.templating import PageError, render
from paperwire.web.feeds import LIMIT as FEED_LIMIT
from paperwire.web.feeds import kind_of, render_feed
from paperwire.web.pages import page_number
from paperwire.web.search_routes import BadParam, choice_param, date_range, int_param


class _AuthorName(Convertor[str]):
    """An author name in a page's path: any text, slashes included (author lists carry
    affiliations such as "Inria / Irma"), except a trailing "/follow": that address is the
    follow form's, which a GET must answer 405, not as the page of "X/follow"."""

    regex = ".+(?<!/follow)"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("author", _AuthorName())
router = APIRouter()
API_MAX_LIMIT = 100


def author_links(authors: list[str], n: int = 3) -> Markup:
    """A card's author line: the first ``n`` names linked to their pages ("et al." for the
    rest; all of them when one more would be all).  A template global in Python, with
    ``escape`` and a join: as a Jinja macro it was a tenth of a card's render time."""
    shown = authors if len(authors) <= n + 1 else authors[:n]
    html = ", ".join(map(_author_link, shown))
    return Markup(html + " et al." if len(authors) > len(shown) else html)


@lru_cache(maxsize=16384)  # about 4 MB
def _author_link(name: str) -> str:
    """One name's link (cached: names recur across a listing's cards and from page to page,
    and escaping twice and quoting were most of a card's author line)."""
    return f'<a href="{escape(author_url(name))}">{escape(name)}</a>'


def _lookup(request: Request) -> AuthorLookup:
    return request.app.state.ctx.authors()


def _name(raw: str) -> str:
    name = display(raw)
    if not name:
        raise BadParam("an author page needs a name: /authors/Yann%20LeCun")
    if len(name) > MAX_NAME:
        raise BadParam(f"an author name has at most {MAX_NAME} characters")
    return name


def _params(request: Request) -> tuple[str, date | None, date | None]:
    q = request.query_params
    return choice_param("sort", q.get("sort"), SORTS), *date_range(q)


def _page(request: Request, author: Author, offset: int, limit: int) -> Page:
    ids = author.ids[offset : offset + limit]
    return Page(request.app.state.store.cards(ids), len(author.papers), offset, limit)


@router.get("/authors/{name:author}", response_class=HTMLResponse, include_in_schema=False)
def author_page(request: Request, name: str, p: str | None = None) -> Response:
    try:
        name = _name(name)
        sort, start, end = _params(request)
    except BadParam as exc:
        raise PageError(400, str(exc), [("Latest papers", "/")]) from None
    last = PaperFacts(request.app.state.store.engine).latest_day()
    lookup = _lookup(request)
    author = lookup.author(name, sort=sort, start=start, end=end, until=last)
    if author is None:
        raise PageError(
            404,
            f"no paper here has an author named {name!r}.",
            [
                ("Search for the name", "/search?" + urlencode({"q": name})),
                ("Latest papers", "/"),
            ],
        )
    page_no = page_number(p)
    size = request.app.state.settings.page_size
    user = current_user(request)
    params = {
        "sort": sort if sort != "date" else None,
        "from": start.isoformat() if start else None,
        "to": end.isoformat() if end else None,
    }
    return render(
        request,
        "author.html",
        title=f"{author.name} · {request.app.state.settings.site_name}",
        author=author,
        asked=name,
        page=_page(request, author, page_no * size, size),
        page_no=page_no,
        sort=sort,
        start=start,
        end=end,
        params=params,
        me=user,
        following=bool(user and lookup.repo.following(user.id, name)),
        followers=lookup.repo.followers(name),
        feed_rss=author_feed_url(name, "xml"),
        feed_atom=author_feed_url(name, "atom"),
    )


@router.post("/authors/{name:path}/follow", include_in_schema=False)
def follow_author(request: Request, name: str, follow: str = Form("1")) -> Response:
    user = require_user(request, author_url(name))
    try:
        name = _name(name)
    except BadParam as exc:
        raise PageError(400, str(exc)) from None
    lookup = _lookup(request)
    if follow != "0" and not lookup.papers_of(name, votes=False):
        raise PageError(404, f"no paper here has an author named {name!r}.")
    lookup.repo.follow(user.id, name, follow != "0")
    return see_other(author_url(name))


@router.get(
    "/api/authors/{name:path}",
    tags=["papers"],
    summary="An author's papers",
    description="Papers with an author of this name (after Unicode and whitespace "
    "normalization, case-insensitive; a name can belong to several people), newest first or "
    "by upvotes, with the frequent co-authors and organizations. Query: sort (date, upvotes), "
    "from, to, offset, limit (1-100).",
    responses={200: {"description": "The author's papers and who they work with"},
               **errors(400, 404)},
    openapi_extra={"parameters": [
        query("sort", {"type": "string", "enum": list(SORTS)}, "date (newest first, default)"),
        query("from", {"type": "string", "format": "date"}, "first day, YYYY-MM-DD"),
        query("to", {"type": "string", "format": "date"}, "last day, YYYY-MM-DD"),
        query("offset", {"type": "integer", "minimum": 0, "maximum": 100_000}, "skip"),
        query("limit", {"type": "integer", "minimum": 1, "maximum": API_MAX_LIMIT}, "(50)"),
    ]},
)  # fmt: skip
def api_author(request: Request, name: str) -> Response:
    try:
        name = _name(name)
        sort, start, end = _params(request)
        offset = int_param("offset", request.query_params.get("offset"), 0, 0, 100_000)
        limit = int_param("limit", request.query_params.get("limit"), 50, 1, API_MAX_LIMIT)
    except BadParam as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    author = _lookup(request).author(name, sort=sort, start=start, end=end)
    if author is None:
        return JSONResponse({"error": f"no paper has an author named {name!r}"}, status_code=404)
    page = _page(request, author, offset, limit)
    body: dict[str, Any] = {
        "name": author.name,
        "numPapers": author.total,
        "numMatching": len(author.papers),
        "firstPublished": author.first.isoformat() if author.first else None,
        "lastPublished": author.last.isoformat() if author.last else None,
        "coauthors": [{"name": n, "papers": c} for n, c in author.coauthors],
        "organizations": [
            {"name": n, "fullname": f, "papers": c} for n, f, c in author.organizations
        ],
        "papers": [daily_item(p) for p in page.items],
    }
    return JSONResponse(body, headers={"X-Total-Count": str(len(author.papers))})


def _feed(request: Request, name: str, ext: str) -> Response:
    try:
        name = _name(name)
    except BadParam as exc:
        raise PageError(400, str(exc)) from None
    author = _lookup(request).author(name, details=False)
    if author is None:
        raise PageError(404, f"no paper here has an author named {name!r}.")
    papers = request.app.state.store.cards(author.ids[:FEED_LIMIT])
    return render_feed(
        request,
        kind_of(ext),
        f"papers by {author.name}",
        author_url(name),
        author_feed_url(name, ext),
        papers,
        f"New papers with an author named {author.name}, newest first.",
    )


@router.get("/feeds/author/{name:path}.xml", include_in_schema=False)
def author_rss(request: Request, name: str) -> Response:
    return _feed(request, name, "xml")


@router.get("/feeds/author/{name:path}.atom", include_in_schema=False)
def author_atom(request: Request, name: str) -> Response:
    return _feed(request, name, "atom")
