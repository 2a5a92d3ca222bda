"""The sync: pull the live sources into the store, batch by batch, resumably.

Each source is a registered :class:`~paperwire.sync.sources.SyncSource` whose batches are the
records of one upstream page (an HF day, an arXiv API page, an OAI-PMH page) and the
watermark that is true once they are stored; the runner takes the source object.
Each batch is written in ONE transaction together with its watermark (a batch hook of the
importer), so a sync killed at any point resumes after the last committed batch: nothing is
lost and, the import being idempotent, nothing is duplicated.  New papers reach the search
index in the same run: the store's import listeners (attached by
``paperwire.context.open_store``) index every committed batch.  A row lease per source
(:mod:`paperwire.store.sync_state`) keeps two syncs from running the same source at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from paperwire.record import PaperRecord
from paperwire.settings import Settings
from paperwire.sources.http import SourceError
from paperwire.store.importer import ImportSummary
from paperwire.store.sync_state import Lease, LockLost, SyncStore
from paperwire.sync.sources import (  # noqa: F401  (re-exported: the sync's public names)
    REGISTRY,
    Batch,
    SyncOptions,
    SyncSource,
    get_source,
    split_list,
    today_utc,
)

SOURCES = tuple(REGISTRY)  # the built-in sources' names


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


# -- running one source ----------------------------------------------------------------------
def run_source(
    source: SyncSource,
    store,
    settings: Settings,
    opts: SyncOptions,
    *,
    on_batch: Callable[[Batch, ImportSummary], None] | None = None,
) -> SourceResult:
    """Sync one source under its lock; never raises for a source failure (see the result)."""
    name = source.name
    state = SyncStore(store.engine)
    lease = state.acquire(name, ttl=settings.sync_lock_ttl)
    if lease is None:
        holder = state.lock_holder(name)
        who = f" ({holder.owner}, since {holder.acquired_at:%Y-%m-%d %H:%M} UTC)" if holder else ""
        return SourceResult(
            name,
            "locked",
            error=f"another sync of {name} is running{who}; try again when it has finished",
        )
    params = {
        "since": opts.since.isoformat() if opts.since else None,
        "until": opts.until.isoformat() if opts.until else None,
        "categories": opts.categories,
        "restart": opts.restart,
    }
    run_id = state.start_run(name, params)
    result = SourceResult(name, "ok", run_id=run_id)
    try:
        with lease:
            _run_batches(source, store, settings, opts, state, lease, result, on_batch)
    except (SourceError, LockLost) as exc:
        result.status, result.error = "error", str(exc)
    except Exception as exc:  # a bug or a database failure: recorded, then raised
        result.status, result.error = "error", f"{exc.__class__.__name__}: {exc}"
        state.update_run(
            run_id,
            result.summary,
            batches=result.batches,
            status="error",
            error=result.error,
        )
        raise
    except BaseException:
        state.update_run(
            run_id,
            result.summary,
            batches=result.batches,
            status="interrupted",
            error="stopped by the user",
        )
        raise
    state.update_run(
        run_id,
        result.summary,
        batches=result.batches,
        status=result.status,
        error=result.error,
        reason=result.reason,
    )
    return result


def _run_batches(
    source: SyncSource, store, settings, opts, state, lease: Lease, result, on_batch
) -> None:
    opened = source.open(settings, state, opts)
    first_day = last_day = None
    with opened.client:
        for batch in opened.batches:
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
            span = source.span(batch)
            if span:
                first_day, last_day = first_day or span[0], span[1]
            state.update_run(result.run_id, result.summary, batches=result.batches)
            if on_batch:
                on_batch(batch, summary)
    if result.summary.new == 0:
        result.status = "nothing_new"
        reason = None
        if result.fetched == 0 and first_day and last_day:
            reason = source.nothing_new(first_day, last_day, opened.what)
        if reason:
            result.reason = reason
        elif result.fetched == 0:
            result.reason = f"{opened.what} had no papers in the requested range"
        else:
            result.reason = f"all {result.fetched} papers fetched were already in the database"


def run_sync(
    store,
    settings: Settings,
    sources: Sequence[str | SyncSource],
    opts: SyncOptions | None = None,
    *,
    on_batch: Callable[[Batch, ImportSummary], None] | None = None,
) -> list[SourceResult]:
    """Sync ``sources`` (registered names, or source objects) one after the other; each under
    its own lock and run-log entry."""
    opts = opts or SyncOptions()
    objs = [get_source(s) if isinstance(s, str) else s for s in sources]
    return [run_source(s, store, settings, opts, on_batch=on_batch) for s in objs]
