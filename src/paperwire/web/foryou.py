""" "For you": personal recommendations with their reasons, library import, "not interested".

- ``GET /for-you``: the reader's top new papers, each with why it is there.
- ``GET /me/library`` and ``POST /me/library``: upload a BibTeX, RIS or Zotero CSV library;
  the page reports what matched and what did not.
- ``POST /papers/{id}/not-interested`` (``undo=1`` takes it back): teaches the ranking.
- ``POST /papers/{id}/save`` (toggles; ``undo=1`` unsaves, ``save=1`` saves): a saved paper
  is a positive like an upvote; the Save button is on every card and on the paper page, and
  the saved papers are listed on /for-you.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from paperwire.collections.repository import CollectionRepository
from paperwire.community.helpers import (
    canonical_id,
    error,
    post_only,
    require_user,
    safe_next,
    see_other,
    store_of,
    wants_json,
)
from paperwire.community.security import current_state
from paperwire.recommend.engine import recommend
from paperwire.recommend.library import MAX_BYTES, LibraryError, import_library
from paperwire.recommend.repository import RecommendRepository
from paperwire.ui.forms import said_yes
from paperwire.ui.templating import paper_url, render

router = APIRouter(tags=["recommendations"])
post_only(router, "/papers/{arxiv_id:path}/not-interested", "/papers/{arxiv_id:path}/save")
log = logging.getLogger(__name__)


def _readers(request: Request) -> RecommendRepository:
    return RecommendRepository(store_of(request).engine)


def _index(request: Request):
    """The search index (for vectors), or None: recommendations then use words only."""
    return request.app.state.ctx.index_or_none()


@router.get("/for-you", include_in_schema=False)
def for_you(request: Request) -> Response:
    user = require_user(request, "/for-you")
    store = store_of(request)
    result = recommend(store, _index(request), user.id)
    return render(
        request,
        "foryou.html",
        title=f"For you · {request.app.state.settings.site_name}",
        result=result,
        library_count=_readers(request).library_count(user.id),
        saved=store.cards(_readers(request).saved_ids(user.id)),
    )


@router.get("/me/library", include_in_schema=False)
def library_form(request: Request) -> Response:
    user = require_user(request, "/me/library")
    return render(
        request,
        "library.html",
        title="Your library",
        report=None,
        problem=None,
        library_count=_readers(request).library_count(user.id),
    )


@router.post("/me/library", include_in_schema=False)
async def library_upload(
    request: Request,
    file: UploadFile = File(None),  # noqa: B008
    collection: str = Form(""),
) -> Response:
    user = require_user(request, "/me/library")
    store = store_of(request)
    report, problem, status = None, None, 200
    data = await file.read(MAX_BYTES + 1) if file is not None else b""
    name = (file.filename or "") if file is not None else ""
    if file is None or not name:
        problem, status = "Choose a file to upload (BibTeX, RIS or Zotero CSV).", 400
    else:
        try:
            report = await run_in_threadpool(import_library, store, user.id, name, data)
        except LibraryError as exc:
            problem, status = f"Could not import {name}: {exc}.", 400
    if report is not None and collection.isdecimal():  # the matched papers go there too
        ids = [store.paper_id(aid) for _ref, aid, _how in report.matched]
        added = CollectionRepository(store.engine).add_many(
            int(collection), user.id, [i for i in ids if i is not None]
        )
        if added is None:
            problem, status = f"You have no collection {collection}.", 404
    if wants_json(request):
        if problem or report is None:
            return JSONResponse({"error": problem}, status_code=status)
        return JSONResponse(
            {
                "entries": report.entries,
                "added": report.added,
                "matched": [
                    {"entry": r.label, "id": aid, "by": how} for r, aid, how in report.matched
                ],
                "unmatched": [r.label for r in report.unmatched],
            }
        )
    return render(
        request,
        "library.html",
        status_code=status,
        title="Your library",
        report=report,
        problem=problem,
        library_count=_readers(request).library_count(user.id),
    )


@router.post("/papers/{arxiv_id:path}/not-interested", include_in_schema=False)
def not_interested(
    request: Request, arxiv_id: str, undo: str = Form(""), next: str = Form("")
) -> Response:
    aid = canonical_id(request, arxiv_id)
    user = require_user(request, next or "/for-you")
    got = _readers(request).set_not_interested(user.id, aid, on=not said_yes(undo))
    if got is None:
        return error(request, 404, f"paper {aid} is not in this database.")
    if wants_json(request):
        return JSONResponse({"id": aid, "notInterested": got})
    return see_other(safe_next(next, "/for-you"))


@router.post("/papers/{arxiv_id:path}/save", include_in_schema=False)
def save_paper(
    request: Request,
    arxiv_id: str,
    undo: str = Form(""),
    save: str = Form(""),
    next: str = Form(""),
) -> Response:
    aid = canonical_id(request, arxiv_id)
    user = require_user(request, next or paper_url(aid))
    undo = undo or request.query_params.get("undo", "")
    want = False if said_yes(undo) else True if said_yes(save) else None
    got = _readers(request).set_saved(user.id, aid, want)
    if got is None:
        return error(request, 404, f"paper {aid} is not in this database.")
    if wants_json(request):
        return JSONResponse({"id": aid, "saved": got})
    return see_other(safe_next(next, paper_url(aid)))


def is_saved_global(store):
    """``is_saved(arxiv_id)`` for templates: whether the signed-in reader saved the paper
    (one query per request, on first use; False when signed out)."""

    readers = RecommendRepository(store.engine)

    def is_saved(arxiv_id: str) -> bool:
        state = current_state()
        if state is None or state.user is None:
            return False
        ids = state.cache.get("saved")
        if ids is None:
            ids = state.cache["saved"] = readers.saved_arxiv_ids(state.user.id)
        return arxiv_id in ids

    return is_saved
