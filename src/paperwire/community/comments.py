"""Comments: plain text with links and paragraphs; edit or delete your own; admins hide."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from paperwire.community.helpers import (
    canonical_id,
    community_of,
    error,
    post_only,
    require_user,
    see_other,
)
from paperwire.community.text import clean_comment
from paperwire.ui.templating import paper_url

router = APIRouter(include_in_schema=False)
post_only(
    router,
    "/papers/{arxiv_id:path}/comments",
    "/comments/{comment_id}/edit",
    "/comments/{comment_id}/delete",
    "/comments/{comment_id}/hide",
)


def _back(arxiv_id: str, comment_id: int | None = None) -> str:
    return paper_url(arxiv_id) + (f"#comment-{comment_id}" if comment_id else "#comments")


@router.post("/papers/{arxiv_id:path}/comments")
def add_comment(request: Request, arxiv_id: str, body: str = Form("")) -> Response:
    aid = canonical_id(request, arxiv_id)
    user = require_user(request, _back(aid))
    text, problem = clean_comment(body)
    if problem:
        return error(request, 400, problem, [("Back to the paper", _back(aid))])
    cid = community_of(request).comments.add_comment(user.id, aid, text)
    if cid is None:
        return error(request, 404, f"paper {aid} is not in this database.")
    return see_other(_back(aid, cid))


def _own(request: Request, comment_id: int):
    """(user, comment), or (a 404 response, None) when there is no such comment (a visitor
    who is not signed in is sent to sign in: ``require_user`` raises)."""
    user = require_user(request)
    found = community_of(request).comments.comment(comment_id)
    if found is None:
        return error(request, 404, f"there is no comment {comment_id}."), None
    return user, found


@router.post("/comments/{comment_id}/edit")
def edit_comment(request: Request, comment_id: int, body: str = Form("")) -> Response:
    user, found = _own(request, comment_id)
    if found is None:
        return user
    if found.author_id != user.id:
        return error(request, 403, "You can only edit your own comments.")
    text, problem = clean_comment(body)
    if problem:
        return error(request, 400, problem, [("Back to the paper", _back(found.arxiv_id))])
    community_of(request).comments.edit_comment(comment_id, user.id, text)
    return see_other(_back(found.arxiv_id, comment_id))


@router.post("/comments/{comment_id}/delete")
def delete_comment(request: Request, comment_id: int) -> Response:
    user, found = _own(request, comment_id)
    if found is None:
        return user
    if found.author_id != user.id:
        return error(request, 403, "You can only delete your own comments.")
    community_of(request).comments.delete_comment(comment_id, user.id)
    return see_other(_back(found.arxiv_id))


@router.post("/comments/{comment_id}/hide")
def hide_comment(request: Request, comment_id: int, hidden: str = Form("1")) -> Response:
    user, found = _own(request, comment_id)
    if found is None:
        return user
    if not user.is_admin:
        return error(request, 403, "Only administrators can hide comments.")
    community_of(request).comments.set_comment_hidden(comment_id, user.id, hidden != "0")
    return see_other(_back(found.arxiv_id, comment_id))
