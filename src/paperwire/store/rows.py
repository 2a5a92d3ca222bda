"""ORM rows to the plain views handed to the layers above (``views.py``), and small reads
that several query mixins share."""

from __future__ import annotations

from sqlalchemy import func, literal, select, union_all
from sqlalchemy.orm import Session

from paperwire.store.community_models import Comment, Vote
from paperwire.store.models import Listing, Organization, Paper
from paperwire.store.views import ListingView, OrganizationView, PaperView


def org_view(org: Organization | None) -> OrganizationView | None:
    if org is None:
        return None
    return OrganizationView(org.name, org.fullname, org.avatar)


def listing_view(lst: Listing, org: Organization | None) -> ListingView:
    return ListingView(
        day=lst.day,
        source=lst.source,
        submitted_by=lst.submitted_by,
        submitter_fullname=lst.submitter_fullname,
        submitter_avatar=lst.submitter_avatar,
        submitted_at=lst.submitted_at,
        organization=org_view(org),
    )


def paper_view(
    p: Paper,
    listing: ListingView | None = None,
    listings: list[ListingView] | None = None,
    local: tuple[int, int] = (0, 0),
) -> PaperView:
    """``local``: the paper's (upvotes, visible comments) on this site (:func:`local_counts`)."""
    return PaperView(
        arxiv_id=p.arxiv_id,
        title=p.title,
        abstract=p.abstract or "",
        authors=list(p.authors or []),
        categories=list(p.categories or []),
        published_at=p.published_at,
        updated_at=p.updated_at,
        version=p.version,
        comments=p.comments,
        journal_ref=p.journal_ref,
        doi=p.doi,
        github_repo=p.github_repo,
        github_stars=p.github_stars,
        project_page=p.project_page,
        keywords=list(p.keywords or []),
        upvotes=(p.hf_upvotes or 0) + local[0],
        num_comments=(p.hf_num_comments or 0) + local[1],
        listing=listing,
        listings=listings or [],
    )


def local_votes(session: Session, paper_ids: list[int]) -> dict[int, int]:
    """Local (signed-in) upvotes per paper; the trending formula adds them to HF's."""
    out: dict[int, int] = {}
    for i in range(0, len(paper_ids), 1000):
        chunk = paper_ids[i : i + 1000]
        out.update(
            session.execute(
                select(Vote.paper_id, func.count())
                .where(Vote.paper_id.in_(chunk))
                .group_by(Vote.paper_id)
            ).all()
        )
    return out


def local_counts(session: Session, paper_ids: list[int]) -> dict[int, tuple[int, int]]:
    """``paper id -> (local upvotes, visible local comments)``, for the papers a query shows:
    one Core query (both grouped counts, UNION ALL) per 1,000 papers."""
    out: dict[int, tuple[int, int]] = {}
    conn = session.connection()
    for i in range(0, len(paper_ids), 1000):
        chunk = paper_ids[i : i + 1000]
        votes = (
            select(Vote.paper_id, literal(0).label("kind"), func.count())
            .where(Vote.paper_id.in_(chunk))
            .group_by(Vote.paper_id)
        )
        comments = (
            select(Comment.paper_id, literal(1).label("kind"), func.count())
            .where(Comment.paper_id.in_(chunk), Comment.hidden.is_(False))
            .group_by(Comment.paper_id)
        )
        for pid, kind, n in conn.execute(union_all(votes, comments)):
            v, c = out.get(pid, (0, 0))
            out[pid] = (int(n), c) if kind == 0 else (v, int(n))
    return out


def upvotes_expr():
    """HF plus local upvotes as a SQL expression, for ORDER BY (a correlated count)."""
    local = (
        select(func.count(Vote.id))
        .where(Vote.paper_id == Paper.id)
        .correlate_except(Vote)
        .scalar_subquery()
    )
    return Paper.hf_upvotes + local


def views(session: Session, rows) -> list[PaperView]:
    """Views of ``rows`` (papers, or (paper, listing view) pairs), with their local counts."""
    pairs = [(r, None) if isinstance(r, Paper) else r for r in rows]
    counts = local_counts(session, [p.id for p, _ in pairs])
    return [paper_view(p, lv, None, counts.get(p.id, (0, 0))) for p, lv in pairs]
