"""The query layer: every presenter (pages, API, feeds, CLI, digest) reads through ``Store``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime

from sqlalchemy import Engine, and_, func, or_, select
from sqlalchemy.orm import Session

from paperwire.core.listings import curated
from paperwire.store import statements as st
from paperwire.store.importer import CommitHook, Importer, ImportSummary
from paperwire.store.models import Listing, Organization, Paper, PaperCategory, StoreMeta
from paperwire.store.rows import (
    PAPER_COLUMNS,
    listing_row_view,
    row_view,
    title_view,
    upvotes_expr,
    views,
)
from paperwire.store.vectors import VectorStore
from paperwire.store.views import (
    Listed,
    ListingView,
    OrganizationView,
    Page,
    PaperView,
    SearchDoc,
    StoreCounts,
    first_listings,
    search_doc,
)

SORTS = ("upvotes", "publishedAt")


class Store:
    """Read and write papers.  Each method opens and closes its own session."""

    engine: Engine

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # Called with the ids of new or changed papers after each committed import batch
        # (the search index attaches here, see paperwire.search.binding.attach).
        # ``docs``: the search documents of some of them, as committed (the new papers')
        self.import_listeners: list[CommitHook] = []
        # called inside each import batch's transaction, before it commits (the search
        # index's journal: search/follow_state.py)
        self.import_journal: list[Callable[[list[int]], None]] = []
        # a LIMIT parameter that means none: NULL on PostgreSQL (which refuses -1), -1 on
        # SQLite (which refuses NULL)
        self._no_limit = None if engine.dialect.name == "postgresql" else -1
        self.vectors = VectorStore(engine)  # embeddings shared by every node (vectors.py)

    def close(self) -> None:
        self.engine.dispose()

    def identity(self) -> str:
        """This database's random id (migration 0009): the search index records it."""
        with Session(self.engine) as s:
            got = s.scalar(select(StoreMeta.value).where(StoreMeta.key == "identity"))
        if got is None:  # pragma: no cover - a database migrated without its data step
            raise RuntimeError("this database has no identity: run `paperwire migrate`")
        return got

    # -- writing ----------------------------------------------------------------------
    def importer(self, batch_size: int = 2000) -> Importer:
        hooks = [lambda _session, ids, note=note: note(ids) for note in self.import_journal]
        return Importer(
            self.engine, batch_size=batch_size, hooks=hooks, after_commit=self.import_listeners
        )

    def import_records(
        self, items: Iterable, *, strict: bool = False, batch_size: int = 2000
    ) -> ImportSummary:
        return self.importer(batch_size).run(items, strict=strict)

    # -- overview ---------------------------------------------------------------------
    def counts(self) -> StoreCounts:
        with Session(self.engine) as s:
            papers = s.scalar(select(func.count()).select_from(Paper)) or 0
            listings, first, last = s.execute(
                select(func.count(), func.min(Listing.day), func.max(Listing.day)).where(
                    curated(Listing.source)
                )
            ).one()
            orgs = s.scalar(select(func.count()).select_from(Organization)) or 0
        return StoreCounts(papers, listings or 0, orgs, first, last)

    def latest_day(self) -> date | None:
        """The newest day with curated papers."""
        with self.engine.connect() as c:
            return c.scalar(st.LATEST_LISTED)

    def neighbour_days(self, day: date) -> tuple[date | None, date | None]:
        """The nearest earlier and later days that have curated papers."""
        with self.engine.connect() as c:
            row = c.execute(st.NEIGHBOURS, {"day": day}).first()
        return (row[0], row[1]) if row else (None, None)

    def latest_published_day(self) -> date | None:
        """The latest day on which an arXiv-sourced paper was first published."""
        with self.engine.connect() as c:
            return c.scalar(st.LATEST_PUBLISHED)

    def day_counts(self, start: date, end: date) -> list[tuple[date, int]]:
        """Days in [start, end] that have curated papers, with how many, earliest first."""
        with Session(self.engine) as s:
            rows = s.execute(
                select(Listing.day, func.count(func.distinct(Listing.paper_id)))
                .where(
                    Listing.day >= start,
                    Listing.day <= end,
                    curated(Listing.source),
                )
                .group_by(Listing.day)
                .order_by(Listing.day)
            ).all()
        return [(d, n) for d, n in rows]

    # -- curated lists ----------------------------------------------------------------
    def listed(
        self,
        start: date,
        end: date | None = None,
        *,
        sort: str = "upvotes",
        submitter: str | None = None,
        organization: str | None = None,
        has_code: bool = False,
        offset: int = 0,
        limit: int | None = None,
    ) -> Page:
        """Curated papers listed between ``start`` and ``end`` (inclusive), one card per paper;
        ``has_code``: only those with a code repository.  ``sort``: upvotes, publishedAt or
        stars (GitHub stars, papers without a repository last)."""
        end = end or start
        total_q, page_q = st.listed(sort, has_code, bool(submitter), bool(organization))
        params = {
            "start": start,
            "end": end,
            "submitter": submitter,
            "organization": organization,
            "offset": offset,
            "limit": limit if limit is not None else self._no_limit,
        }
        with self.engine.connect() as c:
            total = c.scalar(total_q, params) or 0
            items = (  # limit=0: the count alone (a day page's totals)
                views(c, [(r, listing_row_view(r)) for r in c.execute(page_q, params).all()])
                if limit != 0
                else []
            )
        return Page(items, total, offset, limit or total)

    # -- arXiv-only papers ------------------------------------------------------------
    def arxiv_categories_on(self, day: date) -> list[tuple[str, int]]:
        """Categories of papers first published on ``day``, with counts, largest first."""
        with self.engine.connect() as c:
            rows = c.execute(st.CATEGORIES_ON, {"day": day}).all()
        return [(cat, n) for cat, n in rows]

    def arxiv_published(
        self, day: date, category: str | None, *, offset: int = 0, limit: int = 50
    ) -> Page:
        with self.engine.connect() as c:
            q = select(*PAPER_COLUMNS).where(Paper.published_on == day, Paper.in_arxiv.is_(True))
            if category:
                q = q.join(
                    PaperCategory,
                    and_(PaperCategory.paper_id == Paper.id, PaperCategory.category == category),
                )
            total = c.scalar(select(func.count()).select_from(q.subquery())) or 0
            if limit == 0:  # the count alone
                return Page([], total, offset, limit)
            rows = c.execute(
                q.order_by(upvotes_expr().desc(), Paper.arxiv_id).offset(offset).limit(limit)
            )
            items = views(c, [(r, None) for r in rows.all()])
        return Page(items, total, offset, limit)

    # -- one paper --------------------------------------------------------------------
    def paper(self, arxiv_id: str) -> PaperView | None:
        with self.engine.connect() as c:
            p = c.execute(st.PAPER, {"arxiv_id": arxiv_id}).first()
            if p is None:
                return None
            rows = c.execute(st.LISTINGS_OF, {"pid": p.id})
            listings = [listing_row_view(r) for r in rows.all()]
            local = (int(p.local_votes or 0), int(p.local_comments or 0))
            return row_view(p, listings[0] if listings else None, listings, local)

    def papers(self, arxiv_ids: list[str]) -> list[PaperView]:
        """Papers by id, in the order asked (unknown ids are skipped)."""
        with self.engine.connect() as c:
            rows = c.execute(select(*PAPER_COLUMNS).where(Paper.arxiv_id.in_(arxiv_ids)))
            found = {v.arxiv_id: v for v in views(c, [(r, None) for r in rows.all()])}
        return [found[a] for a in arxiv_ids if a in found]

    # -- organizations ----------------------------------------------------------------
    def organization(self, name: str) -> OrganizationView | None:
        with Session(self.engine) as s:
            row = s.execute(
                select(Organization, func.count(func.distinct(Listing.paper_id)))
                .outerjoin(Listing, Listing.organization_id == Organization.id)
                .where(Organization.name == name)
                .group_by(Organization.id)
            ).first()
        if row is None:
            return None
        org, n = row
        return OrganizationView(org.name, org.fullname, org.avatar, n)

    def organization_papers(self, name: str, *, offset: int = 0, limit: int = 50) -> Page:
        return self.listed(
            date.min, date.max, organization=name, sort="publishedAt", offset=offset, limit=limit
        )

    def organizations(self, limit: int = 100) -> list[OrganizationView]:
        with Session(self.engine) as s:
            n = func.count(func.distinct(Listing.paper_id))
            rows = s.execute(
                select(Organization, n)
                .join(Listing, Listing.organization_id == Organization.id)
                .group_by(Organization.id)
                .order_by(n.desc(), Organization.name)
                .limit(limit)
            ).all()
        return [OrganizationView(o.name, o.fullname, o.avatar, c) for o, c in rows]

    def last_modified(self) -> datetime | None:
        with Session(self.engine) as s:
            return s.scalar(select(func.max(Paper.modified_at)))

    def changed_papers(
        self, since: datetime | None, after: tuple[datetime, int] | None = None, limit: int = 2000
    ) -> list[tuple[int, datetime]]:
        """``(id, modified_at)`` of papers modified at or after ``since``, in that order,
        resuming after the key ``after`` (keyset paging for the index followers)."""
        q = select(Paper.id, Paper.modified_at).order_by(Paper.modified_at, Paper.id)
        if since is not None:
            q = q.where(Paper.modified_at >= since)
        if after is not None:  # the >= is the range the index serves: with the OR alone,
            # each page of a long window scanned from ``since`` again
            at, pid = after
            q = q.where(Paper.modified_at >= at, or_(Paper.modified_at > at, Paper.id > pid))
        with Session(self.engine) as s:
            return [(pid, mod) for pid, mod in s.execute(q.limit(limit))]

    # -- search support (derived indexes read the store through these) ----------------
    def search_docs(self, ids: list[int]) -> list[SearchDoc]:
        """Index documents for papers by store id (unknown ids are skipped)."""
        out: list[SearchDoc] = []
        with Session(self.engine) as s:
            for i in range(0, len(ids), 1000):
                out.extend(self._search_docs(s, Paper.id.in_(ids[i : i + 1000])))
        return out

    def iter_search_docs(self, batch: int = 2000) -> Iterator[list[SearchDoc]]:
        """Every paper as an index document, in batches, by ascending store id."""
        last = 0
        while True:
            with Session(self.engine) as s:
                ids = s.scalars(
                    select(Paper.id).where(Paper.id > last).order_by(Paper.id).limit(batch)
                ).all()
                if not ids:
                    return
                yield self._search_docs(s, Paper.id.in_(ids))
            last = ids[-1]

    def paper_ids(self) -> list[int]:
        with Session(self.engine) as s:
            return list(s.scalars(select(Paper.id).order_by(Paper.id)))

    def _search_docs(self, s: Session, where) -> list[SearchDoc]:
        # columns, not ORM objects: this runs for every imported batch and every rebuild
        papers = s.execute(
            select(
                Paper.id,
                Paper.arxiv_id,
                Paper.title,
                Paper.abstract,
                Paper.authors,
                Paper.keywords,
                Paper.categories,
                Paper.hf_upvotes,
                Paper.published_on,
                Paper.published_at,
                Paper.modified_at,
            )
            .where(where)
            .order_by(Paper.id)
        ).all()
        first: dict[int, Listed] = {}
        if papers:
            rows = s.execute(
                select(Listing.paper_id, Listing.day, Organization.name)
                .outerjoin(Organization, Organization.id == Listing.organization_id)
                .where(
                    Listing.paper_id.in_([p.id for p in papers]),
                    curated(Listing.source),
                )
                .order_by(Listing.day, Listing.id)
            ).all()
            first = first_listings(rows)
        return [search_doc(p.id, p._mapping, first.get(p.id)) for p in papers]

    def paper_id(self, arxiv_id: str) -> int | None:
        # a Core statement on a connection: an ORM session cost 0.2-0.4 ms a paper page
        with self.engine.connect() as c:
            return c.execute(st.PAPER_ID, {"arxiv_id": arxiv_id}).scalar()

    def cards(self, ids: list[int], *, brief: bool = False) -> list[PaperView]:
        """Papers by store id as cards (with their first curated listing), in the order asked;
        ``brief``: without their abstract, categories and keywords (left empty)."""
        query = st.BRIEF_PAPERS if brief else st.CARD_PAPERS
        with self.engine.connect() as c:
            papers = {r[0]: r for r in c.execute(query, {"ids": list(ids)}).all()}
            listing: dict[int, ListingView] = {}
            if papers:
                for r in c.execute(st.CARD_LISTINGS, {"ids": list(papers)}).all():
                    listing.setdefault(r.l_paper_id, listing_row_view(r))
            made = views(c, [(p, listing.get(pid)) for pid, p in papers.items()])
            found = dict(zip(papers, made, strict=True))
        return [found[i] for i in ids if i in found]

    def titles(self, ids: list[int]) -> list[PaperView]:
        """Papers by store id, in the order asked, with only their arXiv id, title, date and
        upvotes (HF's and this site's) filled: for lists that show no more (a paper page's
        related papers), in one query where :meth:`cards` makes three."""
        with self.engine.connect() as c:
            rows = {r[0]: r for r in c.execute(st.TITLES, {"ids": list(ids)}).all()}
        return [title_view(*rows[i]) for i in ids if i in rows]

    def papers_before(self, before: int | None, limit: int) -> tuple[list[PaperView], int | None]:
        """Every paper, the most recently added first, ``limit`` at a time (``GET /api/papers``):
        the page after store id ``before`` (None: the first), and the id to continue from
        (None after the last).  Keyset pagination: as fast at the millionth paper as at the
        first, and stable while papers are added."""
        with Session(self.engine) as s:
            q = select(Paper.id).order_by(Paper.id.desc()).limit(limit + 1)
            if before is not None:
                q = q.where(Paper.id < before)
            ids = list(s.scalars(q))
        more = len(ids) > limit
        ids = ids[:limit]
        return self.cards(ids), (ids[-1] if more else None)
