"""The one normalized paper record that every source yields and the store accepts.

Sources never hand raw JSON or XML onwards: they build a :class:`PaperRecord`.  A record may
carry a :class:`Listing` (the paper appeared on a curated daily list, e.g. HF Daily Papers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from paperwire.arxiv_ids import normalize_arxiv_id

# Where a record's metadata came from.  arXiv is authoritative for bibliographic fields
# (title, abstract, authors, categories, dates); HF is authoritative for community fields
# (upvotes, GitHub links and stars, project page, keywords).
ORIGIN_ARXIV = "arxiv"
ORIGIN_HF = "hf"
ORIGINS = (ORIGIN_ARXIV, ORIGIN_HF)


@dataclass(frozen=True, slots=True)
class Organization:
    name: str
    fullname: str | None = None
    avatar: str | None = None


@dataclass(frozen=True, slots=True)
class Listing:
    """A paper's appearance on a curated daily list."""

    day: date
    source: str  # "hf" or "community"
    submitted_by: str | None = None
    submitter_fullname: str | None = None
    submitter_avatar: str | None = None
    organization: Organization | None = None
    submitted_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PaperRecord:
    arxiv_id: str
    title: str
    abstract: str
    origin: str
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    version: int | None = None
    published_at: datetime | None = None
    updated_at: datetime | None = None
    comments: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    license: str | None = None
    github_repo: str | None = None
    github_stars: int | None = None
    project_page: str | None = None
    keywords: tuple[str, ...] = ()
    upvotes: int | None = None
    num_comments: int | None = None
    listing: Listing | None = field(default=None)

    def __post_init__(self) -> None:
        object.__setattr__(self, "arxiv_id", normalize_arxiv_id(self.arxiv_id))
        if self.origin not in ORIGINS:
            raise ValueError(f"unknown origin {self.origin!r}")
        if not self.title or not self.title.strip():
            raise ValueError(f"paper {self.arxiv_id} has no title")

    @property
    def primary_category(self) -> str | None:
        return self.categories[0] if self.categories else None


def abs_url(arxiv_id: str) -> str:
    return f"https://arxiv.org/abs/{arxiv_id}"


def pdf_url(arxiv_id: str) -> str:
    return f"https://arxiv.org/pdf/{arxiv_id}"
