"""Rows to the plain views handed to the layers above (``views.py``), and small reads that
several repositories share.

Pages read papers as Core rows of :data:`PAPER_COLUMNS` (and listings as
:func:`listing_columns`), not ORM objects: a card needs no identity map or change tracking,
and building 30 ORM papers with their abstracts was a third of an author page's CPU."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, literal, select, union_all

from paperwire.core.sql import ids_in
from paperwire.store.community_models import Comment, Vote
from paperwire.store.models import Listing, Organization, Paper
from paperwire.store.views import ListingView, OrganizationView, PaperView

# what a card and a paper page show of a paper (``row_view`` reads them by position)
PAPER_COLUMNS = (
    Paper.id,
    Paper.arxiv_id,
    Paper.title,
    Paper.abstract,
    Paper.authors,
    Paper.categories,
    Paper.published_at,
    Paper.updated_at,
    Paper.version,
    Paper.comments,
    Paper.journal_ref,
    Paper.doi,
    Paper.github_repo,
    Paper.github_stars,
    Paper.project_page,
    Paper.keywords,
    Paper.hf_upvotes,
    Paper.hf_num_comments,
)


def listing_columns(org: Any = Organization) -> tuple[Any, ...]:
    """A listing and its organization (outer-joined as ``org``), labelled so that they sit
    beside :data:`PAPER_COLUMNS` in one row; :func:`listing_row_view` reads them."""
    return (
        Listing.paper_id.label("l_paper_id"),
        Listing.day.label("l_day"),
        Listing.source.label("l_source"),
        Listing.submitted_by.label("l_submitted_by"),
        Listing.submitter_fullname.label("l_submitter_fullname"),
        Listing.submitter_avatar.label("l_submitter_avatar"),
        Listing.submitted_at.label("l_submitted_at"),
        org.name.label("o_name"),
        org.fullname.label("o_fullname"),
        org.avatar.label("o_avatar"),
    )


def listing_row_view(r: Any) -> ListingView:
    return ListingView(
        day=r.l_day,
        source=r.l_source,
        submitted_by=r.l_submitted_by,
        submitter_fullname=r.l_submitter_fullname,
        submitter_avatar=r.l_submitter_avatar,
        submitted_at=r.l_submitted_at,
        organization=OrganizationView(r.o_name, r.o_fullname, r.o_avatar) if r.o_name else None,
    )


_LOCAL_VOTES = (
    select(Vote.paper_id, func.count()).where(ids_in(Vote.paper_id)).group_by(Vote.paper_id)
)


def row_view(
    r: Any,
    listing: ListingView | None = None,
    listings: list[ListingView] | None = None,
    local: tuple[int, int] = (0, 0),
) -> PaperView:
    """The view of a row that starts with :data:`PAPER_COLUMNS`, read by position (a row's
    attribute lookups were most of a card's cost in Python); ``local``: the paper's
    (upvotes, visible comments) on this site (:func:`local_counts`)."""
    (
        _id,
        arxiv_id,
        title,
        abstract,
        authors,
        categories,
        published_at,
        updated_at,
        version,
        comments,
        journal_ref,
        doi,
        github_repo,
        github_stars,
        project_page,
        keywords,
        hf_upvotes,
        hf_num_comments,
    ) = r[: len(PAPER_COLUMNS)]
    return PaperView(
        arxiv_id=arxiv_id,
        title=title,
        abstract=abstract or "",
        authors=list(authors or []),
        categories=list(categories or []),
        published_at=published_at,
        updated_at=updated_at,
        version=version,
        comments=comments,
        journal_ref=journal_ref,
        doi=doi,
        github_repo=github_repo,
        github_stars=github_stars,
        project_page=project_page,
        keywords=list(keywords or []),
        upvotes=(hf_upvotes or 0) + local[0],
        num_comments=(hf_num_comments or 0) + local[1],
        listing=listing,
        listings=listings or [],
        local_upvotes=local[0],
        local_comments=local[1],
        pid=_id,
    )


def local_votes(conn: Connection, paper_ids: list[int]) -> dict[int, int]:
    """Local (signed-in) upvotes per paper; the trending formula adds them to HF's."""
    return {pid: int(n) for pid, n in conn.execute(_LOCAL_VOTES, {"ids": paper_ids})}


# built once: a statement made per call cost more CPU than running it (page renders)
# a comment readers see (a moderator may hide one): what the local comment counts count
VISIBLE_COMMENT = Comment.hidden.is_(False)
_LOCAL_COUNTS = union_all(
    select(Vote.paper_id, literal(0).label("kind"), func.count())
    .where(ids_in(Vote.paper_id))
    .group_by(Vote.paper_id),
    select(Comment.paper_id, literal(1).label("kind"), func.count())
    .where(ids_in(Comment.paper_id), VISIBLE_COMMENT)
    .group_by(Comment.paper_id),
)


def local_counts(conn: Connection, paper_ids: list[int]) -> dict[int, tuple[int, int]]:
    """``paper id -> (local upvotes, visible local comments)``, for the papers a query shows:
    one Core query (both grouped counts, UNION ALL)."""
    out: dict[int, tuple[int, int]] = {}
    for pid, kind, n in conn.execute(_LOCAL_COUNTS, {"ids": paper_ids}):
        v, c = out.get(pid, (0, 0))
        out[pid] = (int(n), c) if kind == 0 else (v, int(n))
    return out


def local_votes_expr():
    """A paper's local upvotes as a SQL expression (a correlated count)."""
    return (
        select(func.count(Vote.id))
        .where(Vote.paper_id == Paper.id)
        .correlate_except(Vote)
        .scalar_subquery()
    )


def visible_comments_expr():
    """A paper's visible local comments (:data:`VISIBLE_COMMENT`) as a SQL expression (a
    correlated count)."""
    return (
        select(func.count(Comment.id))
        .where(Comment.paper_id == Paper.id, VISIBLE_COMMENT)
        .correlate_except(Comment)
        .scalar_subquery()
    )


def upvotes_expr():
    """HF plus local upvotes as a SQL expression, for ORDER BY."""
    return Paper.hf_upvotes + local_votes_expr()


def title_view(
    pid: int, arxiv_id: str, title: str, published_at: datetime | None, upvotes: int
) -> PaperView:
    """A paper as a list of titles shows it (:data:`statements.TITLES`): every other field
    empty."""
    return PaperView(
        arxiv_id=arxiv_id,
        title=title,
        abstract="",
        authors=[],
        categories=[],
        published_at=published_at,
        updated_at=None,
        version=None,
        comments=None,
        journal_ref=None,
        doi=None,
        github_repo=None,
        github_stars=None,
        project_page=None,
        keywords=[],
        upvotes=int(upvotes or 0),
        num_comments=0,
        pid=pid,
    )


def views(conn: Connection, pairs: Any) -> list[PaperView]:
    """Views of ``(row of PAPER_COLUMNS, listing view or None)`` pairs, with their local
    counts."""
    pairs = list(pairs)
    counts = local_counts(conn, [p.id for p, _ in pairs])
    return [row_view(p, lv, None, counts.get(p.id, (0, 0))) for p, lv in pairs]
