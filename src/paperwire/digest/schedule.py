"""When digests are due: periods, and the daily job inside ``paperwire serve``.

A daily digest covers one listing day and goes out the next day at ``PAPERWIRE_DIGEST_TIME``
(UTC); a weekly digest covers an ISO week (Monday to Sunday) and goes out the Monday after.
``send_due_digests(settings)`` sends whatever is due now; running it twice sends nothing twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from paperwire.scheduling import DailyJob, parse_hhmm
from paperwire.settings import Settings

log = logging.getLogger("paperwire.digest")


@dataclass(frozen=True, slots=True)
class Period:
    frequency: str
    key: str  # "daily:2026-08-21" or "weekly:2026-W34": one digest per subscription and key
    start: date
    end: date  # inclusive

    @property
    def label(self) -> str:
        if self.frequency == "daily":
            return self.start.strftime("%-d %B %Y")
        return f"week of {self.start.strftime('%-d %B %Y')}"


def parse_time(text: str) -> time:
    return parse_hhmm(text, "PAPERWIRE_DIGEST_TIME", "07:00")


def naive_utc(now: datetime | None) -> datetime:
    now = now or datetime.now(UTC)
    return now.astimezone(UTC).replace(tzinfo=None) if now.tzinfo else now


def daily_period(day: date) -> Period:
    return Period("daily", f"daily:{day.isoformat()}", day, day)


def weekly_period(monday: date) -> Period:
    year, week, _ = monday.isocalendar()
    return Period("weekly", f"weekly:{year}-W{week:02d}", monday, monday + timedelta(days=6))


def due_period(frequency: str, now: datetime | None, at: time) -> Period:
    """The latest period of ``frequency`` whose send time has passed at ``now``."""
    now = naive_utc(now)
    send_day = now.date() if now.time() >= at else now.date() - timedelta(days=1)
    if frequency == "daily":
        return daily_period(send_day - timedelta(days=1))
    if frequency == "weekly":
        monday = send_day - timedelta(days=send_day.weekday())
        return weekly_period(monday - timedelta(days=7))
    raise ValueError(f"unknown frequency {frequency!r}: use daily or weekly")


def send_due_digests(settings: Settings, now: datetime | None = None):
    """Send every digest due at ``now`` (default: now); safe to run any number of times."""
    from paperwire.digest.send import send_digests
    from paperwire.store import open_store

    store = open_store(settings)
    try:
        return send_digests(store, settings, now=now)
    finally:
        store.close()


class DigestScheduler(DailyJob):
    """Sends due digests at the digest time, on one node per day (``paperwire.scheduling``);
    a day missed while every server was down is sent ``PAPERWIRE_SCHEDULE_DELAY`` s after
    start.  The delivery log makes a repeated send harmless anyway (docs/digest.md)."""

    def __init__(self, settings: Settings, *, first_delay: float | None = None) -> None:
        super().__init__(
            "digest",
            settings,
            parse_time(settings.digest_time),
            self.send_once,
            first_delay=first_delay,
        )

    def send_once(self) -> str:
        report = send_due_digests(self.settings)
        log.info("digests: %s", report.summary())
        return report.summary()


def start(settings: Settings) -> DigestScheduler | None:
    """Start the digest thread (None when ``PAPERWIRE_DIGEST_ENABLED`` is false)."""
    if not settings.digest_enabled:
        return None
    parse_time(settings.digest_time)  # fail at start, not at send time
    scheduler = DigestScheduler(settings)
    scheduler.start()
    return scheduler
