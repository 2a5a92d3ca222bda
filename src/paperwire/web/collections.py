"""Collections (issue #17): a signed-in reader's named lists of papers.

- ``GET /collections``: the reader's collections and a form to make one; ``POST`` makes it.
- ``GET /collections/{id}``: a public collection, or one's own private one; the owner can
  reorder, remove, annotate, rename, make public or private, and delete.
- ``POST /collections/add``: add a paper to one of the reader's collections (every card and
  paper page has the form, ``next`` says where to go back).
- ``/collections/{id}.xml``, ``.atom``, ``.bib`` and ``/api/collections/{id}``: a public
  collection as RSS, Atom, BibTeX and JSON.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from paperwire.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperwire.collections.bibtex import to_bibtex
from paperwire.collections.repository import (
    CollectionError,
    CollectionRepository,
    CollectionView,
)
from paperwire.community.helpers import error, require_user, safe_next, see_other
from paperwire.community.security import current_state, current_user
from paperwire.core.trend import MONTHS, count_by_month, months_until
from paperwire.recommend.repository import RecommendRepository
from paperwire.store.facts import PaperFacts
from paperwire.store.views import PaperView
from paperwire.ui.api_schema import errors
from paperwire.ui.hf_shapes import paper_object
from paperwire.ui.templating import PageError, render
from paperwire.web.feeds import kind_of, render_feed

router = APIRouter()


def _repo(request: Request) -> CollectionRepository:
    return CollectionRepository(request.app.state.store.engine)


def collection_url(cid: int) -> str:
    return f"/collections/{cid}"


def _visible(request: Request, cid: int) -> CollectionView:
    user = current_user(request)
    found = _repo(request).visible(cid, user.id if user else None)
    if found is None:
        raise PageError(404, f"there is no collection {cid} (or it is private).")
    return found


def _paper_id(request: Request, raw: str) -> int:
    try:
        aid = parse_arxiv_id(raw).id
    except InvalidArxivId as exc:
        raise PageError(400, str(exc)) from None
    pid = request.app.state.store.paper_id(aid)
    if pid is None:
        raise PageError(404, f"paper {aid} is not in this database.")
    return pid


# -- pages ------------------------------------------------------------------------------
@router.get("/collections", response_class=HTMLResponse, include_in_schema=False)
def my_collections(request: Request) -> Response:
    user = require_user(request, "/collections")
    return render(
        request,
        "collections.html",
        title=f"Your collections · {request.app.state.settings.site_name}",
        collections=_repo(request).of_user(user.id),
    )


@router.post("/collections", include_in_schema=False)
def create_collection(
    request: Request,
    name: str = Form(""),
    description: str = Form(""),
    public: str = Form(""),
) -> Response:
    user = require_user(request, "/collections")
    try:
        cid = _repo(request).create(user.id, name, description, public == "1")
    except CollectionError as exc:
        return error(request, 400, f"{exc}.", [("Your collections", "/collections")])
    return see_other(collection_url(cid))


@router.post("/collections/from-saved", include_in_schema=False)
def collection_from_saved(request: Request) -> Response:
    """A private collection of the reader's saved papers (newest saved first)."""
    user = require_user(request, "/collections")
    engine = request.app.state.store.engine
    saved = RecommendRepository(engine).saved_ids(user.id, limit=2000)
    if not saved:
        return error(request, 400, "you have no saved papers: Save some from any card first.")
    repo = _repo(request)
    try:
        cid = repo.create(user.id, "Saved papers")
        repo.add_many(cid, user.id, saved)
    except CollectionError as exc:
        return error(request, 400, f"{exc}.")
    return see_other(collection_url(cid))


@router.get("/collections/{cid:int}", response_class=HTMLResponse, include_in_schema=False)
def collection_page(request: Request, cid: int) -> Response:
    found = _visible(request, cid)
    user = current_user(request)
    items = _ordered(request, cid, brief=True)  # the page shows no abstracts
    return render(
        request,
        "collection.html",
        title=f"{found.name} · {request.app.state.settings.site_name}",
        c=found,
        items=items,
        mine=bool(user and user.id == found.user_id),
        trend=collection_trend(request, [p for p, _ in items]),
    )


def _day(p: PaperView) -> date | None:
    if p.published_at:
        return p.published_at.date()
    return p.listing.day if p.listing else None


def collection_trend(request: Request, papers: list[PaperView], months: int = MONTHS):
    """The collection's papers per month (publication day, else first listing day), with
    their upvotes, over the five years up to the newest paper in the database."""
    last = PaperFacts(request.app.state.store.engine).latest_day()
    if last is None or not papers:
        return []
    days = [(_day(p), p.upvotes) for p in papers]
    return count_by_month(days, months_until(last, months))


def _ordered(request: Request, cid: int, brief: bool = False) -> list[tuple[PaperView, str]]:
    """The collection's papers in its order, with the reader's notes (``brief``: without
    abstracts, categories and keywords)."""
    items = _repo(request).items(cid)
    ids = [i.paper_id for i in items]
    cards = {p.arxiv_id: p for p in request.app.state.store.cards(ids, brief=brief)}
    return [(cards[i.arxiv_id], i.note) for i in items if i.arxiv_id in cards]


