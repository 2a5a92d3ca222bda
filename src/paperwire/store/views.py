"""Plain values the query layer hands to presenters (no ORM objects leave the store)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from paperwire.record import abs_url, pdf_url


@dataclass(frozen=True, slots=True)
class OrganizationView:
    name: str
    fullname: str | None
    avatar: str | None
    paper_count: int = 0

    @property
    def display_name(self) -> str:
        return self.fullname or self.name


@dataclass(frozen=True, slots=True)
class ListingView:
    day: date
    source: str
    submitted_by: str | None
    submitter_fullname: str | None
    submitter_avatar: str | None
    submitted_at: datetime | None
    organization: OrganizationView | None


@dataclass(frozen=True, slots=True)
class PaperView:
    """A paper as a card or a page shows it; ``listing`` is the listing in context, if any."""

    arxiv_id: str
    title: str
    abstract: str
    authors: list[str]
    categories: list[str]
    published_at: datetime | None
    updated_at: datetime | None
    version: int | None
    comments: str | None
    journal_ref: str | None
    doi: str | None
    github_repo: str | None
    github_stars: int | None
    project_page: str | None
    keywords: list[str]
    upvotes: int
    num_comments: int
    listing: ListingView | None = None
    listings: list[ListingView] = field(default_factory=list)
    # this site's share of ``upvotes`` and ``num_comments``, and the paper's store id: what
    # the paper page would otherwise ask the database for again
    local_upvotes: int = 0
    local_comments: int = 0
    pid: int | None = None

    @property
    def abs_url(self) -> str:
        return abs_url(self.arxiv_id)

    @property
    def pdf_url(self) -> str:
        return pdf_url(self.arxiv_id)

    @property
    def organization(self) -> OrganizationView | None:
        if self.listing and self.listing.organization:
            return self.listing.organization
        for lst in self.listings:
            if lst.organization:
                return lst.organization
        return None


@dataclass(frozen=True, slots=True)
class Page:
    """One page of results with what is needed to link the next one."""

    items: list[PaperView]
    total: int
    offset: int
    limit: int

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.items) < self.total


@dataclass(frozen=True, slots=True)
class StoreCounts:
    papers: int
    listings: int
    organizations: int
    first_day: date | None
    last_day: date | None


@dataclass(frozen=True, slots=True)
class SearchDoc:
    """What the search indexes hold for one paper (derived from the store, never edited)."""

    id: int
    arxiv_id: str
    title: str
    abstract: str
    authors: list[str]
    keywords: list[str]
    categories: list[str]
    organization: str | None
    day: date | None  # first curated listing day, else the arXiv publication day
    upvotes: int
    # the row's modified_at when read (not part of what is indexed): the follower skips a
    # paper the index recorded at this very version without reading it again
    modified_at: datetime | None = None

    @property
    def embed_text(self) -> str:
        return f"{self.title}. {self.abstract}"


Listed = tuple[date, "str | None"]  # a paper's first curated listing day, and organization


def first_listings(rows: Iterable[tuple[int, date, str | None]]) -> dict[int, Listed]:
    """Each paper's first curated listing: its day, and the organization of the earliest
    listing that names one, from ``(paper id, day, organization)`` rows in listing order (by
    day, then listing id).  The store's read-back and the importer both take it here."""
    first: dict[int, Listed] = {}
    for pid, day, org in rows:
        if pid not in first:
            first[pid] = (day, org)
        elif org and not first[pid][1]:
            first[pid] = (first[pid][0], org)
    return first


def search_doc(pid: int, row: Mapping[Any, Any], listed: Listed | None) -> SearchDoc:
    """A paper's search document from its columns by name (a result row's mapping, or the
    row the importer just wrote) and its first curated listing: the listing's day, else the
    arXiv publication day."""
    day, org = listed or (None, None)
    if day is None:
        day = row["published_on"]
    if day is None and row["published_at"] is not None:
        day = row["published_at"].date()
    return SearchDoc(
        id=pid,
        arxiv_id=row["arxiv_id"],
        title=row["title"] or "",
        abstract=row["abstract"] or "",
        authors=list(row["authors"] or []),
        keywords=list(row["keywords"] or []),
        categories=list(row["categories"] or []),
        organization=org,
        day=day,
        upvotes=row["hf_upvotes"] or 0,
        modified_at=row["modified_at"],
    )
