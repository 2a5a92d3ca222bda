"""Plain values the query layer hands to presenters (no ORM objects leave the store)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

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