@router.post("/collections/add", include_in_schema=False)
def add_to_collection(
    request: Request,
    collection: str = Form(""),
    arxiv_id: str = Form(""),
    next: str = Form(""),
) -> Response:
    user = require_user(request, safe_next(next))
    if not collection.isdecimal():
        return error(request, 400, "choose one of your collections.")
    cid = int(collection)
    pid = _paper_id(request, arxiv_id)
    try:
        ok = _repo(request).add(cid, user.id, pid)
    except CollectionError as exc:
        return error(request, 400, f"{exc}.")
    if not ok:
        return error(request, 404, f"you have no collection {cid}.")
    return see_other(safe_next(next, collection_url(cid)))


@router.post("/collections/{cid:int}/items/{arxiv_id:path}/{action}", include_in_schema=False)
def change_item(
    request: Request, cid: int, arxiv_id: str, action: str, note: str = Form("")
) -> Response:
    user = require_user(request, collection_url(cid))
    pid = _paper_id(request, arxiv_id)
    repo = _repo(request)
    try:
        if action == "up":
            ok = repo.move(cid, user.id, pid, -1)
        elif action == "down":
            ok = repo.move(cid, user.id, pid, +1)
        elif action == "remove":
            ok = repo.remove(cid, user.id, pid)
        elif action == "note":
            ok = repo.set_note(cid, user.id, pid, note)
        else:
            return error(request, 404, f"unknown action {action!r}: up, down, remove or note.")
    except CollectionError as exc:
        return error(request, 400, f"{exc}.")
    if not ok:
        return error(request, 404, "that paper is not in one of your collections.")
    return see_other(collection_url(cid) + "#p-" + parse_arxiv_id(arxiv_id).id.replace("/", "-"))


@router.post("/collections/{cid:int}/settings", include_in_schema=False)
def collection_settings(
    request: Request,
    cid: int,
    name: str = Form(""),
    description: str = Form(""),
    public: str = Form(""),
) -> Response:
    user = require_user(request, collection_url(cid))
    try:
        ok = _repo(request).update(cid, user.id, name, description, public == "1")
    except CollectionError as exc:
        return error(request, 400, f"{exc}.")
    if not ok:
        return error(request, 404, f"you have no collection {cid}.")
    return see_other(collection_url(cid))


@router.post("/collections/{cid:int}/delete", include_in_schema=False)
def delete_collection(request: Request, cid: int) -> Response:
    user = require_user(request, collection_url(cid))
    if not _repo(request).delete(cid, user.id):
        return error(request, 404, f"you have no collection {cid}.")
    return see_other("/collections")


# -- feeds, BibTeX, JSON ----------------------------------------------------------------
def _public(request: Request, cid: int) -> CollectionView:
    found = _repo(request).get(cid)
    if found is None or not found.public:
        raise PageError(404, f"there is no public collection {cid}.")
    return found


def public_papers(request: Request, cid: int) -> list[PaperView] | None:
    """A public collection's papers in order; None when there is no such public one."""
    found = _repo(request).get(cid)
    if found is None or not found.public:
        return None
    return [p for p, _ in _ordered(request, cid)]


def _feed(request: Request, cid: int, ext: str) -> Response:
    c = _public(request, cid)
    papers = [p for p, _ in _ordered(request, cid)]
    return render_feed(
        request,
        kind_of(ext),
        f"{c.name} (a collection by {c.owner})",
        collection_url(cid),
        f"{collection_url(cid)}.{ext}",
        papers,
        c.description or f"The papers of {c.owner}'s collection {c.name}.",
    )


@router.get("/collections/{cid:int}.xml", include_in_schema=False)
def collection_rss(request: Request, cid: int) -> Response:
    return _feed(request, cid, "xml")


@router.get("/collections/{cid:int}.atom", include_in_schema=False)
def collection_atom(request: Request, cid: int) -> Response:
    return _feed(request, cid, "atom")


@router.get("/collections/{cid:int}.bib", include_in_schema=False)
def collection_bibtex(request: Request, cid: int) -> Response:
    user = current_user(request)
    found = _repo(request).visible(cid, user.id if user else None)
    if found is None:
        raise PageError(404, f"there is no collection {cid} (or it is private).")
    body = to_bibtex(_ordered(request, cid))
    return Response(
        body,
        media_type="application/x-bibtex; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="collection-{cid}.bib"'},
    )


@router.get(
    "/api/collections/{cid}",
    tags=["papers"],
    summary="A public collection",
    description="A reader's public collection: its name, description, owner and papers in "
    "the owner's order, each with the owner's note.",
    responses={200: {"description": "The collection"}, **errors(404)},
)
def api_collection(request: Request, cid: int) -> Response:
    found = _repo(request).get(cid)
    if found is None or not found.public:
        return JSONResponse({"error": f"there is no public collection {cid}"}, 404)
    body: dict[str, Any] = {
        "id": found.id,
        "name": found.name,
        "description": found.description,
        "owner": found.owner,
        "updatedAt": found.updated_at.isoformat(),
        "papers": [
            {"position": i, "note": note, "paper": paper_object(p)}
            for i, (p, note) in enumerate(_ordered(request, cid), start=1)
        ],
    }
    return JSONResponse(body)


# -- the card's "add to collection" form ----------------------------------------------
def my_collections_global(store):
    """``my_collections()`` for templates: the signed-in reader's collections, newest change
    first (one query per request, on first use; [] when signed out)."""

    def my_collections() -> list[CollectionView]:
        state = current_state()
        if state is None or state.user is None:
            return []
        found = state.cache.get("collections")
        if found is None:
            found = state.cache["collections"] = CollectionRepository(store.engine).of_user(
                state.user.id
            )
        return found

    return my_collections
