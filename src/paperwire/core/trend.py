"""Papers per month: the series behind the trend charts of search, author and organization
pages and of ``/api/trend`` (issue #17).  Pure: the slices count, this shapes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

MONTHS = 60  # the charts cover the last five years


@dataclass(frozen=True, slots=True)
class Month:
    key: str  # "2024-05"
    start: date
    end: date  # the last day of the month


@dataclass(frozen=True, slots=True)
class MonthCount:
    month: str
    papers: int
    upvotes: int


def months_until(last: date, n: int = MONTHS) -> list[Month]:
    """The ``n`` calendar months ending with the month of ``last``, oldest first."""
    y, m = last.year, last.month
    out = []
    for _ in range(n):
        nxt = date(y + (m == 12), m % 12 + 1, 1)
        out.append(Month(f"{y:04d}-{m:02d}", date(y, m, 1), date.fromordinal(nxt.toordinal() - 1)))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out[::-1]


def count_by_month(
    items: Iterable[tuple[date | None, int]], months: list[Month]
) -> list[MonthCount]:
    """Papers and their upvotes per month, from ``(day, upvotes)`` pairs (days outside the
    months are left out)."""
    index = {(m.start.year, m.start.month): i for i, m in enumerate(months)}
    papers = [0] * len(months)
    votes = [0] * len(months)
    for day, up in items:
        if day is None:
            continue
        i = index.get((day.year, day.month))
        if i is not None:
            papers[i] += 1
            votes[i] += int(up or 0)
    return [MonthCount(m.key, papers[i], votes[i]) for i, m in enumerate(months)]


@dataclass(frozen=True, slots=True)
class Bar:
    """One month's bar of a chart 600 wide and 100 high (SVG user units)."""

    x: float
    y: float
    width: float
    height: float
    count: MonthCount


@dataclass(frozen=True, slots=True)
class Chart:
    bars: list[Bar]  # the months with papers, oldest first
    total: int
    top: int  # the most papers in one month
    months: int
    first: str
    last: str


def chart(series: list[MonthCount]) -> Chart | None:
    """The bars of a trend chart (None when no month has papers): the geometry is computed
    here, so the template only writes it out (a Jinja macro doing the sums and scaling was
    half of a small author page's render)."""
    total = sum(c.papers for c in series)
    if not series or not total:
        return None
    top = max(c.papers for c in series)
    w = 600 / len(series)
    bars = []
    for i, c in enumerate(series):
        if c.papers:
            h = round(c.papers / top * 92, 1)
            bars.append(Bar(round(i * w, 2), 100 - h, round(w * 0.8, 2), h, c))
    return Chart(bars, total, top, len(series), series[0].month, series[-1].month)


def as_json(series: list[MonthCount]) -> list[dict[str, object]]:
    return [{"month": c.month, "papers": c.papers, "upvotes": c.upvotes} for c in series]
