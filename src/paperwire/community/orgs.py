"""Organizations (follow, members) and the Trending page; page extras for papers and orgs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from paperwire.community.helpers import (
    community_of,
    error,
    post_only,
    require_user,
    see_other,
    settings_of,
    store_of,
)
from paperwire.community.security import current_user
from paperwire.community.views import VoteState
from paperwire.store.trending import TrendingRepository
from paperwire.store.views import PaperView
from paperwire.ui.templating import PageError, org_url, render

router = APIRouter(include_in_schema=False)
post_only(router, "/organizations/{name}/follow", "/organizations/{name}/members")


@router.post("/organizations/{name}/follow")
def follow(request: Request, name: str, follow: str = Form("1")) -> Response:
    user = require_user(request, org_url(name))
    if not community_of(request).orgs.follow(name, user.id, follow != "0"):
        return error(request, 404, f"there is no organization {name!r}.")
    return see_other(org_url(name))


@router.post("/organizations/{name}/members")
def add_member(request: Request, name: str, username: str = Form("")) -> Response:
    user = require_user(request, org_url(name))
    if not user.is_admin:
        return error(request, 403, "Only administrators can add members.")
    if store_of(request).organization(name) is None:
        return error(request, 404, f"there is no organization {name!r}.")
    if not community_of(request).orgs.add_member(name, username.strip()):
        return error(request, 404, f"there is no user {username.strip()!r}.")
    return see_other(org_url(name))


@router.get("/papers/trending", response_class=HTMLResponse)
def trending_page(request: Request, p: str | None = None) -> Response:
    try:
        page_no = max(int(p or 0), 0)
    except ValueError:
        raise PageError(400, f"page {p!r} is not a number: use ?p=0, ?p=1, ...") from None
    size = settings_of(request).page_size
    result = TrendingRepository(store_of(request).engine).trending(
        offset=page_no * size, limit=size + 1
    )
    items = result.items[:size]
    return render(
        request,
        "trending.html",
        title=f"Trending · {settings_of(request).site_name}",
        items=items,
        as_of=result.as_of,
        window_days=result.window_days,
        page_no=page_no,
        has_more=len(result.items) > size,
    )


def paper_extras(request: Request, paper: PaperView) -> dict[str, Any]:
    """What the paper page shows of the community: the vote split and the comments.  For a
    reader who is not signed in the paper's own counts say both (no vote of theirs to look
    up, no hidden comment to show): two queries fewer on most first views."""
    community, user = community_of(request), current_user(request)
    if user is None:
        return {
            "votes": VoteState(False, paper.upvotes - paper.local_upvotes, paper.local_upvotes),
            "comments": community.comments.comments(paper.arxiv_id) if paper.local_comments else [],
            "me": None,
        }
    return {
        "votes": community.votes.vote_state(paper.arxiv_id, user.id),
        "comments": community.comments.comments(paper.arxiv_id, include_hidden=user.is_admin),
        "me": user,
    }


def org_extras(request: Request, name: str) -> dict[str, Any]:
    """Followers, members and whether the visitor follows, for the organization page."""
    orgs, user = community_of(request).orgs, current_user(request)
    followers = orgs.followers(name)
    return {
        "followers": followers,
        "members": orgs.org_members(name),
        "following": bool(user and user.username in followers),
        "me": user,
    }
