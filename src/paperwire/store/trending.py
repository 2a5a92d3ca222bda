"""Trending (``TrendingRepository`` over the engine): the store gathers the formula's inputs;
``paperwire.ranking`` scores."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Engine, func, select

from paperwire.core.clock import utcnow
from paperwire.core.listings import curated
from paperwire.ranking import WINDOW_DAYS, TrendingInputs, TrendingScore, trending_score
from paperwire.store.models import Listing, Organization, Paper
from paperwire.store.rows import (
    PAPER_COLUMNS,
    listing_columns,
    listing_row_view,
    local_counts,
    local_votes,
    row_view,
)
from paperwire.store.statements import LATEST_LISTED
from paperwire.store.views import PaperView


@dataclass(frozen=True, slots=True)
class TrendingItem:
    paper: PaperView
    trending: TrendingScore


@dataclass(frozen=True, slots=True)
class TrendingList:
    items: list[TrendingItem]
    as_of: datetime  # the reference time the ages were measured against
    window_days: int


class TrendingRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def trending_as_of(self, now: datetime | None = None) -> datetime:
        """The reference time: now, unless the newest listing is older than the window (an
        archive or a file-fed install), then the end of the newest listing day."""
        now = now or utcnow()
        with self.engine.connect() as c:
            last = c.scalar(LATEST_LISTED)
        if last is None:
            return now
        end_of_last = datetime.combine(last + timedelta(days=1), time())
        if now - end_of_last > timedelta(days=WINDOW_DAYS):
            return end_of_last
        return now

    def trending(
        self,
        *,
        now: datetime | None = None,
        window_days: int = WINDOW_DAYS,
        offset: int = 0,
        limit: int = 50,
        has_code: bool = False,
    ) -> TrendingList:
        """Curated papers first listed in the window before ``now``, by trending score
        (``has_code``: only those with a code repository)."""
        as_of = self.trending_as_of(now)
        start = (as_of - timedelta(days=window_days)).date()
        with self.engine.connect() as c:
            first = (
                select(Listing.paper_id, func.min(Listing.id).label("listing_id"))
                .where(curated(Listing.source), Listing.day >= start, Listing.day <= as_of.date())
                .group_by(Listing.paper_id)
                .subquery()
            )
            q = (
                select(*PAPER_COLUMNS, *listing_columns())
                .join(first, first.c.paper_id == Paper.id)
                .join(Listing, Listing.id == first.c.listing_id)
                .outerjoin(Organization, Organization.id == Listing.organization_id)
            )
            if has_code:
                q = q.where(Paper.github_repo.is_not(None))
            rows = c.execute(q).all()
            extra = local_votes(c, [r.id for r in rows])
            scored = []
            for r in rows:
                inputs = TrendingInputs(
                    votes=(r.hf_upvotes or 0) + extra.get(r.id, 0),
                    stars=r.github_stars or 0,
                    listed_at=r.l_submitted_at or datetime.combine(r.l_day, time()),
                )
                scored.append((trending_score(inputs, as_of), r))
            scored.sort(key=lambda t: (-t[0].score, t[1].arxiv_id))
            shown = scored[offset : offset + limit]
            comments = local_counts(c, [r.id for _, r in shown])
        items = []
        for score, r in shown:
            local = (extra.get(r.id, 0), comments.get(r.id, (0, 0))[1])
            view = row_view(r, listing_row_view(r), None, local)
            items.append(TrendingItem(paper=view, trending=score))
        return TrendingList(items=items, as_of=as_of, window_days=window_days)

    def trending_in(
        self, start: date, end: date, *, offset: int = 0, limit: int = 50, has_code: bool = False
    ) -> TrendingList:
        """Papers listed in [start, end] by the trending score, as of the end of ``end``
        (or now, if that is sooner): ``sort=trending`` with a date, week or month."""
        as_of = min(utcnow(), datetime.combine(end, time.max))
        window = max((as_of.date() - start).days, 0)
        return self.trending(
            now=as_of, window_days=window, offset=offset, limit=limit, has_code=has_code
        )
