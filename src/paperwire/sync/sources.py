"""The live sources of the sync, as a registry: each is a small class behind one interface,
registered by name, that opens its client and yields :class:`Batch` values.

A batch is the records of one upstream page (an HF day, an arXiv API page, an OAI-PMH page)
and the watermark that is true once they are stored.  **A new source** is a subclass of
:class:`SyncSource` with ``@register`` and a ``name``: ``paperwire sync --source NAME``,
``PAPERWIRE_SYNC_SOURCES`` and the status page pick it up from the registry.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar

from paperwire.record import PaperRecord
from paperwire.settings import Settings
from paperwire.sources.arxiv_api import ArxivClient, category_query
from paperwire.sources.arxiv_calendar import nothing_new_reason
from paperwire.sources.errors import RecordError
from paperwire.sources.hf_api import HfClient
from paperwire.sources.http import SourceError
from paperwire.sources.oai_pmh import OaiClient, OaiError, set_for
from paperwire.store.sync_state import SyncStore

DEFAULT_ARXIV_DAYS = 3


@dataclass
class Batch:
    records: list[PaperRecord | RecordError]
    watermark: dict[str, Any]
    key: str  # the sync_state row the watermark belongs to
    label: str = ""
    # How far the source is after this batch, in its own unit (days for HF, records for
    # arXiv and OAI-PMH), and its whole size when the source says: the progress bar's ETA.
    done: int | None = None
    total: int | None = None
    unit: str = "records"


@dataclass
class SyncOptions:
    since: date | None = None
    until: date | None = None
    categories: list[str] | None = None
    restart: bool = False
    arxiv_page_size: int = 100


@dataclass
class Opened:
    """A source ready to run: its client (a context manager), its batches and what it covers
    in words (for messages)."""

    client: Any
    batches: Iterator[Batch]
    what: str
    days: list[date] = field(default_factory=list)  # the span covered, once known


def today_utc() -> date:
    return datetime.now(UTC).date()


def split_list(text: str | None) -> list[str]:
    return [c.strip() for c in (text or "").replace(";", ",").split(",") if c.strip()]


class SyncSource(ABC):
    name: ClassVar[str]

    @abstractmethod
    def open(self, settings: Settings, state: SyncStore, opts: SyncOptions) -> Opened:
        """The client and the batches from the source's watermark (or ``opts``)."""

    def span(self, batch: Batch) -> tuple[date, date] | None:
        """The days a batch covers, when the source knows them (for "nothing new" reasons)."""
        return None

    def nothing_new(self, first: date, last: date, what: str) -> str | None:
        """Why an empty fetch over these days is normal, if the source can tell."""
        return None


def _categories(opts: SyncOptions, configured: str, missing: str) -> list[str]:
    """The categories asked for (``--categories``), else the configured ones; none: an error."""
    cats = opts.categories or split_list(configured)
    if not cats:
        raise SourceError(missing)
    return cats


REGISTRY: dict[str, type[SyncSource]] = {}


def register(cls: type[SyncSource]) -> type[SyncSource]:
    REGISTRY[cls.name] = cls
    return cls


def get_source(name: str) -> SyncSource:
    try:
        return REGISTRY[name]()
    except KeyError:
        raise ValueError(f"unknown source {name!r}: choose one of {', '.join(REGISTRY)}") from None


# -- the sources as batch generators -------------------------------------------------------
def hf_batches(
    client: HfClient, state: SyncStore, opts: SyncOptions, refresh_days: int
) -> Iterator[Batch]:
    """One batch per day from the watermark (minus ``refresh_days`` to refresh upvotes)."""
    until = opts.until or today_utc()
    wm = None if opts.restart else state.watermark("hf")
    last = date.fromisoformat(wm["day"]) if wm and wm.get("day") else None
    if opts.since and (last is None or opts.since > last):
        start = opts.since
    elif last is not None:
        start = max(last + timedelta(days=1 - max(refresh_days, 0)), opts.since or date.min)
    else:
        start = until - timedelta(days=max(refresh_days, 1) - 1)
    day = start
    days = max((until - start).days + 1, 0)
    while day <= until:
        mark = max(day, last) if last else day
        done = (day - start).days + 1
        yield Batch(client.day(day), {"day": mark.isoformat()}, "hf", str(day), done, days, "days")
        day += timedelta(days=1)


