"""How a record merges into a stored paper row.  Pure functions: no SQL here.

Rules (documented in docs/import.md):
- arXiv sources are authoritative for bibliographic fields (title, abstract, authors, dates,
  categories, comments, journal-ref, DOI, version). An HF record fills them only while no arXiv
  source has been seen for the paper.
- HF is authoritative for community fields (GitHub repo, project page, keywords). Counters
  (upvotes, comments, GitHub stars) keep the largest value seen, so replaying an older response
  never lowers them and re-imports are idempotent.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from paperwire.record import ORIGIN_ARXIV, ORIGIN_HF, PaperRecord

BIBLIO = ("title", "abstract", "authors", "published_at")
ARXIV_ONLY = ("categories", "version", "updated_at", "comments", "journal_ref", "doi", "license")
HF_FIELDS = ("github_repo", "project_page", "keywords")
COUNTERS = (
    ("hf_upvotes", "upvotes"),
    ("hf_num_comments", "num_comments"),
    ("github_stars", "github_stars"),
)

# Columns compared to decide "updated" vs "unchanged".
COMPARED = (
    *BIBLIO,
    *ARXIV_ONLY,
    *HF_FIELDS,
    "hf_upvotes",
    "hf_num_comments",
    "github_stars",
    "primary_category",
    "published_on",
    "metadata_origin",
    "in_arxiv",
    "in_hf",
)


def naive_utc(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    return dt


def _value(rec: PaperRecord, name: str) -> Any:
    value = getattr(rec, name)
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, datetime):
        return naive_utc(value)
    return value


def merge(existing: dict[str, Any] | None, rec: PaperRecord) -> dict[str, Any]:
    """The row after applying ``rec`` on top of ``existing`` (a dict of columns, or None)."""
    row: dict[str, Any] = (
        dict(existing)
        if existing
        else {
            "arxiv_id": rec.arxiv_id,
            "title": rec.title,
            "abstract": "",
            "authors": [],
            "categories": [],
            "keywords": [],
            "hf_upvotes": 0,
            "hf_num_comments": 0,
            "metadata_origin": rec.origin,
            "in_arxiv": False,
            "in_hf": False,
        }
    )
    for name in (
        "version",
        "published_at",
        "updated_at",
        "comments",
        "journal_ref",
        "doi",
        "license",
        "github_repo",
        "github_stars",
        "project_page",
        "primary_category",
        "published_on",
    ):
        row.setdefault(name, None)

    arxiv_seen = row.get("in_arxiv", False)
    take_biblio = rec.origin == ORIGIN_ARXIV or not arxiv_seen
    if take_biblio:
        for name in BIBLIO:
            value = _value(rec, name)
            if value not in (None, "", []):
                row[name] = value
    if rec.origin == ORIGIN_ARXIV:
        for name in ARXIV_ONLY:
            value = _value(rec, name)
            if value not in (None, "", []):
                row[name] = value
        row["in_arxiv"] = True
        row["metadata_origin"] = ORIGIN_ARXIV
    if rec.origin == ORIGIN_HF:
        row["in_hf"] = True
        for name in HF_FIELDS:
            value = _value(rec, name)
            if value not in (None, "", []):
                row[name] = value
    for column, attr in COUNTERS:
        value = getattr(rec, attr)
        if value is not None:
            row[column] = max(int(row.get(column) or 0), int(value))
    row["primary_category"] = row["categories"][0] if row.get("categories") else None
    row["published_on"] = row["published_at"].date() if row.get("published_at") else None
    return row


def changed(before: dict[str, Any] | None, after: dict[str, Any]) -> bool:
    if before is None:
        return True
    return any(before.get(name) != after.get(name) for name in COMPARED)


__all__ = ["merge", "changed", "naive_utc", "ORIGIN_HF", "ORIGIN_ARXIV"]
