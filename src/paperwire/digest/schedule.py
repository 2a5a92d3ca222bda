"""When digests are due: periods, and the daily job inside ``paperwire serve``.

A daily digest covers one listing day and goes out the next day at ``PAPERWIRE_DIGEST_TIME``
(UTC); a weekly digest covers an ISO week (Monday to Sunday) and goes out the Monday after.
``send_due_digests(settings)`` sends whatever is due now; running it twice sends nothing twice.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

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
    try:
        hours, minutes = (int(x) for x in text.strip().split(":"))
        return time(hours, minutes)
    except (ValueError, TypeError):
        raise ValueError(
            f"PAPERWIRE_DIGEST_TIME must be HH:MM (UTC), e.g. 07:00; got {text!r}"
        ) from None


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


def next_send(settings: Settings, now: datetime | None = None) -> datetime:
    """The next time digests fall due (naive UTC)."""
    now = naive_utc(now)
    at = datetime.combine(now.date(), parse_time(settings.digest_time))
    return at if at > now else at + timedelta(days=1)


def send_due_digests(settings: Settings, now: datetime | None = None):
    """Send every digest due at ``now`` (default: now); safe to run any number of times."""
    from paperwire.digest.send import send_digests
    from paperwire.store import open_store

    store = open_store(settings)
    try:
        return send_digests(store, settings, now=now)
    finally:
        store.close()


class DigestScheduler(threading.Thread):
    """Sends due digests after start (catching up) and then daily at the digest time."""

    def __init__(self, settings: Settings, *, catch_up_delay: float = 60.0) -> None:
        super().__init__(name="paperwire-digest", daemon=True)
        self.settings = settings
        self.catch_up_delay = catch_up_delay
        self._stop = threading.Event()

    def stop(self, timeout: float | None = 5.0) -> None:
        self._stop.set()
        if self.is_alive():
            self.join(timeout)

    def send_once(self) -> None:
        try:
            report = send_due_digests(self.settings)
            log.info("digests: %s", report.summary())
        except Exception:  # keep the server and the schedule alive
            log.exception("sending digests failed")

    def run(self) -> None:
        if self._stop.wait(self.catch_up_delay):
            return
        self.send_once()  # due periods not sent yet (the server was down at digest time)
        while not self._stop.is_set():
            wait = (next_send(self.settings) - naive_utc(None)).total_seconds()
            if self._stop.wait(max(wait, 0)):
                return
            self.send_once()


def start(settings: Settings) -> DigestScheduler | None:
    """Start the digest thread (None when ``PAPERWIRE_DIGEST_ENABLED`` is false)."""
    if not settings.digest_enabled:
        return None
    parse_time(settings.digest_time)  # fail at start, not at send time
    scheduler = DigestScheduler(settings)
    scheduler.start()
    return scheduler
