"""arXiv's announcement calendar: why a sync found nothing new.

arXiv announces new papers Sunday to Thursday at 20:00 US Eastern time, and the mailings are
dated Monday to Friday.  There are no announcements on Friday and Saturday evenings, so
Saturday and Sunday bring nothing new, and arXiv skips a few holidays
(https://info.arxiv.org/help/availability.html).
"""

from __future__ import annotations

from datetime import date, timedelta

AVAILABILITY_URL = "https://info.arxiv.org/help/availability.html"
# Holidays arXiv has observed every year (others move; see AVAILABILITY_URL).
FIXED_HOLIDAYS = {(1, 1): "New Year's Day", (12, 25): "Christmas Day"}


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(n) for n in range((end - start).days + 1)]


def is_announcement_day(day: date) -> bool:
    """Whether arXiv's listing dated ``day`` can hold new papers (Monday to Friday)."""
    return day.weekday() < 5 and (day.month, day.day) not in FIXED_HOLIDAYS


def nothing_new_reason(start: date, end: date, what: str = "these categories") -> str:
    """A sentence for the user when a sync over [start, end] found no new arXiv papers."""
    window = days(start, end) if end >= start else [start]
    span = f"{start}" if start == end else f"{start} to {end}"
    if all(d.weekday() >= 5 for d in window):
        return (
            f"arXiv announced nothing new for {span}: it announces new papers Sunday to "
            "Thursday at 20:00 US Eastern, never on Friday or Saturday, so weekends bring "
            "nothing new."
        )
    holidays = [
        f"{FIXED_HOLIDAYS[(d.month, d.day)]} ({d})"
        for d in window
        if (d.month, d.day) in FIXED_HOLIDAYS
    ]
    if holidays and all(not is_announcement_day(d) for d in window):
        return f"arXiv announced nothing new for {span}: {', '.join(holidays)} is an arXiv holiday."
    return (
        f"arXiv announced no new papers in {what} for {span}. It may be an arXiv holiday "
        f"(see {AVAILABILITY_URL}) or a quiet day; the next sync will look again."
    )