def arxiv_batches(
    client: ArxivClient, state: SyncStore, opts: SyncOptions, categories: list[str]
) -> Iterator[Batch]:
    """The new papers of ``categories``, paged by start offset inside a fixed date window."""
    wm = None if opts.restart else state.watermark("arxiv")
    cats = sorted(categories)
    offset = 0
    if wm and wm.get("window") and wm.get("categories") == cats and not opts.since:
        first, last = (date.fromisoformat(d) for d in wm["window"])
        offset = int(wm.get("start") or 0)
    else:
        last = opts.until or today_utc()
        done = wm.get("done_until") if wm and wm.get("categories") == cats else None
        if opts.since:
            first = opts.since
        elif done:
            first = date.fromisoformat(done)
        else:
            first = last - timedelta(days=DEFAULT_ARXIV_DAYS - 1)
    window = [first.isoformat(), last.isoformat()]
    query = category_query(cats, first, last)
    for feed in client.search(
        query,
        start=offset,
        page_size=opts.arxiv_page_size,
        sort_by="submittedDate",
        sort_order="ascending",
    ):
        offset = feed.start + len(feed.entries)
        mark = {"categories": cats, "window": window, "start": offset}
        yield Batch(
            feed.entries,
            mark,
            "arxiv",
            f"{window[0]}..{window[1]} @{feed.start}",
            offset,
            feed.total,
        )
    done_mark = {"categories": cats, "done_until": window[1], "last_window": window}
    yield Batch([], done_mark, "arxiv", "done")


def oai_batches(
    client: OaiClient, state: SyncStore, opts: SyncOptions, categories: list[str]
) -> Iterator[Batch]:
    """Whole categories from OAI-PMH ``ListRecords``, page by page (resumption tokens)."""
    for category in categories:
        set_spec, keep = set_for(category)
        key = f"oai:{category}"
        wm = None if opts.restart else state.watermark(key)
        token = wm.get("token") if wm and not opts.since else None
        if wm and token:
            from_ = date.fromisoformat(wm["from"]) if wm.get("from") else None
            until = date.fromisoformat(wm["until"]) if wm.get("until") else None
        else:
            done = wm.get("done_until") if wm else None
            from_ = opts.since or (date.fromisoformat(done) if done else None)
            until = opts.until
        base = {
            "set": set_spec,
            "from": from_.isoformat() if from_ else None,
            "until": until.isoformat() if until else None,
        }
        newest = from_
        pages = client.list_pages(
            set_spec=set_spec, from_=from_, until=until, resumption_token=token
        )
        while True:
            try:
                page = next(pages)
            except StopIteration:
                break
            except OaiError as exc:
                if token and exc.code == "badResumptionToken":
                    # The token expired: start the list again (re-imports are idempotent).
                    token = None
                    pages = client.list_pages(set_spec=set_spec, from_=from_, until=until)
                    continue
                raise
            if page.datestamps:
                newest = max([d for d in (newest,) if d] + page.datestamps)
            records = [
                r
                for r in page.records
                if keep is None or isinstance(r, RecordError) or keep in r.categories
            ]
            done = (page.cursor or 0) + len(page.records) if page.complete_size else None
            yield Batch(
                records,
                {**base, "token": page.token},
                key,
                f"{category} page",
                done,
                page.complete_size,
            )
        done_until = until or newest
        yield Batch([], {"done_until": done_until.isoformat() if done_until else None}, key, "done")


@register
class HfSource(SyncSource):
    """Hugging Face Daily Papers, one batch per day."""

    name = "hf"

    def open(self, settings: Settings, state: SyncStore, opts: SyncOptions) -> Opened:
        client = HfClient.from_settings(settings)
        batches = hf_batches(client, state, opts, settings.hf_refresh_days)
        return Opened(client, batches, "Hugging Face Daily Papers")

    def span(self, batch: Batch) -> tuple[date, date] | None:
        if not batch.label:
            return None
        day = date.fromisoformat(batch.label)
        return day, day


@register
class ArxivSource(SyncSource):
    """The arXiv API: the new papers of the chosen categories."""

    name = "arxiv"

    def open(self, settings: Settings, state: SyncStore, opts: SyncOptions) -> Opened:
        cats = _categories(
            opts,
            settings.arxiv_categories,
            "no arXiv categories chosen: pass "
            "--categories cs.CL,cs.LG or set PAPERWIRE_ARXIV_CATEGORIES",
        )
        client = ArxivClient.from_settings(settings)
        return Opened(client, arxiv_batches(client, state, opts, cats), ", ".join(cats))

    def span(self, batch: Batch) -> tuple[date, date] | None:
        window = batch.watermark.get("window") or batch.watermark.get("last_window")
        if not window:
            return None
        first, last = (date.fromisoformat(d) for d in window)
        return first, last

    def nothing_new(self, first: date, last: date, what: str) -> str | None:
        return nothing_new_reason(first, last, what)


@register
class OaiSource(SyncSource):
    """arXiv OAI-PMH: whole categories or sets, page by page."""

    name = "oai"

    def open(self, settings: Settings, state: SyncStore, opts: SyncOptions) -> Opened:
        cats = _categories(
            opts,
            settings.oai_sets,
            "no categories to harvest: pass --categories "
            "cs,math.AP (categories or OAI sets) or set PAPERWIRE_OAI_SETS",
        )
        client = OaiClient.from_settings(settings)
        return Opened(client, oai_batches(client, state, opts, cats), ", ".join(cats))
