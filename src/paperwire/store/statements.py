"""The statements that pages run on every request, built once: building a SQLAlchemy
statement per call cost more CPU than running it (an author, collection or day page spent a
third of its time there).  Values go in as bind parameters."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import Select, bindparam, func, null, select
from sqlalchemy.orm import aliased

from paperwire.core.listings import curated
from paperwire.core.sql import ids_in
from paperwire.store.models import DayCategory, Listing, Organization, Paper
from paperwire.store.rows import (
    PAPER_COLUMNS,
    listing_columns,
    local_votes_expr,
    upvotes_expr,
    visible_comments_expr,
)

# the cards: papers by store id, and their first curated listing
_IDS_IN = ids_in(Paper.id)
CARD_PAPERS: Select[*tuple[Any, ...]] = select(*PAPER_COLUMNS).where(_IDS_IN)
# the same without the abstract, categories and keywords (NULL in their places), for lists that
# show none of them: a third less to read and decode per card
_BRIEF: list[Any] = [
    null().label(c.key) if c.key in ("abstract", "categories", "keywords") else c
    for c in PAPER_COLUMNS
]
BRIEF_PAPERS: Select[*tuple[Any, ...]] = select(*_BRIEF).where(_IDS_IN)
# a list of titles (a paper page's related papers): id, title, date and upvotes (HF's and
# this site's), one query where a card takes three
TITLES: Select[*tuple[Any, ...]] = select(
    Paper.id, Paper.arxiv_id, Paper.title, Paper.published_at, upvotes_expr()
).where(_IDS_IN)
_CURATED_DAY = curated(Listing.source)
# the newest curated listing day, the newest arXiv publication day, and both at once (where
# the trend charts end)
LATEST_LISTED = select(func.max(Listing.day)).where(_CURATED_DAY)
LATEST_PUBLISHED = select(func.max(Paper.published_on)).where(Paper.in_arxiv.is_(True))
LATEST_BOTH = select(LATEST_LISTED.scalar_subquery(), LATEST_PUBLISHED.scalar_subquery())
NEIGHBOURS = select(
    select(func.max(Listing.day))
    .where(_CURATED_DAY, Listing.day < bindparam("day"))
    .scalar_subquery(),
    select(func.min(Listing.day))
    .where(_CURATED_DAY, Listing.day > bindparam("day"))
    .scalar_subquery(),
)
# the categories of the arXiv papers first published on a day, with counts (kept by the
# importer in day_categories: counting them here took a quarter of a day page at 2.9M)
CATEGORIES_ON = (
    select(DayCategory.category, DayCategory.papers)
    .where(DayCategory.day == bindparam("day"), DayCategory.papers > 0)
    .order_by(DayCategory.papers.desc(), DayCategory.category)
)
CARD_LISTINGS = (
    select(*listing_columns())
    .outerjoin(Organization, Organization.id == Listing.organization_id)
    .where(
        ids_in(Listing.paper_id),
        curated(Listing.source),
    )
    .order_by(Listing.day, Listing.id)
)


# one paper's page: the paper by arXiv id with this site's upvotes and visible comments (one
# query where local_counts made a second), and all its listings
PAPER = select(
    *PAPER_COLUMNS,
    local_votes_expr().label("local_votes"),
    visible_comments_expr().label("local_comments"),
).where(Paper.arxiv_id == bindparam("arxiv_id"))
PAPER_ID = select(Paper.id).where(Paper.arxiv_id == bindparam("arxiv_id"))
LISTINGS_OF = (
    select(*listing_columns())
    .outerjoin(Organization, Organization.id == Listing.organization_id)
    .where(Listing.paper_id == bindparam("pid"))
    .order_by(Listing.day, Listing.id)
)


@lru_cache(maxsize=64)
def listed(
    sort: str, has_code: bool, by_submitter: bool, by_organization: bool
) -> tuple[Select[Any], Select[*tuple[Any, ...]]]:
    """(count, page) of the curated papers listed between ``:start`` and ``:end``, one per
    paper (its first curated listing there), optionally by ``:submitter`` or
    ``:organization``; the page takes ``:offset`` and ``:limit``.  One pair
    per shape of the query, made on first use."""
    first = select(Listing.paper_id, func.min(Listing.id).label("listing_id")).where(
        Listing.day >= bindparam("start"),
        Listing.day <= bindparam("end"),
        curated(Listing.source),
    )
    if has_code:
        first = first.join(Paper, Paper.id == Listing.paper_id).where(
            Paper.github_repo.is_not(None)
        )
    if by_submitter:
        first = first.where(Listing.submitted_by == bindparam("submitter"))
    if by_organization:
        first = first.join(Organization, Organization.id == Listing.organization_id).where(
            Organization.name == bindparam("organization")
        )
    firsts = first.group_by(Listing.paper_id).subquery()
    total = select(func.count()).select_from(firsts)
    org = aliased(Organization)
    page = (
        select(*PAPER_COLUMNS, *listing_columns(org))
        .join(firsts, firsts.c.paper_id == Paper.id)
        .join(Listing, Listing.id == firsts.c.listing_id)
        .outerjoin(org, org.id == Listing.organization_id)
    )
    if sort == "stars":
        page = page.order_by(
            Paper.github_stars.desc().nulls_last(), upvotes_expr().desc(), Paper.arxiv_id
        )
    elif sort == "publishedAt":
        page = page.order_by(
            Listing.day.desc(),
            Listing.submitted_at.desc().nulls_last(),
            upvotes_expr().desc(),
            Paper.arxiv_id,
        )
    else:
        page = page.order_by(upvotes_expr().desc(), Listing.day.desc(), Paper.arxiv_id)
    # "no limit" is -1 on SQLite and NULL on PostgreSQL: Store.listed passes the right one
    page = page.limit(bindparam("limit")).offset(bindparam("offset"))
    return total, page
