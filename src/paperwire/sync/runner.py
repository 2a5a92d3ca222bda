"""The sync: pull the live sources into the store, batch by batch, resumably.

Each source is a generator of :class:`Batch` values: the records of one upstream page (an HF
day, an arXiv API page, an OAI-PMH page) and the watermark that is true once they are stored.
Each batch is written in ONE transaction together with its watermark (a batch hook of the
importer), so a sync killed at any point resumes after the last committed batch: nothing is
lost and, the import being idempotent, nothing is duplicated.  New papers reach the search
index in the same run: the store's import listeners (attached by ``open_store``) index every
committed batch.  A row lease per source
(:mod:`paperwire.store.sync_state`) keeps two syncs from running the same source at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from paperwire.record import PaperRecord
from paperwire.settings import Settings
from paperwire.sources.arxiv_api import ArxivClient, category_query
from paperwire.sources.arxiv_calendar import nothing_new_reason
from paperwire.sources.errors import RecordError
from paperwire.sources.hf_api import HfClient
from paperwire.sources.http import SourceError
from paperwire.sources.oai_pmh import OaiClient, OaiError, set_for
from paperwire.store.importer import ImportSummary
from paperwire.store.sync_state import Lease, LockLost, SyncStore

SOURCES = ("hf", "arxiv", "oai")
DEFAULT_ARXIV_DAYS = 3


@dataclass
class Batch:
    records: list[PaperRecord | RecordError]
    watermark: dict[str, Any]
    key: str  # the sync_state row the watermark belongs to
    label: str = ""


@dataclass
class SourceResult:
    source: str
    status: str  # ok, nothing_new, error, locked
    summary: ImportSummary = field(default_factory=ImportSummary)
    batches: int = 0
    fetched: int = 0
    error: str | None = None
    reason: str | None = None
    run_id: int | None = None


@dataclass
class SyncOptions:
    since: date | None = None
    until: date | None = None
    categories: list[str] | None = None
    restart: bool = False
    arxiv_page_size: int = 100


def today_utc() -> date:
    return datetime.now(UTC).date()


def split_list(text: str | None) -> list[str]:
    return [c.strip() for c in (text or "").replace(";", ",").split(",") if c.strip()]


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
    while day <= until:
        mark = max(day, last) if last else day
        yield Batch(client.day(day), {"day": mark.isoformat()}, "hf", str(day))
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
        yield Batch(feed.entries, mark, "arxiv", f"{window[0]}..{window[1]} @{feed.start}")
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
        if token:
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
            yield Batch(records, {**base, "token": page.token}, key, f"{category} page")
        done_until = until or newest
        yield Batch([], {"done_until": done_until.isoformat() if done_until else None}, key, "done")


# -- running one source ----------------------------------------------------------------------
def run_source(
    source: str,
    store,
    settings: Settings,
    opts: SyncOptions,
    *,
    on_batch: Callable[[Batch, ImportSummary], None] | None = None,
) -> SourceResult:
    """Sync one source under its lock; never raises for a source failure (see the result)."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}: choose one of {', '.join(SOURCES)}")
    state = SyncStore(store.engine)
    lease = state.acquire(source, ttl=settings.sync_lock_ttl)
    if lease is None:
        holder = state.lock_holder(source)
        who = f" ({holder.owner}, since {holder.acquired_at:%Y-%m-%d %H:%M} UTC)" if holder else ""
        return SourceResult(
            source,
            "locked",
            error=f"another sync of {source} is running{who}; try again when it has finished",
        )
    params = {
        "since": opts.since.isoformat() if opts.since else None,
        "until": opts.until.isoformat() if opts.until else None,
        "categories": opts.categories,
        "restart": opts.restart,
    }
    result = SourceResult(source, "ok", run_id=state.start_run(source, params))
    try:
        with lease:
            _run_batches(source, store, settings, opts, state, lease, result, on_batch)
    except (SourceError, LockLost) as exc:
        result.status, result.error = "error", str(exc)
    except Exception as exc:  # a bug or a database failure: recorded, then raised
        result.status, result.error = "error", f"{exc.__class__.__name__}: {exc}"
        state.update_run(
            result.run_id,
            result.summary,
            batches=result.batches,
            status="error",
            error=result.error,
        )
        raise
    except BaseException:
        state.update_run(
            result.run_id,
            result.summary,
            batches=result.batches,
            status="interrupted",
            error="stopped by the user",
        )
        raise
    state.update_run(
        result.run_id,
        result.summary,
        batches=result.batches,
        status=result.status,
        error=result.error,
        reason=result.reason,
    )
    return result


def _run_batches(source, store, settings, opts, state, lease: Lease, result, on_batch) -> None:
    if source == "hf":
        client: Any = HfClient.from_settings(settings)
        batches = hf_batches(client, state, opts, settings.hf_refresh_days)
        what = "Hugging Face Daily Papers"
    elif source == "arxiv":
        cats = opts.categories or split_list(settings.arxiv_categories)
        if not cats:
            raise SourceError(
                "no arXiv categories chosen: pass --categories cs.CL,cs.LG "
                "or set PAPERWIRE_ARXIV_CATEGORIES"
            )
        client = ArxivClient.from_settings(settings)
        batches = arxiv_batches(client, state, opts, cats)
        what = ", ".join(cats)
    else:
        cats = opts.categories or split_list(settings.oai_sets)
        if not cats:
            raise SourceError(
                "no categories to harvest: pass --categories cs,math.AP (categories or OAI "
                "sets) or set PAPERWIRE_OAI_SETS"
            )
        client = OaiClient.from_settings(settings)
        batches = oai_batches(client, state, opts, cats)
        what = ", ".join(cats)
    first_day = last_day = None
    with client:
        for batch in batches:
            papers = sum(1 for r in batch.records if isinstance(r, PaperRecord))
            if papers:
                importer = store.importer(batch_size=max(len(batch.records), 1))
                importer.hooks.append(state.watermark_hook(batch.key, batch.watermark, lease))
                summary = importer.run(batch.records)
            else:  # nothing to write but the watermark (and errors to count)
                summary = ImportSummary()
                for r in batch.records:
                    summary.rejected += 1
                    summary.errors.append(str(r))
                lease.renew()
                state.save_watermark(batch.key, batch.watermark)
            result.fetched += len(batch.records)
            result.summary.add(summary)
            result.batches += 1
            if source == "hf" and batch.label:
                day = date.fromisoformat(batch.label)
                first_day, last_day = first_day or day, day
            elif source == "arxiv":
                window = batch.watermark.get("window") or batch.watermark.get("last_window")
                first_day, last_day = (date.fromisoformat(d) for d in window)
            state.update_run(result.run_id, result.summary, batches=result.batches)
            if on_batch:
                on_batch(batch, summary)
    if result.summary.new == 0:
        result.status = "nothing_new"
        if source == "arxiv" and result.fetched == 0 and first_day and last_day:
            result.reason = nothing_new_reason(first_day, last_day, what)
        elif result.fetched == 0:
            result.reason = f"{what} had no papers in the requested range"
        else:
            result.reason = f"all {result.fetched} papers fetched were already in the database"


def run_sync(
    store,
    settings: Settings,
    sources: list[str],
    opts: SyncOptions | None = None,
    *,
    on_batch: Callable[[Batch, ImportSummary], None] | None = None,
) -> list[SourceResult]:
    """Sync ``sources`` one after the other; each under its own lock and run-log entry."""
    opts = opts or SyncOptions()
    return [run_source(s, store, settings, opts, on_batch=on_batch) for s in sources]
