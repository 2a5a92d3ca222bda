"""Serialize papers in the shapes of the Hugging Face papers API.

``daily_item`` is one element of ``GET /api/daily_papers``; ``paper_object`` is the ``paper``
inside it and the body of ``GET /api/papers/{id}``.  Keys whose value we do not have are
omitted (as HF omits them), never sent as ``null``.  Ids that HF keeps in MongoDB (``_id``,
``discussionId``) are derived deterministically from the paper, so they are stable.
Feeds and search reuse these functions.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from typing import Any

from paperwire.store.views import ListingView, OrganizationView, PaperView

THUMBNAIL = "https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/{id}.png"


def hf_datetime(value: datetime | date | None) -> str | None:
    """``2026-08-21T00:00:00.000Z`` (naive datetimes are UTC, as the store keeps them)."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.strftime("%Y-%m-%dT%H:%M:%S") + f".{value.microsecond // 1000:03d}Z"


def object_id(*parts: object) -> str:
    """A stable 24-hex id shaped like HF's MongoDB ids."""
    return hashlib.sha1("\x1f".join(map(str, parts)).encode()).hexdigest()[:24]


def _compact(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def organization_object(org: OrganizationView | None) -> dict[str, Any] | None:
    if org is None:
        return None
    return _compact(
        {
            "_id": object_id("org", org.name),
            "name": org.name,
            "fullname": org.fullname or org.name,
            "avatar": org.avatar,
        }
    )


def submitter_object(listing: ListingView | None, *, daily: bool = False) -> dict[str, Any] | None:
    """HF's user object for the submitter; ``daily`` adds ``user`` as ``submittedOnDailyBy``."""
    if listing is None or not listing.submitted_by:
        return None
    name = listing.submitted_by
    out: dict[str, Any] = {
        "_id": object_id("user", name),
        "avatarUrl": listing.submitter_avatar,
        "fullname": listing.submitter_fullname or name,
        "name": name,
        "type": "user",
    }
    if daily:
        out["user"] = name
    return _compact(out)


def authors_list(paper: PaperView) -> list[dict[str, Any]]:
    return [
        {"_id": object_id("author", paper.arxiv_id, i), "name": name, "hidden": False}
        for i, name in enumerate(paper.authors)
    ]


def _listing(paper: PaperView) -> ListingView | None:
    if paper.listing is not None:
        return paper.listing
    return paper.listings[-1] if paper.listings else None


def paper_object(paper: PaperView) -> dict[str, Any]:
    """The HF paper object (``/api/papers/{id}`` and ``paper`` in a daily item)."""
    listing = _listing(paper)
    org = listing.organization if listing and listing.organization else paper.organization
    listed = listing is not None
    out: dict[str, Any] = {
        "id": paper.arxiv_id,
        "authors": authors_list(paper),
        "publishedAt": hf_datetime(paper.published_at),
        "submittedOnDailyAt": hf_datetime(listing.submitted_at or listing.day) if listing else None,
        "title": paper.title,
        "submittedOnDailyBy": submitter_object(listing, daily=True),
        "summary": paper.abstract,
        "upvotes": paper.upvotes,
        "discussionId": object_id("discussion", paper.arxiv_id) if listed else None,
        "projectPage": paper.project_page,
        "githubRepo": paper.github_repo,
        "ai_keywords": list(paper.keywords) or None,
        "githubStars": paper.github_stars if paper.github_repo else None,
        "organization": organization_object(org),
    }
    return _compact(out)


def daily_item(paper: PaperView) -> dict[str, Any]:
    """One element of ``GET /api/daily_papers``."""
    listing = _listing(paper)
    when = (listing.submitted_at if listing else None) or paper.published_at
    if when is None and listing is not None:
        when = datetime(listing.day.year, listing.day.month, listing.day.day)
    org = listing.organization if listing else None
    out: dict[str, Any] = {
        "paper": paper_object(paper),
        "publishedAt": hf_datetime(when),
        "title": paper.title,
        "summary": paper.abstract,
        "thumbnail": THUMBNAIL.format(id=paper.arxiv_id),
        "numComments": paper.num_comments,
        "submittedBy": submitter_object(listing),
        "organization": organization_object(org),
        "isAuthorParticipating": False,
    }
    return _compact(out)


def full_paper(paper: PaperView) -> dict[str, Any]:
    """``GET /api/papers/{id}``: the paper object plus the community counts HF adds."""
    out = paper_object(paper)
    out["numComments"] = paper.num_comments
    return out


def paper_markdown(paper: PaperView, base_url: str = "") -> str:
    """``GET /papers/{id}.md``: the paper as Markdown (what ``HfApi.read_paper`` returns)."""
    lines = [f"# {paper.title}", ""]
    if paper.authors:
        lines += [f"**Authors:** {', '.join(paper.authors)}", ""]
    if paper.published_at:
        lines += [f"**Published:** {paper.published_at.date().isoformat()}", ""]
    if paper.categories:
        lines += [f"**Categories:** {', '.join(paper.categories)}", ""]
    if paper.upvotes:
        lines += [f"**Upvotes:** {paper.upvotes}", ""]
    lines += ["## Abstract", "", paper.abstract or "(no abstract)", "", "## Links", ""]
    lines.append(f"- arXiv: {paper.abs_url}")
    lines.append(f"- PDF: {paper.pdf_url}")
    if paper.github_repo:
        stars = f" ({paper.github_stars} stars)" if paper.github_stars is not None else ""
        lines.append(f"- GitHub: {paper.github_repo}{stars}")
    if paper.project_page:
        lines.append(f"- Project page: {paper.project_page}")
    if paper.doi:
        lines.append(f"- DOI: https://doi.org/{paper.doi}")
    if base_url:
        lines.append(f"- paperwire: {base_url.rstrip('/')}/papers/{paper.arxiv_id}")
    return "\n".join(lines) + "\n"


def wants_markdown(accept: str) -> bool:
    """Whether an Accept header asks for ``text/markdown`` before ``text/html`` (as agents
    reading a paper page on the Hub do); wildcards alone mean HTML."""
    weights: dict[str, float] = {}
    for part in accept.split(","):
        kind, *opts = (x.strip() for x in part.split(";"))
        q = 1.0
        for opt in opts:
            name, _, value = opt.partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        weights[kind.lower()] = max(q, weights.get(kind.lower(), 0.0))
    md = weights.get("text/markdown", 0.0)
    return md > 0 and md > weights.get("text/html", 0.0)
