"""Batched, idempotent, transactional import of paper records into the store."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

from sqlalchemy import Engine, Table, delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from paperwire.core.clock import utcnow
from paperwire.core.listings import CURATED
from paperwire.core.sql import dialect_insert, executemany
from paperwire.record import PaperRecord
from paperwire.sources.errors import RecordError
from paperwire.store.merge import changed, merge, naive_utc
from paperwire.store.models import DayCategory, Listing, Organization, Paper, PaperCategory
from paperwire.store.views import Listed, SearchDoc, first_listings, search_doc

_PAPERS = cast(Table, Paper.__table__)  # the Core table: plain executemany, no ORM bookkeeping
_PAPER_COLUMNS = [c.key for c in _PAPERS.columns]


def recount_day_categories(engine: Engine) -> int:
    """Count ``day_categories`` again from the papers, in one transaction; the rows written.

    The importer keeps the table by deltas, one importer's batch at a time
    (:func:`_one_importer_at_a_time`); this is the repair for a drift (a database written
    by an older version, or edited by hand).  On PostgreSQL the table is locked first, so an
    importer's delta waits and lands on the fresh counts."""
    with engine.begin() as c:
        if c.dialect.name == "postgresql":
            c.execute(text("LOCK TABLE day_categories IN EXCLUSIVE MODE"))
        c.execute(delete(DayCategory))
        c.execute(
            insert(DayCategory).from_select(
                ["day", "category", "papers"],
                select(Paper.published_on, PaperCategory.category, func.count())
                .join(Paper, Paper.id == PaperCategory.paper_id)
                .where(Paper.in_arxiv.is_(True), Paper.published_on.is_not(None))
                .group_by(Paper.published_on, PaperCategory.category),
            )
        )
        # counted, not the cursor's rowcount: -1 for INSERT ... SELECT with psycopg 3
        return int(c.scalar(select(func.count()).select_from(DayCategory)) or 0)


# "paper", 1: the PostgreSQL advisory lock key importers take per batch (db.MIGRATE_LOCK,
# "pape", is the migrations')
IMPORT_LOCK = 0x706170657201


def _one_importer_at_a_time(session: Session) -> None:
    """Make a batch's reads and writes one step among importers (two nodes syncing, a sync
    beside a manual import): a batch reads the papers it will change (to merge, and to move
    their ``day_categories`` counts by the difference) and then writes them.  Another
    importer that read the same papers before this one committed would write from a stale
    copy: count the change a second time, or fail inserting a paper this one just added.
    So each batch first waits for the other importers' batches: on SQLite by starting its
    transaction as a writer (``BEGIN IMMEDIATE``: readers go on, the next writer waits), on
    PostgreSQL with a transaction-level advisory lock (papers stay open to other readers and
    writers; only importers queue).  Within a ``strict`` import, whose batches share one
    transaction, the first batch takes it."""
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        # (sqlite3's own flag: SQLAlchemy begins nothing on SQLite before the first write)
        if not getattr(conn.connection.dbapi_connection, "in_transaction", False):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
    elif conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": IMPORT_LOCK})


class StrictImportError(RuntimeError):
    """``--strict`` met a bad record: the import was rolled back and nothing changed."""


@dataclass
class ImportSummary:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[str] = field(default_factory=list)
    # a batch's new or changed papers; a run's total keeps them only with ``strict`` (its
    # hooks run at the end): an import of 2.9M papers would hold 100 MB of ids for nothing
    changed_ids: list[int] = field(default_factory=list)

    @property
    def seen(self) -> int:
        return self.new + self.updated + self.unchanged

    def add(self, other: ImportSummary, ids: bool = True) -> None:
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.rejected += other.rejected
        self.errors.extend(other.errors)
        if ids:
            self.changed_ids.extend(other.changed_ids)


BatchHook = Callable[[Session, list[int]], None]
# after a commit: the ids of new or changed papers, and the index documents of some of them
# as committed (the importer builds those of new papers from its own rows; a listener reads
# the others from the store)
CommitHook = Callable[[list[int], Mapping[int, SearchDoc]], None]


