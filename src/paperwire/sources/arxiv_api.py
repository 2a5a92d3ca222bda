"""The arXiv API (``export.arxiv.org/api/query``): Atom feeds turned into paper records.

Quirks handled here:
- an unknown id gives an *empty feed* (``totalResults`` 0), not an error;
- a bad request gives HTTP 400 with an *error entry* (``<id>…/api/errors#…</id>``) whose
  summary says what was wrong; older servers send the same entry with HTTP 200;
- ids come old-style (``astro-ph/0601001v1``) and new-style (``2104.12255v1``), with versions;
- arXiv asks for one request per 3 seconds: the shared :class:`Fetcher` keeps that delay.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date

from paperwire.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperwire.record import ORIGIN_ARXIV, PaperRecord
from paperwire.sources.errors import RecordError
from paperwire.sources.http import (
    Fetcher,
    HttpStatusError,
    MalformedResponse,
    SourceClient,
    SourceError,
)
from paperwire.sources.text import clean_abstract, clean_line, parse_iso

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
MAX_PAGE = 2000  # arXiv's limit for max_results per request


class ArxivApiError(SourceError):
    """arXiv rejected the query (its error entry's text is in the message)."""


class PaperNotFound(SourceError, LookupError):
    """arXiv has no paper with this id."""


@dataclass
class Feed:
    """One page of an arXiv API answer."""

    total: int
    start: int
    per_page: int
    entries: list[PaperRecord | RecordError] = field(default_factory=list)


def _text(el: ET.Element | None) -> str:
    return "" if el is None or el.text is None else el.text


def _error_entry(root: ET.Element) -> str | None:
    for entry in root.iter(f"{ATOM}entry"):
        ident = _text(entry.find(f"{ATOM}id"))
        if "/api/errors" in ident:
            return clean_line(_text(entry.find(f"{ATOM}summary"))) or ident
    return None


def parse_entry(entry: ET.Element, where: str = "entry") -> PaperRecord:
    raw_id = clean_line(_text(entry.find(f"{ATOM}id")))
    tail = raw_id.split("/abs/", 1)[-1]
    try:
        ident = parse_arxiv_id(tail)
    except InvalidArxivId as exc:
        raise RecordError(where, str(exc)) from None
    where = f"{where} ({ident.id})"
    try:
        title = clean_line(_text(entry.find(f"{ATOM}title")))
        if not title:
            raise ValueError("the paper has no title")
        cats = [c.get("term", "") for c in entry.findall(f"{ATOM}category")]
        primary = entry.find(f"{ARXIV}primary_category")
        if primary is not None and primary.get("term"):
            cats.insert(0, primary.get("term", ""))
        categories = tuple(dict.fromkeys(c for c in cats if c))
        authors = tuple(
            name
            for a in entry.findall(f"{ATOM}author")
            if (name := clean_line(_text(a.find(f"{ATOM}name"))))
        )
        return PaperRecord(
            arxiv_id=ident.id,
            title=title,
            abstract=clean_abstract(_text(entry.find(f"{ATOM}summary"))),
            origin=ORIGIN_ARXIV,
            authors=authors,
            categories=categories,
            version=ident.version,
            published_at=parse_iso(clean_line(_text(entry.find(f"{ATOM}published"))) or None),
            updated_at=parse_iso(clean_line(_text(entry.find(f"{ATOM}updated"))) or None),
            comments=clean_line(_text(entry.find(f"{ARXIV}comment"))) or None,
            journal_ref=clean_line(_text(entry.find(f"{ARXIV}journal_ref"))) or None,
            doi=clean_line(_text(entry.find(f"{ARXIV}doi"))) or None,
        )
    except (TypeError, ValueError) as exc:
        raise RecordError(where, str(exc)) from None


def parse_feed(text: str, url: str = "arXiv API") -> Feed:
    """Parse one Atom answer; malformed XML and error entries raise clear errors."""
    try:
        root = ET.fromstring(text)
    except (ET.ParseError, UnicodeError) as exc:  # UnicodeError: text no encoding can hold
        raise MalformedResponse(
            f"the arXiv API sent malformed or truncated XML for {url} ({exc}); "
            "nothing from this page was imported. Run the sync again."
        ) from None
    if root.tag != f"{ATOM}feed":
        raise MalformedResponse(f"the arXiv API sent no Atom feed for {url} (root <{root.tag}>)")
    error = _error_entry(root)
    if error:
        raise ArxivApiError(f"arXiv rejected the query {url}: {error}")

    def _int(tag: str, default: int) -> int:
        value = clean_line(_text(root.find(f"{OPENSEARCH}{tag}")))
        return int(value) if value.isascii() and value.isdecimal() else default

    entries: list[PaperRecord | RecordError] = []
    for index, entry in enumerate(root.findall(f"{ATOM}entry")):
        try:
            entries.append(parse_entry(entry, f"{url} entry {index}"))
        except RecordError as exc:
            entries.append(exc)
    return Feed(
        total=_int("totalResults", len(entries)),
        start=_int("startIndex", 0),
        per_page=_int("itemsPerPage", len(entries)),
        entries=entries,
    )


def category_query(categories: Iterable[str], start: date, end: date) -> str:
    """``search_query`` for papers of ``categories`` submitted in [start, end] (UTC days)."""
    cats = " OR ".join(f"cat:{c}" for c in categories)
    window = f"submittedDate:[{start:%Y%m%d}0000 TO {end:%Y%m%d}2359]"
    return f"({cats}) AND {window}"


class ArxivClient(SourceClient):
    """Look papers up by id (in batches) and page through searches."""

    def __init__(self, base_url: str, fetcher: Fetcher, *, id_batch: int = 100) -> None:
        self.base_url = base_url
        self.fetcher = fetcher
        self.id_batch = id_batch

    @classmethod
    def from_settings(cls, settings) -> ArxivClient:
        fetcher = Fetcher.from_settings(
            settings,
            name="the arXiv API",
            min_interval=settings.arxiv_delay,
            setting_hint="PAPERWIRE_ARXIV_API_URL",
        )
        return cls(settings.arxiv_api_url, fetcher)

    def query(
        self,
        *,
        search_query: str = "",
        id_list: Iterable[str] = (),
        start: int = 0,
        max_results: int = 100,
        sort_by: str = "relevance",
        sort_order: str = "descending",
    ) -> Feed:
        params = {
            "search_query": search_query,
            "id_list": ",".join(id_list),
            "sortBy": sort_by,
            "sortOrder": sort_order,
            "start": str(start),
            "max_results": str(max_results),
        }
        try:
            response = self.fetcher.get(self.base_url, params=params)
        except HttpStatusError as exc:
            if 400 <= exc.status_code < 500 and exc.body:
                try:
                    root = ET.fromstring(exc.body)
                except ET.ParseError:
                    raise exc from None
                error = _error_entry(root)
                if error:
                    raise ArxivApiError(
                        f"arXiv rejected the query ({exc.status_code}): {error}"
                    ) from None
            raise
        return parse_feed(response.text, str(response.url))

    def by_ids(self, ids: Iterable[str]) -> Iterator[PaperRecord | RecordError]:
        """Records for ``ids`` (versions kept as asked), ``id_batch`` ids per request.

        Unknown ids are simply absent from the answer (arXiv's empty feed); malformed ids
        are not sent: each yields a :class:`RecordError`.
        """
        wanted: list[str] = []
        for raw in ids:
            try:
                ident = parse_arxiv_id(raw)
            except InvalidArxivId as exc:
                yield RecordError(f"id {raw!r}", str(exc))
                continue
            wanted.append(f"{ident.id}v{ident.version}" if ident.version else ident.id)
        for i in range(0, len(wanted), self.id_batch):
            batch = wanted[i : i + self.id_batch]
            yield from self.query(id_list=batch, max_results=max(100, len(batch))).entries

    def search(
        self,
        search_query: str,
        *,
        start: int = 0,
        page_size: int = 100,
        max_results: int | None = None,
        sort_by: str = "relevance",
        sort_order: str = "descending",
    ) -> Iterator[Feed]:
        """Page through a search from offset ``start``; each page is one :class:`Feed`.

        Stops at ``totalResults``, at ``max_results`` entries, or at an empty page.
        """
        page_size = min(page_size, MAX_PAGE)
        offset, seen = start, 0
        while max_results is None or seen < max_results:
            size = page_size if max_results is None else min(page_size, max_results - seen)
            feed = self.query(
                search_query=search_query,
                start=offset,
                max_results=size,
                sort_by=sort_by,
                sort_order=sort_order,
            )
            if not feed.entries:
                return
            feed.start = offset
            yield feed
            offset += len(feed.entries)
            seen += len(feed.entries)
            if offset >= feed.total:
                return

    def paper(self, arxiv_id: str) -> PaperRecord:
        """One paper by id (the latest version unless the id names one)."""
        try:
            ident = parse_arxiv_id(arxiv_id)
        except InvalidArxivId as exc:
            raise PaperNotFound(str(exc)) from None
        for item in self.by_ids([str(arxiv_id).strip()]):
            if isinstance(item, PaperRecord) and item.arxiv_id == ident.id:
                return item
            if isinstance(item, RecordError):
                raise ArxivApiError(f"arXiv sent an unusable record for {arxiv_id}: {item}")
        raise PaperNotFound(
            f"arXiv has no paper {arxiv_id!r}: check the id (e.g. 2608.19880 or hep-th/9901001)"
        )


def fetch_paper(arxiv_id: str, settings=None) -> PaperRecord:
    """The arXiv record for one id, e.g. for a community submission.

    Raises :class:`PaperNotFound` for an unknown or malformed id and :class:`SourceError`
    when arXiv cannot be reached.
    """
    if settings is None:
        from paperwire.settings import Settings

        settings = Settings()
    with ArxivClient.from_settings(settings) as client:
        return client.paper(arxiv_id)
