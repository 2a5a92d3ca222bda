"""arXiv OAI-PMH (``export.arxiv.org/oai2``): bulk harvesting of whole categories.

``ListRecords`` with ``metadataPrefix=arXiv`` (or ``arXivRaw``, which adds per-version dates),
an optional ``set`` and ``from``/``until`` datestamps, following ``resumptionToken`` page by
page; ``GetRecord`` for one id.  Element names are matched by local name: some responses put
the ``arXiv`` metadata in the OAI namespace instead of its own.
"""

from __future__ import annotations

import contextlib
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from paperwire.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperwire.record import ORIGIN_ARXIV, PaperRecord
from paperwire.sources.arxiv_api import PaperNotFound
from paperwire.sources.errors import RecordError
from paperwire.sources.http import Fetcher, MalformedResponse, SourceClient, SourceError
from paperwire.sources.text import clean_abstract, clean_line, parse_iso, parse_rfc2822

# Archives that arXiv's OAI sets file under the "physics" group ("physics:hep-th").
PHYSICS_ARCHIVES = frozenset(
    {
        "astro-ph",
        "cond-mat",
        "gr-qc",
        "hep-ex",
        "hep-lat",
        "hep-ph",
        "hep-th",
        "math-ph",
        "nlin",
        "nucl-ex",
        "nucl-th",
        "physics",
        "quant-ph",
    }
)


