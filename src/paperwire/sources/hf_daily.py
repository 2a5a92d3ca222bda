"""HF Daily Papers: items of ``GET /api/daily_papers`` turned into paper records.

The same parser serves recorded files (``paperwire import``) and the live client.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from paperwire.arxiv_ids import InvalidArxivId, normalize_arxiv_id
from paperwire.record import ORIGIN_HF, Listing, Organization, PaperRecord
from paperwire.sources.errors import RecordError
from paperwire.sources.text import as_int, clean_abstract, clean_line, parse_iso


def _organization(raw: Any) -> Organization | None:
    if not isinstance(raw, dict) or not raw.get("name"):
        return None
    return Organization(
        name=str(raw["name"]), fullname=raw.get("fullname") or None, avatar=raw.get("avatar")
    )


def _url(value: Any) -> str | None:
    if isinstance(value, str) and value.startswith(("https://", "http://")):
        return value.strip()
    return None


def parse_item(item: Any, day: date | None = None, where: str = "item") -> PaperRecord:
    """Turn one daily-papers item (``{"paper": {...}, ...}``) into a record with a listing.

    ``day`` is the listing day when known (the ``date`` asked for); otherwise the item's
    ``submittedOnDailyAt`` (or ``publishedAt``) gives it.
    """
    if not isinstance(item, dict) or not isinstance(item.get("paper"), dict):
        raise RecordError(where, "not a daily-papers item (expected an object with 'paper')")
    paper = item["paper"]
    try:
        arxiv_id = normalize_arxiv_id(str(paper.get("id", "")))
    except InvalidArxivId as exc:
        raise RecordError(where, str(exc)) from None
    try:
        title = clean_line(paper.get("title") or item.get("title"))
        if not title:
            raise ValueError("the paper has no title")
        published = parse_iso(paper.get("publishedAt"))
        listed_at = parse_iso(paper.get("submittedOnDailyAt")) or parse_iso(item.get("publishedAt"))
        when = listed_at or published
        if day is not None:
            listing_day = day
        elif when is not None:
            listing_day = when.date()
        else:
            raise ValueError("no listing date (no submittedOnDailyAt or publishedAt)")
        authors = tuple(
            clean_line(a.get("name"))
            for a in paper.get("authors") or []
            if isinstance(a, dict) and not a.get("hidden") and clean_line(a.get("name"))
        )
        submitter = item.get("submittedBy") or paper.get("submittedOnDailyBy") or {}
        org = _organization(item.get("organization") or paper.get("organization"))
        keywords = tuple(
            clean_line(k)
            for k in paper.get("ai_keywords") or []
            if isinstance(k, str) and k.strip()
        )
        return PaperRecord(
            arxiv_id=arxiv_id,
            title=title,
            abstract=clean_abstract(paper.get("summary") or item.get("summary")),
            origin=ORIGIN_HF,
            authors=authors,
            published_at=published,
            github_repo=_url(paper.get("githubRepo")),
            github_stars=as_int(paper.get("githubStars")),
            project_page=_url(paper.get("projectPage")),
            keywords=keywords,
            upvotes=as_int(paper.get("upvotes")) or 0,
            num_comments=as_int(item.get("numComments")),
            listing=Listing(
                day=listing_day,
                source="hf",
                submitted_by=(submitter.get("user") or submitter.get("name")) or None,
                submitter_fullname=submitter.get("fullname") or None,
                submitter_avatar=submitter.get("avatarUrl") or None,
                organization=org,
                submitted_at=listed_at,
            ),
        )
    except RecordError:
        raise
    except (TypeError, ValueError, AttributeError) as exc:
        raise RecordError(where, f"paper {arxiv_id}: {exc}") from None


def parse_items(
    items: Iterable[Any], day: date | None = None, where: str = ""
) -> Iterator[PaperRecord | RecordError]:
    """Yield a record, or the error for that item, for every item of a daily-papers list."""
    for index, item in enumerate(items):
        try:
            yield parse_item(item, day, f"{where}item {index}")
        except RecordError as exc:
            yield exc
