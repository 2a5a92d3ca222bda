"""The daily sync inside ``paperwire serve``: a background thread, no cron needed.

``start(settings)`` starts it (``PAPERWIRE_SYNC_TIME``, UTC ``HH:MM``; sources from
``PAPERWIRE_SYNC_SOURCES``).  When the server starts and the last sync is more than a day
old (the server was down at sync time), it catches up soon after start.  Runs take the same
per-source locks as ``paperwire sync``, so a manual sync and the scheduled one never overlap.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, time, timedelta

from paperwire.settings import Settings

log = logging.getLogger("paperwire.sync")
CATCH_UP_DELAY = 30.0  # seconds after start before a catch-up sync


def parse_sync_time(text: str) -> time:
    try:
        hours, minutes = (int(x) for x in text.strip().split(":"))
        return time(hours, minutes)
    except (ValueError, TypeError):
        msg = f"PAPERWIRE_SYNC_TIME must be HH:MM (UTC), e.g. 06:30; got {text!r}"
        raise ValueError(msg) from None


def next_run(settings: Settings, now: datetime | None = None) -> datetime | None:
    """When the scheduled sync runs next (aware UTC), or None when it is switched off."""
    if not settings.sync_enabled:
        return None
    now = now or datetime.now(UTC)
    at = datetime.combine(now.date(), parse_sync_time(settings.sync_time), tzinfo=UTC)
    return at if at > now else at + timedelta(days=1)


def _last_success(settings: Settings) -> datetime | None:
    from paperwire.store import open_store
    from paperwire.store.sync_state import SyncStore

    store = open_store(settings)
    try:
        runs = SyncStore(store.engine).last_runs()
    finally:
        store.close()
    done = [r.finished_at for r in runs.values() if r.finished_at and r.status != "error"]
    return max(done).replace(tzinfo=UTC) if done else None


class Scheduler(threading.Thread):
    def __init__(self, settings: Settings, *, catch_up: bool = True) -> None:
        super().__init__(name="paperwire-sync", daemon=True)
        self.settings = settings
        self.catch_up = catch_up
        self._stop_event = threading.Event()
        self.runs = 0

    def stop(self, timeout: float | None = 5.0) -> None:
        self._stop_event.set()
        if self.is_alive():
            self.join(timeout)

    def sync_once(self) -> None:
        from paperwire.store import open_store
        from paperwire.sync.runner import SyncOptions, run_sync, split_list

        store = open_store(self.settings)
        try:
            sources = split_list(self.settings.sync_sources)
            if "arxiv" in sources and not split_list(self.settings.arxiv_categories):
                sources.remove("arxiv")  # no categories chosen: nothing to follow on arXiv
            for res in run_sync(store, self.settings, sources, SyncOptions()):
                log.info(
                    "sync %s: %s, %d new, %d updated%s",
                    res.source,
                    res.status,
                    res.summary.new,
                    res.summary.updated,
                    f" ({res.error or res.reason})" if res.error or res.reason else "",
                )
        except Exception:  # keep the server and the schedule alive
            log.exception("scheduled sync failed")
        finally:
            store.close()
            self.runs += 1

    def run(self) -> None:
        if self.catch_up:
            try:
                last = _last_success(self.settings)
            except Exception:
                log.exception("cannot read the sync log")
                last = None
            stale = last is None or datetime.now(UTC) - last > timedelta(days=1)
            if stale and not self._stop_event.wait(CATCH_UP_DELAY):
                self.sync_once()
        while not self._stop_event.is_set():
            when = next_run(self.settings)
            if when is None:
                return
            wait = (when - datetime.now(UTC)).total_seconds()
            log.info("next sync at %s UTC", when.strftime("%Y-%m-%d %H:%M"))
            if self._stop_event.wait(max(wait, 0)):
                return
            self.sync_once()


def start(settings: Settings, *, catch_up: bool = True) -> Scheduler | None:
    """Start the daily sync thread (None when ``PAPERWIRE_SYNC_ENABLED`` is false)."""
    if not settings.sync_enabled:
        return None
    parse_sync_time(settings.sync_time)  # fail at start, not at 06:30
    scheduler = Scheduler(settings, catch_up=catch_up)
    scheduler.start()
    return scheduler
