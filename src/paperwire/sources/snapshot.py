"""arXiv snapshot files in the Kaggle ``arxiv-metadata-oai-snapshot.json`` line format."""

from __future__ import annotations

from typing import Any

from paperwire.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperwire.record import ORIGIN_ARXIV, PaperRecord
from paperwire.sources.errors import RecordError
from paperwire.sources.text import clean_abstract, clean_line, parse_iso, parse_rfc2822


def _authors(obj: dict[str, Any]) -> tuple[str, ...]:
    parsed = obj.get("authors_parsed")
    if isinstance(parsed, list) and parsed:
        names = []
        for parts in parsed:
            if not isinstance(parts, list) or not parts:
                continue
            last, first, suffix = (list(parts) + ["", "", ""])[:3]
            name = clean_line(" ".join(p for p in (first, last, suffix) if p))
            if name:
                names.append(name)
        if names:
            return tuple(names)
    raw = clean_line(obj.get("authors"))
    if not raw:
        return ()
    return tuple(n.strip() for n in raw.replace(" and ", ", ").split(",") if n.strip())


def parse_record(obj: Any, where: str = "record") -> PaperRecord:
    if not isinstance(obj, dict):
        raise RecordError(where, "not a JSON object")
    try:
        ident = parse_arxiv_id(str(obj.get("id", "")))
    except InvalidArxivId as exc:
        raise RecordError(where, str(exc)) from None
    try:
        versions = obj.get("versions") or []
        if not isinstance(versions, list):
            raise ValueError("'versions' is not a list")
        dates = [parse_rfc2822(v.get("created")) for v in versions if isinstance(v, dict)]
        dates = [d for d in dates if d is not None]
        published = dates[0] if dates else parse_iso(obj.get("update_date"))
        updated = dates[-1] if dates else None
        update_date = parse_iso(obj.get("update_date"))
        if update_date and (updated is None or update_date > updated):
            updated = update_date
        version = None
        if versions and isinstance(versions[-1], dict):
            v = str(versions[-1].get("version", "")).lstrip("v")
            version = int(v) if v.isascii() and v.isdecimal() else len(versions)
        title = clean_line(obj.get("title"))
        if not title:
            raise ValueError("the paper has no title")
        categories = tuple(c for c in clean_line(obj.get("categories")).split(" ") if c)
        return PaperRecord(
            arxiv_id=ident.id,
            title=title,
            abstract=clean_abstract(obj.get("abstract")),
            origin=ORIGIN_ARXIV,
            authors=_authors(obj),
            categories=categories,
            version=version or ident.version,
            published_at=published,
            updated_at=updated,
            comments=clean_line(obj.get("comments")) or None,
            journal_ref=clean_line(obj.get("journal-ref")) or None,
            doi=clean_line(obj.get("doi")) or None,
            license=clean_line(obj.get("license")) or None,
        )
    except RecordError:
        raise
    except (TypeError, ValueError, AttributeError) as exc:
        raise RecordError(where, f"paper {ident.id}: {exc}") from None
