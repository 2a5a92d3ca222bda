"""When digests are due: periods and send times (pure date arithmetic; the job that sends
them is ``digest/job.py``).

A daily digest covers one listing day and goes out the next day at ``PAPERWIRE_DIGEST_TIME``
(UTC); a weekly digest covers an ISO week (Monday to Sunday) and goes out the Monday after.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from paperwire.scheduling import parse_hhmm


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
