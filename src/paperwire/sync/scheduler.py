"""The daily sync inside ``paperwire serve``: a background thread, no cron needed.

``start(settings)`` starts it (``PAPERWIRE_SYNC_TIME``, UTC ``HH:MM``; sources from
``PAPERWIRE_SYNC_SOURCES``).  Each day's sync is a slot that runs on exactly one node when
several servers share the database (``paperwire.scheduling``).  When the server starts and no
sync has succeeded since the latest due slot (every server was down at sync time), it
catches up ``PAPERWIRE_SCHEDULE_DELAY`` seconds after start.  Runs take the same per-source
locks as ``paperwire sync``, so a manual sync and the scheduled one never overlap.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta

from paperwire.scheduling import DailyJob, latest_slot, parse_hhmm, slot_key
from paperwire.settings import Settings

log = logging.getLogger("paperwire.sync")


def parse_sync_time(text: str) -> time:
    return parse_hhmm(text, "PAPERWIRE_SYNC_TIME", "06:30")


def next_run(settings: Settings, now: datetime | None = None) -> datetime | None:
    """When the scheduled sync runs next (aware UTC), or None when it is switched off."""
    if not settings.sync_enabled:
        return None
    now = now or datetime.now(UTC)
    at = datetime.combine(now.date(), parse_sync_time(settings.sync_time), tzinfo=UTC)
    return at if at > now else at + timedelta(days=1)


class Scheduler(DailyJob):
    def __init__(
        self, settings: Settings, *, catch_up: bool = True, open_store: Callable | None = None
    ) -> None:
        # the composition root hands in its store opener (the search indexer attached)
        self._open_store = open_store
        super().__init__(
            "sync",
            settings,
            parse_sync_time(settings.sync_time),
            self.sync_once,
            satisfied=self._synced_since,
        )
        if not catch_up:  # only future slots
            self._settled.add(slot_key(latest_slot(self.at)))

    def _synced_since(self, slot: datetime) -> bool:
        """A sync (scheduled or manual) succeeded after this slot fell due: nothing to do."""
        from paperwire.store.sync_state import SyncStore

        runs = SyncStore(self.engine).last_runs()
        done = [r.finished_at for r in runs.values() if r.finished_at and r.status != "error"]
        return bool(done) and max(done).replace(tzinfo=UTC) >= slot

    def sync_once(self) -> str:
        from paperwire.store import open_store
        from paperwire.sync.runner import SyncOptions, run_sync, split_list

        store = (self._open_store or open_store)(self.settings)
        lines = []
        try:
            sources = split_list(self.settings.sync_sources)
            if "arxiv" in sources and not split_list(self.settings.arxiv_categories):
                sources.remove("arxiv")  # no categories chosen: nothing to follow on arXiv
            for res in run_sync(store, self.settings, sources, SyncOptions()):
                line = (
                    f"{res.source}: {res.status}, {res.summary.new} new, "
                    f"{res.summary.updated} updated"
                    + (f" ({res.error or res.reason})" if res.error or res.reason else "")
                )
                log.info("sync %s", line)
                lines.append(line)
        finally:
            store.close()
        return "; ".join(lines)


def start(
    settings: Settings, *, catch_up: bool = True, open_store: Callable | None = None
) -> Scheduler | None:
    """Start the daily sync thread (None when ``PAPERWIRE_SYNC_ENABLED`` is false);
    ``open_store`` opens the store for each run (default: the store alone)."""
    if not settings.sync_enabled:
        return None
    parse_sync_time(settings.sync_time)  # fail at start, not at 06:30
    scheduler = Scheduler(settings, catch_up=catch_up, open_store=open_store)
    scheduler.start()
    when = next_run(settings)
    if when is not None:
        log.info("next sync at %s UTC", when.strftime("%Y-%m-%d %H:%M"))
    return scheduler
