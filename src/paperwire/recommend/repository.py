"""The recommend slice's queries (``RecommendRepository`` over the engine): a reader's
positives (upvotes, library, saved papers) and negatives (not interested), recent
candidates, and resolving imported references (arXiv id, DOI, title) to papers."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta

from sqlalchemy import DateTime, Engine, delete, func, literal, select, update
from sqlalchemy.orm import Session

from paperwire.core.clock import utcnow
from paperwire.core.listings import curated
from paperwire.core.sql import IN_CHUNK, dialect_insert, insert_ignore
from paperwire.store.community_models import Vote
from paperwire.store.models import Listing, Paper
from paperwire.store.recommend_models import LibraryPaper, NotInterested

_NON_WORD = re.compile(r"[^0-9a-z]+")


def title_key(title: str) -> str:
    """A title reduced for matching: accents, case, braces and punctuation dropped."""
    t = unicodedata.normalize("NFKD", title or "").encode("ascii", "ignore").decode().lower()
    return _NON_WORD.sub(" ", t).strip()


class RecommendRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- the reader -------------------------------------------------------------------
    def add_to_library(self, user_id: int, paper_ids: list[int], source: str = "library") -> int:
        """Add papers to a reader's library; the number that were not there yet.  One
        ``INSERT ... SELECT`` from the papers per chunk, in one transaction: a paper deleted
        since the ids were looked up is left out instead of failing the whole import on its
        foreign key (and a library of 2,000 papers is a few statements, not 2,000)."""
        ids = list(dict.fromkeys(paper_ids))
        count = select(func.count()).where(LibraryPaper.user_id == user_id)
        cols = ["user_id", "paper_id", "source", "created_at"]
        with Session(self.engine) as s, s.begin():
            dialect = s.get_bind().dialect.name
            before = s.scalar(count) or 0
            now = utcnow()
            for i in range(0, len(ids), IN_CHUNK):
                present = select(
                    literal(user_id), Paper.id, literal(source), literal(now, DateTime())
                ).where(Paper.id.in_(ids[i : i + IN_CHUNK]))
                s.execute(
                    dialect_insert(dialect, LibraryPaper)
                    .from_select(cols, present)
                    .on_conflict_do_nothing()
                )
            after = s.scalar(count) or 0  # rowcount is not reliable here on PostgreSQL
        return after - before

    def library_count(self, user_id: int) -> int:
        with Session(self.engine) as s:
            return (
                s.scalar(
                    select(func.count())
                    .select_from(LibraryPaper)
                    .where(LibraryPaper.user_id == user_id, LibraryPaper.source != "saved")
                )
                or 0
            )

    def set_saved(self, user_id: int, arxiv_id: str, on: bool | None = None) -> bool | None:
        """Save (``on=True``), unsave (False) or toggle (None) a paper; the new state, or None
        if there is no such paper.  Saving a paper already imported into the library marks it
        saved; unsaving removes the row (the paper leaves the reader's positives)."""
        with Session(self.engine) as s:
            pid = s.scalar(select(Paper.id).where(Paper.arxiv_id == arxiv_id))
            if pid is None:
                return None
            row = (LibraryPaper.user_id == user_id) & (LibraryPaper.paper_id == pid)
            source = s.scalar(select(LibraryPaper.source).where(row))
            if on is None:
                on = source != "saved"
            if on:
                if source is None:
                    insert_ignore(
                        s,
                        LibraryPaper,
                        {
                            "user_id": user_id,
                            "paper_id": pid,
                            "source": "saved",
                            "created_at": utcnow(),
                        },
                    )
                elif source != "saved":
                    s.execute(update(LibraryPaper).where(row).values(source="saved"))
            elif source == "saved":
                s.execute(delete(LibraryPaper).where(row, LibraryPaper.source == "saved"))
            s.commit()
        return on

    def saved_arxiv_ids(self, user_id: int) -> set[str]:
        with Session(self.engine) as s:
            return set(
                s.scalars(
                    select(Paper.arxiv_id)
                    .join(LibraryPaper, LibraryPaper.paper_id == Paper.id)
                    .where(LibraryPaper.user_id == user_id, LibraryPaper.source == "saved")
                )
            )

    def saved_ids(self, user_id: int, limit: int = 200) -> list[int]:
        """Store ids of the reader's saved papers, the most recently saved first (the
        papers side makes cards of them: ``Store.cards``)."""
        with Session(self.engine) as s:
            return list(
                s.scalars(
                    select(LibraryPaper.paper_id)
                    .where(LibraryPaper.user_id == user_id, LibraryPaper.source == "saved")
                    .order_by(LibraryPaper.created_at.desc(), LibraryPaper.paper_id.desc())
                    .limit(limit)
                )
            )

    def set_not_interested(self, user_id: int, arxiv_id: str, on: bool = True) -> bool | None:
        """Mark (or unmark) a paper "not interested"; None if there is no such paper."""
        with Session(self.engine) as s:
            pid = s.scalar(select(Paper.id).where(Paper.arxiv_id == arxiv_id))
            if pid is None:
                return None
            if on:
                insert_ignore(
                    s, NotInterested, {"user_id": user_id, "paper_id": pid, "created_at": utcnow()}
                )
            else:
                s.execute(
                    delete(NotInterested).where(
                        NotInterested.user_id == user_id, NotInterested.paper_id == pid
                    )
                )
            s.commit()
        return on

    def reader_papers(self, user_id: int) -> tuple[dict[int, str], list[int]]:
        """(positives as ``store id -> why``: 'upvoted', 'library' or 'saved'; negatives)."""
        with Session(self.engine) as s:
            pos: dict[int, str] = {}
            for pid, source in s.execute(
                select(LibraryPaper.paper_id, LibraryPaper.source).where(
                    LibraryPaper.user_id == user_id
                )
            ):
                pos[pid] = source
            for pid in s.scalars(select(Vote.paper_id).where(Vote.user_id == user_id)):
                pos[pid] = "upvoted"
            neg = list(
                s.scalars(
                    select(NotInterested.paper_id)
                    .where(NotInterested.user_id == user_id)
                    .order_by(NotInterested.paper_id)
                )
            )
        return pos, neg

    # -- candidates -------------------------------------------------------------------
    def recent_paper_ids(self, end: date, days: int = 7) -> list[int]:
        """Papers first listed (curated) in the ``days`` days up to ``end``."""
        start = end - timedelta(days=days - 1)
        with Session(self.engine) as s:
            first = (
                select(Listing.paper_id, func.min(Listing.day).label("day"))
                .where(curated(Listing.source))
                .group_by(Listing.paper_id)
                .subquery()
            )
            return list(
                s.scalars(
                    select(first.c.paper_id)
                    .where(first.c.day >= start, first.c.day <= end)
                    .order_by(first.c.paper_id)
                )
            )

    # -- resolving references ---------------------------------------------------------
    def _pairs(self, key, value, wanted: list) -> dict:
        """``{key: value}`` of the papers whose ``key`` is in ``wanted`` (one query per chunk)."""
        out: dict = {}
        with Session(self.engine) as s:
            for i in range(0, len(wanted), IN_CHUNK):
                chunk = wanted[i : i + IN_CHUNK]
                out.update((k, v) for k, v in s.execute(select(key, value).where(key.in_(chunk))))
        return out

    def paper_ids_by_arxiv(self, arxiv_ids: list[str]) -> dict[str, int]:
        return self._pairs(Paper.arxiv_id, Paper.id, arxiv_ids)

    def paper_ids_by_doi(self, dois: list[str]) -> dict[str, int]:
        """Lower-cased DOI -> store id."""
        wanted = sorted({d.lower() for d in dois if d})
        return self._pairs(func.lower(Paper.doi), Paper.id, wanted)

    def arxiv_ids_of(self, ids: list[int]) -> dict[int, str]:
        """Store id -> arXiv id, for the ids that are (still) papers."""
        return self._pairs(Paper.id, Paper.arxiv_id, sorted(set(ids)))

    def paper_id_by_title(self, title: str) -> int | None:
        """The paper whose title matches ``title`` once both are reduced by :func:`title_key`."""
        key = title_key(title)
        if len(key) < 8:
            return None
        longest = max(key.split(), key=len)
        with Session(self.engine) as s:
            rows = s.execute(
                select(Paper.id, Paper.title)
                .where(func.lower(Paper.title).contains(longest, autoescape=True))
                .order_by(Paper.id)
                .limit(200)
            ).all()
        for pid, t in rows:
            if title_key(t) == key:
                return pid
        return None