class OaiError(SourceError):
    """The OAI-PMH server answered with an ``<error>`` (its code and text are in the message)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class OaiPage:
    records: list[PaperRecord | RecordError] = field(default_factory=list)
    datestamps: list[date] = field(default_factory=list)
    deleted: int = 0
    token: str | None = None
    complete_size: int | None = None
    cursor: int | None = None


def set_for(category: str) -> tuple[str, str | None]:
    """The OAI set to harvest for a category, and the category to keep (None: keep all).

    ``cs`` -> (``cs``, None); ``cs.CL`` -> (``cs``, ``cs.CL``); ``hep-th`` ->
    (``physics:hep-th``, None); ``physics:hep-th`` is used as given.
    """
    category = category.strip()
    if ":" in category:
        return category, None
    archive, _, _sub = category.partition(".")
    keep = category if "." in category else None
    if archive in PHYSICS_ARCHIVES:
        return f"physics:{archive}", keep
    return archive, keep


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(el: ET.Element, name: str) -> ET.Element | None:
    for c in el:
        if _local(c.tag) == name:
            return c
    return None


def _children(el: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in el if _local(c.tag) == name]


def _text(el: ET.Element | None, name: str) -> str:
    c = _child(el, name) if el is not None else None
    return "" if c is None or c.text is None else c.text


def _author(el: ET.Element) -> str:
    parts = [_text(el, "forenames"), _text(el, "keyname"), _text(el, "suffix")]
    return clean_line(" ".join(p for p in parts if p.strip()))


def parse_metadata(meta: ET.Element, where: str = "record") -> PaperRecord:
    """One ``<arXiv>`` or ``<arXivRaw>`` metadata element as a paper record."""
    raw_id = clean_line(_text(meta, "id"))
    try:
        ident = parse_arxiv_id(raw_id)
    except InvalidArxivId as exc:
        raise RecordError(where, str(exc)) from None
    where = f"{where} ({ident.id})"
    try:
        title = clean_line(_text(meta, "title"))
        if not title:
            raise ValueError("the paper has no title")
        authors_el = _child(meta, "authors")
        if authors_el is not None and len(authors_el):
            authors = tuple(a for a in (_author(x) for x in _children(authors_el, "author")) if a)
        else:  # arXivRaw: one comma-separated string
            raw = clean_line(_text(meta, "authors"))
            authors = tuple(n.strip() for n in raw.replace(" and ", ", ").split(",") if n.strip())
        version_dates = [
            parse_rfc2822(clean_line(_text(v, "date"))) for v in _children(meta, "version")
        ]
        version_dates = [d for d in version_dates if d is not None]
        created = parse_iso(clean_line(_text(meta, "created")) or None)
        updated = parse_iso(clean_line(_text(meta, "updated")) or None)
        version = ident.version
        if version_dates:
            created, updated = version_dates[0], version_dates[-1]
            version = len(version_dates)
        return PaperRecord(
            arxiv_id=ident.id,
            title=title,
            abstract=clean_abstract(_text(meta, "abstract")),
            origin=ORIGIN_ARXIV,
            authors=authors,
            categories=tuple(c for c in clean_line(_text(meta, "categories")).split(" ") if c),
            version=version,
            published_at=created,
            updated_at=updated or created,
            comments=clean_line(_text(meta, "comments")) or None,
            journal_ref=clean_line(_text(meta, "journal-ref")) or None,
            doi=clean_line(_text(meta, "doi")) or None,
            license=clean_line(_text(meta, "license")) or None,
        )
    except (TypeError, ValueError) as exc:
        raise RecordError(where, str(exc)) from None


def parse_response(text: str | bytes, url: str = "OAI-PMH") -> OaiPage:
    """Parse a ``ListRecords`` or ``GetRecord`` answer.

    ``noRecordsMatch`` is an empty page; other OAI errors raise :class:`OaiError`; malformed or
    truncated XML raises :class:`MalformedResponse`.
    """
    try:
        root = ET.fromstring(text)
    except (ET.ParseError, UnicodeError) as exc:  # UnicodeError: text no encoding can hold
        raise MalformedResponse(
            f"arXiv OAI-PMH sent malformed or truncated XML for {url} ({exc}); "
            "nothing from this page was imported. Run the sync again."
        ) from None
    if _local(root.tag) != "OAI-PMH":
        raise MalformedResponse(f"not an OAI-PMH answer from {url} (root <{_local(root.tag)}>)")
    page = OaiPage()
    for err in _children(root, "error"):
        code = err.get("code", "")
        if code == "noRecordsMatch":
            return page
        message = clean_line(err.text) or code
        if code == "idDoesNotExist":
            raise PaperNotFound(f"arXiv OAI-PMH has no record: {message}")
        raise OaiError(code, f"arXiv OAI-PMH answered {code}: {message} ({url})")
    body = _child(root, "ListRecords")
    if body is None:
        body = _child(root, "GetRecord")
    if body is None:
        raise MalformedResponse(f"OAI-PMH answer without ListRecords or GetRecord from {url}")
    for index, rec in enumerate(_children(body, "record")):
        header = _child(rec, "header")
        where = f"{url} record {index}"
        if header is None:
            page.records.append(RecordError(where, "record without header"))
            continue
        stamp = clean_line(_text(header, "datestamp"))
        if stamp:
            with contextlib.suppress(ValueError):
                page.datestamps.append(date.fromisoformat(stamp[:10]))
        if header.get("status") == "deleted":
            page.deleted += 1
            continue
        where = f"{where} {clean_line(_text(header, 'identifier'))}"
        metadata = _child(rec, "metadata")
        meta = metadata[0] if metadata is not None and len(metadata) else None
        if meta is None:
            page.records.append(RecordError(where, "record without metadata"))
            continue
        try:
            page.records.append(parse_metadata(meta, where))
        except RecordError as exc:
            page.records.append(exc)
    token = _child(body, "resumptionToken")
    if token is not None:
        page.token = clean_line(token.text) or None
        size, cursor = token.get("completeListSize"), token.get("cursor")
        page.complete_size = int(size) if size and size.isascii() and size.isdecimal() else None
        page.cursor = int(cursor) if cursor and cursor.isascii() and cursor.isdecimal() else None
    return page


class OaiClient(SourceClient):
    def __init__(self, base_url: str, fetcher: Fetcher, metadata_prefix: str = "arXiv") -> None:
        self.base_url = base_url
        self.fetcher = fetcher
        self.metadata_prefix = metadata_prefix

    @classmethod
    def from_settings(cls, settings) -> OaiClient:
        fetcher = Fetcher.from_settings(
            settings,
            name="arXiv OAI-PMH",
            min_interval=settings.arxiv_delay,
            setting_hint="PAPERWIRE_OAI_URL",
        )
        return cls(settings.oai_url, fetcher)

    def _get(self, params: dict[str, str]) -> OaiPage:
        response = self.fetcher.get(self.base_url, params=params)
        return parse_response(response.content, str(response.url))

    def list_pages(
        self,
        *,
        set_spec: str | None = None,
        from_: date | None = None,
        until: date | None = None,
        resumption_token: str | None = None,
    ) -> Iterator[OaiPage]:
        """Every page of a ``ListRecords`` harvest; resume mid-list with ``resumption_token``."""
        if resumption_token:
            params = {"verb": "ListRecords", "resumptionToken": resumption_token}
        else:
            params = {"verb": "ListRecords", "metadataPrefix": self.metadata_prefix}
            if set_spec:
                params["set"] = set_spec
            if from_:
                params["from"] = from_.isoformat()
            if until:
                params["until"] = until.isoformat()
        while True:
            page = self._get(params)
            yield page
            if not page.token:
                return
            params = {"verb": "ListRecords", "resumptionToken": page.token}

    def list_records(self, **kwargs) -> Iterator[PaperRecord | RecordError]:
        for page in self.list_pages(**kwargs):
            yield from page.records

    def get_record(self, arxiv_id: str) -> PaperRecord:
        ident = parse_arxiv_id(arxiv_id)
        page = self._get(
            {
                "verb": "GetRecord",
                "identifier": f"oai:arXiv.org:{ident.id}",
                "metadataPrefix": self.metadata_prefix,
            }
        )
        for item in page.records:
            if isinstance(item, PaperRecord) and item.arxiv_id == ident.id:
                return item
        for item in page.records:
            if isinstance(item, RecordError):
                raise SourceError(f"arXiv OAI-PMH sent an unusable record for {arxiv_id}: {item}")
        raise PaperNotFound(f"arXiv OAI-PMH has no record {arxiv_id!r}")
