"""The daily digest job inside ``paperwire serve``: ``send_due_digests(settings, index)`` sends
whatever is due now; running it twice sends nothing twice (the delivery log)."""

from __future__ import annotations

import logging
from datetime import datetime

from paperwire.digest.schedule import parse_time
from paperwire.digest.send import send_digests
from paperwire.digest.topics import IndexSource
from paperwire.scheduling import DailyJob
from paperwire.settings import Settings

log = logging.getLogger("paperwire.digest")


def send_due_digests(settings: Settings, index: IndexSource, now: datetime | None = None):
    """Send every digest due at ``now`` (default: now); safe to run any number of times."""
    from paperwire.store import open_store

    store = open_store(settings)
    try:
        return send_digests(store, settings, index=index, now=now)
    finally:
        store.close()


class DigestScheduler(DailyJob):
    """Sends due digests at the digest time, on one node per day (``paperwire.scheduling``);
    a day missed while every server was down is sent ``PAPERWIRE_SCHEDULE_DELAY`` s after
    start.  The delivery log makes a repeated send harmless anyway (docs/digest.md)."""

    def __init__(
        self, settings: Settings, index: IndexSource, *, first_delay: float | None = None
    ) -> None:
        self.index = index
        super().__init__(
            "digest",
            settings,
            parse_time(settings.digest_time),
            self.send_once,
            first_delay=first_delay,
        )

    def send_once(self) -> str:
        report = send_due_digests(self.settings, self.index)
        log.info("digests: %s", report.summary())
        return report.summary()


def start(settings: Settings, index: IndexSource) -> DigestScheduler | None:
    """Start the digest thread (None when ``PAPERWIRE_DIGEST_ENABLED`` is false); ``index``:
    the composition root's search index (``AppContext.index``)."""
    if not settings.digest_enabled:
        return None
    parse_time(settings.digest_time)  # fail at start, not at send time
    scheduler = DigestScheduler(settings, index)
    scheduler.start()
    return scheduler
