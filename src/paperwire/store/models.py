"""ORM tables.  A paper is one row; daily listings, organizations and categories hang off it."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Paper(Base):
    """The normalized paper record.  Datetimes are stored as naive UTC."""

    __tablename__ = "papers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    arxiv_id: Mapped[str] = mapped_column(String(64), unique=True)
    version: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    abstract: Mapped[str] = mapped_column(Text, default="")
    authors: Mapped[list[str]] = mapped_column(JSON, default=list)
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    primary_category: Mapped[str | None] = mapped_column(String(64))
    published_at: Mapped[datetime | None] = mapped_column(DateTime)
    published_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)
    comments: Mapped[str | None] = mapped_column(Text)
    journal_ref: Mapped[str | None] = mapped_column(Text)
    doi: Mapped[str | None] = mapped_column(String(255))
    license: Mapped[str | None] = mapped_column(String(255))
    github_repo: Mapped[str | None] = mapped_column(String(500))
    github_stars: Mapped[int | None] = mapped_column(Integer)
    project_page: Mapped[str | None] = mapped_column(String(500))
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    hf_upvotes: Mapped[int] = mapped_column(Integer, default=0)
    hf_num_comments: Mapped[int] = mapped_column(Integer, default=0)
    metadata_origin: Mapped[str] = mapped_column(String(16))
    in_arxiv: Mapped[bool] = mapped_column(Boolean, default=False)
    in_hf: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    modified_at: Mapped[datetime] = mapped_column(DateTime)

    # The search index followers read papers by modification time (migration 0008); a
    # publication day's arXiv papers are read from the index alone (migration 0011); the
    # papers with code, for the has_code search filter, from a partial index (0013).
    __table_args__ = (
        Index("ix_papers_modified", "modified_at", "id"),
        Index("ix_papers_published_arxiv", "published_on", "in_arxiv", "id"),
        Index(
            "ix_papers_has_code",
            "id",
            sqlite_where=text("github_repo IS NOT NULL"),
            postgresql_where=text("github_repo IS NOT NULL"),
        ),
    )


class PaperCategory(Base):
    """One row per (paper, arXiv category): the per-category arXiv tab and filters use it."""

    __tablename__ = "paper_categories"

    paper_id: Mapped[int] = mapped_column(
        ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True
    )
    category: Mapped[str] = mapped_column(String(64), primary_key=True)

    __table_args__ = (Index("ix_paper_categories_category", "category", "paper_id"),)


class DayCategory(Base):
    """How many arXiv papers first published on ``day`` carry ``category``: the day page's
    category tabs, kept by the importer as it writes papers (migration 0015 filled it).
    Counting them with a join over the day's papers cost 1.5 ms of CPU a page at 2.9M
    papers, a quarter of the render."""

    __tablename__ = "day_categories"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    category: Mapped[str] = mapped_column(String(64), primary_key=True)
    papers: Mapped[int] = mapped_column(Integer, default=0)


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    fullname: Mapped[str | None] = mapped_column(String(500))
    avatar: Mapped[str | None] = mapped_column(String(1000))


class Listing(Base):
    """A paper's appearance on a curated daily list (HF Daily Papers, community submission)."""

    __tablename__ = "listings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(32))
    submitted_by: Mapped[str | None] = mapped_column(String(255), index=True)
    submitter_fullname: Mapped[str | None] = mapped_column(String(500))
    submitter_avatar: Mapped[str | None] = mapped_column(String(1000))
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL"), index=True
    )
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("paper_id", "day", "source", name="uq_listings_paper_day_source"),
        Index("ix_listings_day", "day"),
    )


class StoreMeta(Base):
    """Facts about this database itself; ``identity`` is a random id written by the
    migration that made the table, so derived indexes can tell which database they hold."""

    __tablename__ = "store_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text, nullable=False)


class PaperVector(Base):
    """A paper's embedding by one model, computed once and shared by every node's index.

    ``text_hash`` is the hash of the text that was embedded (search/dense.py ``text_hash``):
    a vector whose hash no longer matches the paper's text is stale and is computed again.
    Stored as little-endian float16 (half the bytes; cosines change by about 1e-3)."""

    __tablename__ = "paper_vectors"

    paper_id: Mapped[int] = mapped_column(
        ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True
    )
    model: Mapped[str] = mapped_column(String(64), primary_key=True)
    text_hash: Mapped[str] = mapped_column(String(32))
    vec: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (Index("ix_paper_vectors_follow", "model", "created_at", "paper_id"),)
