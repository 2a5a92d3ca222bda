"""What the JSON API answers, as pydantic models: used only for the OpenAPI document (the
routes build their JSON in ``hf_shapes.py`` and friends), which ``tests/test_openapi.py``
holds to the truth with schemathesis: every status code and every body the server sends
must be the one declared here.

The HF shapes omit keys they have no value for (never ``null``), so optional fields are
optional, not nullable, unless the server really sends ``null``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Error(_Shape):
    error: str = Field(description="What went wrong, and what to do about it.")


class Author(_Shape):
    id: str = Field(alias="_id")
    name: str
    hidden: bool


class User(_Shape):
    id: str = Field(alias="_id")
    name: str
    fullname: str
    type: str
    avatarUrl: str | None = None
    user: str | None = None


class Organization(_Shape):
    id: str = Field(alias="_id")
    name: str
    fullname: str
    avatar: str | None = None


class Paper(_Shape):
    """The HF paper object (``paper`` in a daily item, the body of ``/api/papers/{id}``)."""

    id: str = Field(description="arXiv id")
    authors: list[Author]
    title: str
    summary: str
    upvotes: int
    publishedAt: str | None = None
    submittedOnDailyAt: str | None = None
    submittedOnDailyBy: User | None = None
    discussionId: str | None = None
    projectPage: str | None = None
    githubRepo: str | None = None
    ai_keywords: list[str] | None = None
    githubStars: int | None = None
    organization: Organization | None = None


class RelatedPaper(Paper):
    pass


class FullPaper(Paper):
    numComments: int
    relatedPapers: list[RelatedPaper] | None = None


class DailyItem(_Shape):
    """One element of ``/api/daily_papers`` and of ``/api/papers/search``."""

    paper: Paper
    title: str
    summary: str
    thumbnail: str
    numComments: int
    isAuthorParticipating: bool
    publishedAt: str | None = None
    submittedBy: User | None = None
    organization: Organization | None = None


class Whoami(_Shape):
    name: str | None
    fullname: str | None
    isAdmin: bool
    csrfToken: str


class VoteState(_Shape):
    id: str
    upvotes: int
    hfUpvotes: int
    localUpvotes: int
    upvoted: bool


class SubmitRequest(_Shape):
    model_config = ConfigDict(extra="allow")

    paperId: str = Field(description="an arXiv id, arxiv: id, or arXiv / HF paper URL")
    organization: str | None = Field(None, description="an organization you are a member of")


class LastRun(_Shape):
    started_at: str | None
    finished_at: str | None
    status: str
    new: int
    updated: int
    unchanged: int
    rejected: int
    error: str | None
    reason: str | None


class SyncStatus(_Shape):
    source: str
    state: str
    next_run: str | None
    watermarks: dict[str, Any] | None
    last_run: LastRun | None


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these error statuses, each with the ``{"error"}`` body."""
    words = {
        400: "Bad request: a parameter is missing, malformed or out of range",
        401: "Sign in first",
        403: "Missing or wrong CSRF token",
        404: "Not found",
        409: "Conflict",
        429: "Too many requests (Retry-After says when to come back)",
        502: "arXiv could not be reached or answered badly",
    }
    return {c: {"model": Error, "description": words.get(c, "Error")} for c in codes}


def query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    """An OpenAPI query parameter, for routes that read ``request.query_params`` themselves
    (they answer 400, not FastAPI's 422, for bad values)."""
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}  # fmt: skip