class Importer:
    """Write records in batches; each batch is one transaction (one for all with ``strict``).

    ``hooks`` run inside each batch's transaction with the ids of new or changed papers, so
    derived indexes (search) follow the same code path as the import.  ``after_commit`` hooks
    run once a batch is committed (at the end with ``strict``) with the same ids and the
    search documents of the batch's new papers (none with ``strict``).
    """

    def __init__(
        self,
        engine: Engine,
        batch_size: int = 2000,
        hooks: Iterable[BatchHook] = (),
        after_commit: Iterable[CommitHook] = (),
    ) -> None:
        self.engine = engine
        self.batch_size = batch_size
        self.hooks = list(hooks)
        self.after_commit = list(after_commit)

    def _committed(self, ids: list[int], docs: Mapping[int, SearchDoc]) -> None:
        if ids:
            for hook in self.after_commit:
                hook(ids, docs)

    def run(
        self,
        items: Iterable[PaperRecord | RecordError],
        *,
        strict: bool = False,
        on_progress: Callable[[int], None] | None = None,
    ) -> ImportSummary:
        total = ImportSummary()
        batch: list[PaperRecord] = []
        session = Session(self.engine)
        try:
            for item in items:
                if isinstance(item, RecordError):
                    if strict:
                        raise StrictImportError(
                            f"{item} (--strict: nothing was imported)"
                        ) from None
                    total.rejected += 1
                    total.errors.append(str(item))
                    if on_progress:
                        on_progress(1)
                    continue
                batch.append(item)
                if len(batch) >= self.batch_size:
                    total.add(self._write(session, batch, commit=not strict), ids=strict)
                    if on_progress:
                        on_progress(len(batch))
                    batch = []
            if batch:
                total.add(self._write(session, batch, commit=not strict), ids=strict)
                if on_progress:
                    on_progress(len(batch))
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
        if strict:
            self._committed(total.changed_ids, {})
        return total

    # -- one batch ---------------------------------------------------------------------
    def _write(self, session: Session, records: list[PaperRecord], commit: bool) -> ImportSummary:
        try:
            summary, docs = self._write_batch(session, records)
            for hook in self.hooks:
                hook(session, summary.changed_ids)
            if commit:
                session.commit()
                self._committed(summary.changed_ids, docs)
            return summary
        except BaseException:
            session.rollback()
            raise

    def _write_batch(
        self, session: Session, records: list[PaperRecord]
    ) -> tuple[ImportSummary, dict[int, SearchDoc]]:
        """Write the batch; its summary, and the search documents of its new papers."""
        _one_importer_at_a_time(session)
        now = utcnow()
        ids = list(dict.fromkeys(r.arxiv_id for r in records))
        existing: dict[str, dict[str, Any]] = {}
        for found in session.execute(select(_PAPERS).where(Paper.arxiv_id.in_(ids))):
            existing[found.arxiv_id] = dict(found._mapping)

        rows: dict[str, dict[str, Any]] = {}
        for rec in records:
            rows[rec.arxiv_id] = merge(rows.get(rec.arxiv_id) or existing.get(rec.arxiv_id), rec)

        summary = ImportSummary()
        to_insert, to_update, changed_arxiv = [], [], set()
        for arxiv_id, row in rows.items():
            before = existing.get(arxiv_id)
            if before is None:
                row.update(created_at=now, modified_at=now)
                to_insert.append({k: row.get(k) for k in _PAPER_COLUMNS if k != "id"})
                changed_arxiv.add(arxiv_id)
            elif changed(before, row):
                row["modified_at"] = now
                to_update.append({k: row.get(k) for k in _PAPER_COLUMNS})
                changed_arxiv.add(arxiv_id)

        id_of = {a: r["id"] for a, r in existing.items()}
        if to_insert:
            # a plain executemany, then the new ids by arxiv_id: RETURNING with
            # sort_by_parameter_order ran one INSERT per row on SQLite (0.5 ms a paper)
            executemany(session.connection(), insert(_PAPERS), to_insert)
            fresh = [r["arxiv_id"] for r in to_insert]
            for i in range(0, len(fresh), 1000):
                for pid, arxiv_id in session.execute(
                    select(Paper.id, Paper.arxiv_id).where(Paper.arxiv_id.in_(fresh[i : i + 1000]))
                ):
                    id_of[arxiv_id] = pid
        if to_update:
            session.execute(update(Paper), to_update)
        self._write_categories(session, rows, existing, id_of, changed_arxiv)
        self._count_day_categories(session, rows, existing, changed_arxiv)
        listing_changed, first_listed = self._write_listings(session, records, id_of)
        touched = [id_of[a] for a in listing_changed if a in existing and a not in changed_arxiv]
        if touched:  # a new listing changes the paper's index fields (day, organization)
            session.execute(update(Paper).where(Paper.id.in_(touched)).values(modified_at=now))

        for arxiv_id in rows:
            if arxiv_id not in existing:
                summary.new += 1
            elif arxiv_id in changed_arxiv or arxiv_id in listing_changed:
                summary.updated += 1
            else:
                summary.unchanged += 1
        summary.changed_ids = [id_of[a] for a in rows if a in changed_arxiv or a in listing_changed]
        docs = {
            id_of[a]: search_doc(id_of[a], row, first_listed.get(id_of[a]))
            for a, row in rows.items()
            if a not in existing
        }
        return summary, docs

    def _write_categories(self, session, rows, existing, id_of, changed_arxiv) -> None:
        stale = [
            id_of[a]
            for a in changed_arxiv
            if a in existing and existing[a].get("categories") != rows[a].get("categories")
        ]
        if stale:
            session.execute(delete(PaperCategory).where(PaperCategory.paper_id.in_(stale)))
        fresh = [
            {"paper_id": id_of[a], "category": c}
            for a in changed_arxiv
            if a not in existing or id_of[a] in stale
            for c in dict.fromkeys(rows[a].get("categories") or [])
        ]
        if fresh:
            executemany(session.connection(), insert(PaperCategory), fresh)

    def _count_day_categories(self, session, rows, existing, changed_arxiv) -> None:
        """Keep ``day_categories`` (arXiv papers per publication day and category) as the
        changed papers move: each one's old day and categories count one less, its new ones
        one more, in the batch's transaction."""
        delta: Counter[tuple[date, str]] = Counter()
        for a in changed_arxiv:
            for row, sign in ((existing.get(a), -1), (rows[a], 1)):
                if row and row.get("in_arxiv") and row.get("published_on"):
                    for c in dict.fromkeys(row.get("categories") or []):
                        delta[row["published_on"], c] += sign
        changes = [
            {"day": d, "category": c, "papers": n} for (d, c), n in sorted(delta.items()) if n
        ]
        if not changes:
            return
        # in key order, so that two writers lock the rows they share in the same order
        stmt = dialect_insert(session.get_bind().dialect.name, DayCategory)
        stmt = stmt.on_conflict_do_update(
            index_elements=["day", "category"],
            set_={"papers": DayCategory.papers + stmt.excluded.papers},
        )
        session.execute(stmt, changes)

    def _organization_ids(self, session: Session, records: list[PaperRecord]) -> dict[str, int]:
        orgs = {
            r.listing.organization.name: r.listing.organization
            for r in records
            if r.listing and r.listing.organization
        }
        if not orgs:
            return {}
        found = {
            row.name: row
            for row in session.execute(
                select(
                    Organization.id, Organization.name, Organization.fullname, Organization.avatar
                ).where(Organization.name.in_(list(orgs)))
            )
        }
        missing = [
            {"name": o.name, "fullname": o.fullname, "avatar": o.avatar}
            for name, o in orgs.items()
            if name not in found
        ]
        ids = {name: row.id for name, row in found.items()}
        if missing:
            for oid, name in session.execute(
                insert(Organization).returning(
                    Organization.id, Organization.name, sort_by_parameter_order=True
                ),
                missing,
            ):
                ids[name] = oid
        stale = [
            {"id": row.id, "fullname": orgs[name].fullname, "avatar": orgs[name].avatar}
            for name, row in found.items()
            if (orgs[name].fullname and orgs[name].fullname != row.fullname)
            or (orgs[name].avatar and orgs[name].avatar != row.avatar)
        ]
        if stale:
            session.execute(update(Organization), stale)
        return ids

    def _write_listings(self, session, records, id_of) -> tuple[set[str], dict[int, Listed]]:
        """Write the batch's listings; the arXiv ids whose listings changed, and for papers
        with new curated listings the first one's day and organization, the way
        ``Store.search_docs`` takes them (exact for papers that had no listing before)."""
        wanted: dict[tuple[int, Any, str], dict[str, Any]] = {}
        org_ids = self._organization_ids(session, records)
        for rec in records:
            if rec.listing is None:
                continue
            lst = rec.listing
            key = (id_of[rec.arxiv_id], lst.day, lst.source)
            wanted[key] = {
                "paper_id": key[0],
                "day": lst.day,
                "source": lst.source,
                "submitted_by": lst.submitted_by,
                "submitter_fullname": lst.submitter_fullname,
                "submitter_avatar": lst.submitter_avatar,
                "organization_id": org_ids.get(lst.organization.name) if lst.organization else None,
                "submitted_at": naive_utc(lst.submitted_at),
                "_arxiv": rec.arxiv_id,
            }
        if not wanted:
            return set(), {}
        have = {}
        cols = [
            Listing.id,
            Listing.paper_id,
            Listing.day,
            Listing.source,
            Listing.submitted_by,
            Listing.submitter_fullname,
            Listing.submitter_avatar,
            Listing.organization_id,
            Listing.submitted_at,
        ]
        keys = list(wanted)
        paper_ids = list({k[0] for k in keys})
        for row in session.execute(select(*cols).where(Listing.paper_id.in_(paper_ids))):
            have[(row.paper_id, row.day, row.source)] = dict(row._mapping)
        touched: set[str] = set()
        new_rows, upd_rows = [], []
        for key, want in wanted.items():
            arxiv_id = want.pop("_arxiv")
            got = have.get(key)
            if got is None:
                new_rows.append(want)
                touched.add(arxiv_id)
            elif any(got[k] != v for k, v in want.items() if v is not None):
                upd_rows.append(
                    {"id": got["id"], **{k: v for k, v in want.items() if v is not None}}
                )
                touched.add(arxiv_id)
        if new_rows:
            session.execute(insert(Listing), new_rows)
        if upd_rows:
            session.execute(update(Listing), upd_rows)
        org_names = {oid: name for name, oid in org_ids.items()}
        curated = (r for r in new_rows if r["source"] in CURATED)
        # (by day, then insertion order: listing ids grow with it)
        ordered = sorted(curated, key=lambda r: r["day"])
        first = first_listings(
            (r["paper_id"], r["day"], org_names.get(r["organization_id"])) for r in ordered
        )
        return touched, first
