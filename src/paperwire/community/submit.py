"""Submit a paper by arXiv id or URL: it joins today's community list, "submitted by" you."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from paperwire.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperwire.community.helpers import (
    community_of,
    post_only,
    require_user,
    see_other,
    settings_of,
    store_of,
    wants_json,
)
from paperwire.community.views import AlreadyListed
from paperwire.ui.api_schema import FullPaper, SubmitRequest, errors
from paperwire.ui.templating import paper_url, render

router = APIRouter(tags=["community"])
post_only(router, "/api/papers/submit")

_URL_ID = re.compile(
    r"^(?:https?://)?(?:www\.|export\.)?(?:arxiv\.org/(?:abs|pdf)|huggingface\.co/papers)/"
    r"(?P<id>.+?)(?:\.pdf)?/?(?:[?#].*)?$",
    re.IGNORECASE,
)


@dataclass
class Outcome:
    status: int
    message: str
    arxiv_id: str | None = None


def extract_id(raw: str) -> str:
    """The arXiv id in an id, ``arxiv:`` id, or arXiv / HF paper URL (InvalidArxivId else)."""
    text = raw.strip()
    m = _URL_ID.match(text)
    if m:
        text = m.group("id")
    if text.lower().startswith("arxiv:"):
        text = text[6:]
    return parse_arxiv_id(text).id


def _fetch(settings, arxiv_id: str):
    """The arXiv record, via the sources' arXiv client; (None, Outcome) when it fails."""
    try:
        from paperwire.sources.arxiv_api import fetch_paper
    except ImportError:
        return None, Outcome(
            503, "Cannot fetch arXiv metadata right now (the arXiv client is not installed)."
        )
    quick = settings.model_copy(
        update={
            "http_retries": min(settings.http_retries, 1),
            "http_timeout": min(settings.http_timeout, 15.0),
        }
    )
    try:
        return fetch_paper(arxiv_id, quick), None
    except LookupError:
        return None, Outcome(404, f"arXiv has no paper {arxiv_id}: check the id (e.g. 2608.19880).")
    except Exception as exc:  # network, rate limit, malformed answer
        return None, Outcome(
            503,
            f"Cannot fetch arXiv metadata right now ({exc}). Try again in a few minutes.",
        )


def submit(request: Request, user, raw: str, organization: str | None) -> Outcome:
    store, settings, community = store_of(request), settings_of(request), community_of(request)
    try:
        aid = extract_id(raw)
    except InvalidArxivId:
        return Outcome(
            400,
            f"{raw.strip()[:100]!r} is not an arXiv id or URL: use e.g. 2608.19880 or "
            "https://arxiv.org/abs/2608.19880.",
        )
    org = (organization or "").strip() or None
    if (
        org
        and not user.is_admin
        and org not in {o.name for o in community.orgs.memberships(user.id)}
    ):
        return Outcome(403, f"You are not a member of {org}; submit without it.", aid)
    listed = community.submissions.curated_listing(aid)
    if listed:
        return Outcome(409, str(AlreadyListed(aid, *listed)) + " — thanks all the same.", aid)
    record = None
    known = store.paper(aid)
    published = known.published_at if known else None
    if known is None or published is None:
        record, failed = _fetch(settings, aid)
        if failed:
            return failed
        published = record.published_at
    now = datetime.now(UTC)
    window = settings.submission_window_days
    if window > 0 and published is not None and (now.date() - published.date()).days > window:
        return Outcome(
            422,
            f"Papers can be submitted up to {window} days after their arXiv publication; "
            f"{aid} was published on {published.date().isoformat()}.",
            aid,
        )
    if record is not None:
        store.import_records([dataclasses.replace(record, listing=None)])
    try:
        community.submissions.add_community_listing(
            aid, user, day=now.date(), organization=org, now=now.replace(tzinfo=None)
        )
    except AlreadyListed as exc:
        return Outcome(409, str(exc) + " — thanks all the same.", aid)
    return Outcome(201, f"Submitted {aid} to today's papers.", aid)


def _page(request: Request, status: int = 200, **ctx) -> HTMLResponse:
    user = request.scope.get("paperwire.user")
    ctx.setdefault("error", None)
    ctx.setdefault("paper", "")
    ctx.setdefault("organization", "")
    ctx.setdefault("existing", None)
    return render(
        request,
        "submit.html",
        status_code=status,
        title=f"Submit a paper · {settings_of(request).site_name}",
        orgs=community_of(request).orgs.memberships(user.id) if user else [],
        window=settings_of(request).submission_window_days,
        **ctx,
    )


@router.get("/papers/submit", response_class=HTMLResponse, include_in_schema=False)
def submit_form(request: Request) -> Response:
    require_user(request, "/papers/submit")
    return _page(request)


@router.post("/papers/submit", include_in_schema=False)
def submit_post(request: Request, paper: str = Form(""), organization: str = Form("")) -> Response:
    user = require_user(request, "/papers/submit")
    out = submit(request, user, paper, organization)
    if out.status == 201 and out.arxiv_id:
        return see_other(paper_url(out.arxiv_id))
    if wants_json(request):
        return JSONResponse({"error": out.message}, status_code=out.status)
    return _page(
        request,
        out.status,
        error=out.message,
        paper=paper,
        organization=organization,
        existing=out.arxiv_id if out.status == 409 else None,
    )


@router.post(
    "/api/papers/submit",
    summary="Submit a paper to today's list",
    description='JSON `{"paperId": "2608.19880", "organization": "optional"}`; needs the '
    "session cookie and the `X-CSRF-Token` header (see `/api/whoami`).",
    status_code=201,
    responses={
        201: {"model": FullPaper, "description": "Submitted: the paper as listed today"},
        **errors(400, 401, 403, 404, 409, 422, 503),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": SubmitRequest.model_json_schema()}},
        }
    },
)
async def submit_api(request: Request) -> Response:
    from starlette.concurrency import run_in_threadpool

    user = require_user(request)
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("paperId"), str):
        return JSONResponse({"error": 'send JSON {"paperId": "<arXiv id or URL>"}'}, 400)
    org = body.get("organization")
    out = await run_in_threadpool(
        submit, request, user, body["paperId"], org if isinstance(org, str) else None
    )
    if out.status != 201:
        return JSONResponse({"error": out.message}, status_code=out.status)
    from paperwire.ui.hf_shapes import full_paper

    paper = store_of(request).paper(out.arxiv_id)
    return JSONResponse(full_paper(paper), status_code=201)
