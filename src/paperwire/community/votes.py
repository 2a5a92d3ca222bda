"""Upvotes: one per user per paper, toggled by a POST form (works without JavaScript)."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, Response

from paperwire.community.helpers import (
    canonical_id,
    community_of,
    error,
    post_only,
    require_user,
    safe_next,
    see_other,
)
from paperwire.ui.api_schema import VoteState, errors
from paperwire.ui.templating import paper_url

router = APIRouter(tags=["community"])
post_only(router, "/papers/{arxiv_id:path}/upvote", "/api/papers/{arxiv_id:path}/upvote")

WANT = {"1": True, "up": True, "0": False, "down": False, "": None}


def _vote(request: Request, arxiv_id: str, vote: str, next: str | None) -> Response:
    aid = canonical_id(request, arxiv_id)
    user = require_user(request, next or paper_url(aid))
    if vote not in WANT:
        return error(request, 400, "vote must be 1 (upvote), 0 (withdraw) or empty (toggle)")
    state = community_of(request).votes.vote(user.id, aid, WANT[vote])
    if state is None:
        return error(request, 404, f"paper {aid} is not in this database.")
    if request.url.path.startswith("/api/") or "json" in request.headers.get("accept", ""):
        return JSONResponse(
            {
                "id": aid,
                "upvotes": state.total,
                "hfUpvotes": state.hf,
                "localUpvotes": state.local,
                "upvoted": state.voted,
            }
        )
    return see_other(safe_next(next, paper_url(aid)))


@router.post("/papers/{arxiv_id:path}/upvote", include_in_schema=False)
def upvote_form(
    request: Request, arxiv_id: str, vote: str = Form(""), next: str = Form("")
) -> Response:
    return _vote(request, arxiv_id, vote, next or None)


@router.post(
    "/api/papers/{arxiv_id:path}/upvote",
    summary="Upvote a paper (toggle)",
    description="Session cookie and `X-CSRF-Token` header (see `/api/whoami`). "
    "`?vote=1` upvotes, `?vote=0` withdraws, no `vote` toggles.",
    responses={200: {"model": VoteState, "description": "The paper's votes now"},
               **errors(400, 401, 403, 404)},
)  # fmt: skip
def upvote_api(request: Request, arxiv_id: str, vote: str = "") -> Response:
    return _vote(request, arxiv_id, vote, None)
