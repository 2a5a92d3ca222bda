"""Days, ISO weeks and months as the pages and the API name them, parsed into date ranges.

``2026-08-21`` is a day, ``2026-W34`` an ISO week (Monday to Sunday), ``2026-08`` a month.
Anything else raises :class:`BadPeriod` with a message a person can act on.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

# re.ASCII: \d would also match other scripts' digits (Arabic-Indic, Devanagari, ...)
_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$", re.ASCII)
_WEEK = re.compile(r"^(\d{4})-W(\d{1,2})$", re.IGNORECASE | re.ASCII)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$", re.ASCII)
# Papers are dated within these years; outside them a period (and its neighbours, which
# pages link to) could leave the range Python's dates cover.
MIN_YEAR, MAX_YEAR = 1900, 2999


class BadPeriod(ValueError):
    """Text that is not a valid day, ISO week or month."""


def _check_year(year: int, text: str) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise BadPeriod(f"{text!r} is out of range: paperwire lists years {MIN_YEAR} to {MAX_YEAR}")


@dataclass(frozen=True, slots=True)
class Period:
    kind: str  # "day", "week" or "month"
    start: date
    end: date

    @property
    def key(self) -> str:
        if self.kind == "day":
            return self.start.isoformat()
        if self.kind == "week":
            return week_key(self.start)
        return month_key(self.start)

    @property
    def url(self) -> str:
        return f"/papers/{'date' if self.kind == 'day' else self.kind}/{self.key}"

    @property
    def label(self) -> str:
        if self.kind == "day":
            return self.start.strftime("%A, %-d %B %Y")
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return (
                f"Week {week}, {year} "
                f"({self.start.strftime('%-d %b')} to {self.end.strftime('%-d %b %Y')})"
            )
        return self.start.strftime("%B %Y")

    def previous(self) -> Period | None:
        try:
            return self._previous()
        except (OverflowError, ValueError):
            return None

    def next(self) -> Period | None:
        try:
            return self._next()
        except (OverflowError, ValueError):
            return None

    def _previous(self) -> Period:
        if self.kind == "day":
            return day_period(self.start - timedelta(days=1))
        if self.kind == "week":
            return week_period(self.start - timedelta(days=7))
        return month_period((self.start - timedelta(days=1)).replace(day=1))

    def _next(self) -> Period:
        if self.kind == "day":
            return day_period(self.start + timedelta(days=1))
        if self.kind == "week":
            return week_period(self.start + timedelta(days=7))
        return month_period(self.end + timedelta(days=1))

    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]


def week_key(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def day_period(day: date) -> Period:
    return Period("day", day, day)


def week_period(day: date) -> Period:
    monday = day - timedelta(days=day.weekday())
    return Period("week", monday, monday + timedelta(days=6))


def month_period(day: date) -> Period:
    last = calendar.monthrange(day.year, day.month)[1]
    return Period("month", day.replace(day=1), day.replace(day=last))


def parse_day(text: str) -> date:
    m = _DAY.match(text.strip())
    if not m:
        raise BadPeriod(f"{text!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-08-21")
    _check_year(int(m.group(1)), text)
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError as exc:
        raise BadPeriod(f"{text!r} is not a valid date ({exc})") from None


def parse_week(text: str) -> Period:
    m = _WEEK.match(text.strip())
    if not m:
        raise BadPeriod(f"{text!r} is not an ISO week: write it as YYYY-Www, e.g. 2026-W34")
    year, week = int(m.group(1)), int(m.group(2))
    _check_year(year, text)
    try:
        monday = date.fromisocalendar(year, week, 1)
    except ValueError:
        raise BadPeriod(
            f"{text!r} is not a valid ISO week: {year} has weeks 1 to "
            f"{date(year, 12, 28).isocalendar()[1] if year >= 1 else 52}"
        ) from None
    return week_period(monday)


def parse_month(text: str) -> Period:
    m = _MONTH.match(text.strip())
    if not m:
        raise BadPeriod(f"{text!r} is not a month: write it as YYYY-MM, e.g. 2026-08")
    year, month = int(m.group(1)), int(m.group(2))
    _check_year(year, text)
    if not 1 <= month <= 12:
        raise BadPeriod(f"{text!r} is not a valid month: the month must be 01 to 12")
    return month_period(date(year, month, 1))


def parse_period(kind: str, text: str) -> Period:
    if kind == "day":
        return day_period(parse_day(text))
    if kind == "week":
        return parse_week(text)
    if kind == "month":
        return parse_month(text)
    raise BadPeriod(f"unknown period {kind!r}")
