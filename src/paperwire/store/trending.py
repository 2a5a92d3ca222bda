"""Trending (``TrendingRepository`` over the engine): the store gathers the formula's inputs;
``paperwire.ranking`` scores."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from paperwire.core.clock import utcnow
from paperwire.core.listings import CURATED
from paperwire.ranking import WINDOW_DAYS, TrendingInputs, TrendingScore, trending_score
from paperwire.store.models import Listing, Organization, Paper
from paperwire.store.rows import listing_view, local_counts, local_votes, paper_view
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
        with Session(self.engine) as s:
            last = s.scalar(select(func.max(Listing.day)).where(Listing.source.in_(CURATED)))
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
        with Session(self.engine) as s:
            first = (
                select(Listing.paper_id, func.min(Listing.id).label("listing_id"))
                .where(
                    Listing.source.in_(CURATED), Listing.day >= start, Listing.day <= as_of.date()
                )
                .group_by(Listing.paper_id)
                .subquery()
            )
            q = (
                select(Paper, Listing, Organization)
                .join(first, first.c.paper_id == Paper.id)
                .join(Listing, Listing.id == first.c.listing_id)
                .outerjoin(Organization, Organization.id == Listing.organization_id)
            )
            if has_code:
                q = q.where(Paper.github_repo.is_not(None))
            rows = s.execute(q).all()
            extra = local_votes(s, [p.id for p, _, _ in rows])
            scored = []
            for paper, listing, org in rows:
                listed_at = listing.submitted_at or datetime.combine(listing.day, time())
                inputs = TrendingInputs(
                    votes=(paper.hf_upvotes or 0) + extra.get(paper.id, 0),
                    stars=paper.github_stars or 0,
                    listed_at=listed_at,
                )
                scored.append((trending_score(inputs, as_of), paper, listing, org))
            scored.sort(key=lambda t: (-t[0].score, t[1].arxiv_id))
            shown = scored[offset : offset + limit]
            comments = local_counts(s, [paper.id for _, paper, _, _ in shown])
        items = []
        for score, paper, listing, org in shown:
            local = (extra.get(paper.id, 0), comments.get(paper.id, (0, 0))[1])
            view = paper_view(paper, listing_view(listing, org), None, local)
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
