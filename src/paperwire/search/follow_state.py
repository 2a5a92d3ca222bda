"""What an index directory has taken in from the database: a watermark and a signature per
paper, in ``follow.sqlite`` beside the indexes.

The follower (``search/follow.py``) reads papers changed since the watermark and re-indexes
only those whose signature differs, so a paper indexed at once by the process that imported
it is not indexed again, and re-reading an overlap window costs only a comparison.
"""

from __future__ import annotations

import builtins
import hashlib
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from paperwire.core.sql import IN_CHUNK
from paperwire.store.views import SearchDoc

_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (pid INTEGER PRIMARY KEY, sig TEXT NOT NULL, modified TEXT);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS unindexed (pid INTEGER PRIMARY KEY);
"""


# seconds between saves of a long round's progress (the papers' watermark, the vector marks):
# saved after every batch, they were a quarter of the CPU of the first follower round after
# an import (1,450 batches of papers at 2.9M)
MARK_EVERY = 1.0


class Progress:
    """A mark that a long round moves forward: saved at most every ``MARK_EVERY`` seconds
    while it moves, and where the round ended by ``close`` (a stopped round too), so that a
    crash re-reads at most that much again."""

    def __init__(self, save: Callable[[Any], None], start: Any) -> None:
        self.save, self.value, self.saved = save, start, start
        self.every, self._at = MARK_EVERY, time.monotonic()

    def move(self, value: Any) -> None:
        self.value = value
        if time.monotonic() - self._at >= self.every:
            self._save()

    def close(self) -> None:
        if self.value != self.saved:
            self._save()

    def _save(self) -> None:
        self.save(self.value)
        self.saved, self._at = self.value, time.monotonic()


def signature(doc: SearchDoc) -> str:
    """Everything the indexes hold for a paper, hashed."""
    fields = [
        doc.arxiv_id,
        doc.title,
        doc.abstract,
        doc.authors,
        doc.keywords,
        sorted(set(doc.categories)),
        doc.organization,
        doc.day.isoformat() if doc.day else None,
        doc.upvotes,
    ]
    # orjson writes the bytes json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    # wrote before it, four times faster: signatures stored by earlier versions still match
    return hashlib.blake2b(orjson.dumps(fields), digest_size=12).hexdigest()


class FollowState:
    def __init__(self, index_dir: Path) -> None:
        self.path = Path(index_dir) / "follow.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.executescript(_SCHEMA)
            columns = {row[1] for row in db.execute("PRAGMA table_info(docs)")}
            if "modified" not in columns:  # a directory indexed before 2026-11-30
                db.execute("ALTER TABLE docs ADD COLUMN modified TEXT")

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=60)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            with db:  # one transaction
                yield db
        finally:
            db.close()

    # -- the watermark: papers modified before it are in the index --------------------
    def watermark(self) -> datetime | None:
        with self._db() as db:
            row = db.execute("SELECT value FROM meta WHERE key='watermark'").fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    def set_watermark(self, when: datetime | None) -> None:
        with self._db() as db:
            db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('watermark', ?)",
                (when.isoformat() if when else None,),
            )

    # -- small named values (store identity, vector pull marks) ---------------------------
    def get(self, key: str) -> str | None:
        with self._db() as db:
            row = db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set(self, key: str, value: str) -> None:
        with self._db() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # -- which database the index holds (store_meta.identity) ----------------------------
    def store_identity(self) -> str | None:
        with self._db() as db:
            row = db.execute("SELECT value FROM meta WHERE key='store'").fetchone()
        return row[0] if row else None

    def set_store_identity(self, identity: str) -> None:
        with self._db() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES ('store', ?)", (identity,))

    # -- signatures -------------------------------------------------------------------
    def unchanged(self, docs: Iterable[SearchDoc]) -> builtins.set[int]:  # (``set`` is a method)
        """Ids among ``docs`` that the index already holds exactly as they are now."""
        docs = list(docs)
        known: dict[int, str] = {}
        with self._db() as db:
            for i in range(0, len(docs), IN_CHUNK):
                chunk = [d.id for d in docs[i : i + IN_CHUNK]]
                marks = ",".join("?" * len(chunk))
                known.update(db.execute(f"SELECT pid, sig FROM docs WHERE pid IN ({marks})", chunk))
        return {d.id for d in docs if known.get(d.id) == signature(d)}

    def recorded_at(self, rows: Iterable[tuple[int, datetime]]) -> builtins.set[int]:
        """Ids among ``(id, modified_at)`` rows that were indexed at that very version: the
        store bumps ``modified_at`` with every change a document shows, so these need no
        reading again (the follower's first round re-reads the window before its watermark,
        the last two minutes of an import: 100k papers at 183k)."""
        rows = list(rows)
        known: dict[int, str | None] = {}
        with self._db() as db:
            for i in range(0, len(rows), IN_CHUNK):
                chunk = [pid for pid, _ in rows[i : i + IN_CHUNK]]
                marks = ",".join("?" * len(chunk))
                known.update(
                    db.execute(f"SELECT pid, modified FROM docs WHERE pid IN ({marks})", chunk)
                )
        return {pid for pid, mod in rows if mod is not None and known.get(pid) == mod.isoformat()}

    def record(self, docs: Iterable[SearchDoc], gone: Iterable[int] = ()) -> None:
        with self._db() as db:
            db.executemany(
                "INSERT OR REPLACE INTO docs (pid, sig, modified) VALUES (?, ?, ?)",
                [
                    (d.id, signature(d), d.modified_at.isoformat() if d.modified_at else None)
                    for d in docs
                ],
            )
            db.executemany("DELETE FROM docs WHERE pid = ?", [(p,) for p in gone])

    # -- the journal: papers written to the store but not yet committed to the index ------
    def journal(self, ids: Iterable[int]) -> None:
        """Called before the store commits a batch: if the process dies before the index
        commits these papers, the next import (or the follower) indexes them from here."""
        ids = list(ids)
        if not ids:
            return
        with self._db() as db:
            db.executemany("INSERT OR IGNORE INTO unindexed VALUES (?)", [(p,) for p in ids])

    def unjournal(self, ids: Iterable[int]) -> None:
        with self._db() as db:
            db.executemany("DELETE FROM unindexed WHERE pid = ?", [(p,) for p in ids])

    def journaled(self, limit: int = 2000) -> list[int]:
        with self._db() as db:
            return [
                r[0] for r in db.execute("SELECT pid FROM unindexed ORDER BY pid LIMIT ?", (limit,))
            ]

    def clear(self) -> None:
        with self._db() as db:
            db.execute("DELETE FROM unindexed")
            db.execute("DELETE FROM docs")
            db.execute("DELETE FROM meta WHERE key IN ('watermark', 'papers:last_read')")
