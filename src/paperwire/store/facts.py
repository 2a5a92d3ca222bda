"""``PaperFacts(engine)``: small reads about the whole collection that the trend charts and
the has-code filter need (a typed repository, not a mixin of ``Store``)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from paperwire.core.listings import curated
from paperwire.core.sql import ids_in
from paperwire.store.models import Listing, Organization, Paper
from paperwire.store.statements import LATEST_BOTH

_STARS = select(Paper.id, Paper.github_stars).where(
    ids_in(Paper.id), Paper.github_repo.is_not(None)
)


class PaperFacts:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def latest_day(self) -> date | None:
        """The newest curated listing day or arXiv publication day (where trend charts end)."""
        with self.engine.connect() as c:
            row = c.execute(LATEST_BOTH).first()
        days = [d for d in (row or ()) if d]
        return max(days) if days else None

    def organization_days(self, name: str) -> list[tuple[date, int]]:
        """``(first listing day, HF upvotes)`` of each curated paper of this organization."""
        first = (
            select(Listing.paper_id, func.min(Listing.day).label("day"))
            .join(Organization, Organization.id == Listing.organization_id)
            .where(Organization.name == name, curated(Listing.source))
            .group_by(Listing.paper_id)
            .subquery()
        )
        with Session(self.engine) as s:
            rows = s.execute(
                select(first.c.day, Paper.hf_upvotes).join(Paper, Paper.id == first.c.paper_id)
            )
            return [(d, int(u or 0)) for d, u in rows]

    def code_paper_ids(self) -> frozenset[int]:
        """Store ids of the papers with a code repository (read from a partial index)."""
        with Session(self.engine) as s:
            return frozenset(s.scalars(select(Paper.id).where(Paper.github_repo.is_not(None))))

    def github_stars(self, ids: list[int]) -> dict[int, int]:
        """GitHub stars of these papers (those without a repository are left out)."""
        with self.engine.connect() as c:
            rows = c.execute(_STARS, {"ids": ids}).all()
        return {pid: int(n or 0) for pid, n in rows}
