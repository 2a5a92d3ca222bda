"""The authors slice's queries: papers of a name (light rows), their organizations, follows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import Engine, bindparam, delete, func, select
from sqlalchemy.orm import Session

from paperwire.authors.names import display, key
from paperwire.core.clock import utcnow
from paperwire.core.listings import curated
from paperwire.core.sql import dialect_insert, ids_in
from paperwire.store.author_models import AuthorFollow
from paperwire.store.models import Listing, Organization, Paper
from paperwire.store.rows import local_votes

# built once: on an author page, building statements per call cost more than running them
_AUTHORED = select(
    Paper.id, Paper.authors, Paper.published_on, Paper.published_at, Paper.hf_upvotes
).where(ids_in(Paper.id))
_FIRST_LISTED = (
    select(Listing.paper_id, func.min(Listing.day))
    .where(ids_in(Listing.paper_id))
    .group_by(Listing.paper_id)
)
_ORGANIZATIONS = (
    select(Organization.name, Organization.fullname, func.count(func.distinct(Listing.paper_id)))
    .join(Listing, Listing.organization_id == Organization.id)
    .where(ids_in(Listing.paper_id), curated(Listing.source))
    .group_by(Organization.name, Organization.fullname)
)
_FOLLOWERS = select(func.count()).where(AuthorFollow.author_key == bindparam("key"))


@dataclass(frozen=True)
class AuthoredPaper:
    """What an author page sorts and counts by, for one paper."""

    id: int
    authors: list[str]
    day: date | None  # arXiv publication day, else the first listing's
    upvotes: int  # HF's and this site's


class AuthorRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- papers ----------------------------------------------------------------------
    def papers(self, ids: Iterable[int], votes: bool = True) -> list[AuthoredPaper]:
        """The papers among ``ids`` that exist, with their authors, day and upvotes (HF's
        alone when ``votes`` is false: the site's own take one more query)."""
        ids = list(ids)
        out: list[AuthoredPaper] = []
        with self.engine.connect() as c:
            local = local_votes(c, ids) if votes else {}
            # all() fetches in one call: row by row cost a third more for 400 papers
            for pid, authors, on, at, hf in c.execute(_AUTHORED, {"ids": ids}).all():
                day = on or (at.date() if at else None)
                out.append(
                    AuthoredPaper(pid, list(authors or []), day, (hf or 0) + local.get(pid, 0))
                )
            undated = [p.id for p in out if p.day is None]
            listed: dict[int, date] = {}
            if undated:
                listed.update((pid, d) for pid, d in c.execute(_FIRST_LISTED, {"ids": undated}))
        if listed:
            out = [replace(p, day=listed.get(p.id)) if p.day is None else p for p in out]
        return out

    def organizations(self, ids: list[int]) -> list[tuple[str, str, int]]:
        """``(name, display name, papers)`` of the organizations that listed these papers,
        most papers first."""
        with self.engine.connect() as c:  # one row per organization (names are unique)
            rows = c.execute(_ORGANIZATIONS, {"ids": ids}).all()
        return sorted(
            ((name, full or name, int(n)) for name, full, n in rows),
            key=lambda t: (-t[2], t[0].lower()),
        )

    # -- follows ---------------------------------------------------------------------
    def follow(self, user_id: int, name: str, on: bool = True) -> None:
        k = key(name)
        with Session(self.engine) as s:
            if on:
                q = dialect_insert(s.get_bind().dialect.name, AuthorFollow).values(
                    user_id=user_id, author_key=k, name=display(name)[:200], created_at=utcnow()
                )
                s.execute(q.on_conflict_do_nothing())
            else:
                s.execute(
                    delete(AuthorFollow).where(
                        AuthorFollow.user_id == user_id, AuthorFollow.author_key == k
                    )
                )
            s.commit()

    def following(self, user_id: int, name: str) -> bool:
        with Session(self.engine) as s:
            return (
                s.scalar(
                    select(AuthorFollow.user_id).where(
                        AuthorFollow.user_id == user_id, AuthorFollow.author_key == key(name)
                    )
                )
                is not None
            )

    def followed(self, user_id: int) -> list[str]:
        """The names this reader follows, as they followed them."""
        with Session(self.engine) as s:
            return list(
                s.scalars(
                    select(AuthorFollow.name)
                    .where(AuthorFollow.user_id == user_id)
                    .order_by(AuthorFollow.name)
                )
            )

    def followers(self, name: str) -> int:
        with self.engine.connect() as c:
            n = c.scalar(_FOLLOWERS, {"key": key(name)})
        return int(n or 0)
