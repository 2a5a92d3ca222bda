"""Embeddings kept in the store (``paper_vectors``): computed once by one node, loaded by
every other node's index and by ``index --rebuild``.  A typed repository over the engine."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import numpy as np
from sqlalchemy import Engine, delete, func, or_, select
from sqlalchemy.orm import Session

from paperwire.core.clock import utcnow
from paperwire.core.sql import dialect_insert, executemany
from paperwire.store.models import PaperVector

CHUNK = 500  # ids per statement (SQLite's bound-parameter limit is 32,766)
DTYPE = np.dtype("<f2")


class VectorStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def load(self, model: str, wanted: dict[int, str]) -> dict[int, np.ndarray]:
        """Stored float32 vectors of ``model`` for the papers in ``wanted`` (id -> text hash)
        whose stored hash is still that one."""
        out: dict[int, np.ndarray] = {}
        ids = list(wanted)
        with Session(self.engine) as s:
            for i in range(0, len(ids), CHUNK):
                rows = s.execute(
                    select(PaperVector.paper_id, PaperVector.text_hash, PaperVector.vec).where(
                        PaperVector.model == model, PaperVector.paper_id.in_(ids[i : i + CHUNK])
                    )
                )
                for pid, h, blob in rows:
                    if wanted.get(pid) == h:
                        out[pid] = np.frombuffer(blob, dtype=DTYPE).astype(np.float32)
        return out

    def save(self, model: str, rows: Iterable[tuple[int, str, np.ndarray]]) -> int:
        """Insert or replace (paper id, text hash, vector) rows; returns how many."""
        now = utcnow()
        values = [
            {
                "paper_id": int(pid),
                "model": model,
                "text_hash": h,
                "vec": np.asarray(vec, dtype=DTYPE).tobytes(),
                "created_at": now,
            }
            for pid, h, vec in rows
        ]
        if not values:
            return 0
        stmt = dialect_insert(self.engine.dialect.name, PaperVector.__table__)
        stmt = stmt.on_conflict_do_update(
            index_elements=["paper_id", "model"],
            set_={c: stmt.excluded[c] for c in ("text_hash", "vec", "created_at")},
        )
        with self.engine.begin() as conn:  # one executemany: no per-batch VALUES to compile
            executemany(conn, stmt, values)
        return len(values)

    def since(
        self, model: str, after: tuple[datetime, int] | None, limit: int = 2000
    ) -> list[tuple[int, str, datetime]]:
        """``(paper id, text hash, created_at)`` of the vectors of ``model`` stored after the
        key ``after`` (created_at, paper id), in that order: how every node's index follows
        what one node computed.  Keys only: a follower loads the vectors it lacks
        (``load``); the first round after an import holds them all already."""
        q = (
            select(PaperVector.paper_id, PaperVector.text_hash, PaperVector.created_at)
            .where(PaperVector.model == model)
            .order_by(PaperVector.created_at, PaperVector.paper_id)
            .limit(limit)
        )
        if after is not None:
            at, pid = after
            q = q.where(
                PaperVector.created_at >= at,  # the range the index serves; the OR alone
                # made SQLite walk every vector of the model (45 ms at 178k, every round)
                or_(PaperVector.created_at > at, PaperVector.paper_id > pid),
            )
        with self.engine.connect() as c:
            return [(pid, h, at) for pid, h, at in c.execute(q)]

    def count(self, model: str) -> int:
        with Session(self.engine) as s:
            return (
                s.scalar(
                    select(func.count()).select_from(PaperVector).where(PaperVector.model == model)
                )
                or 0
            )

    def holds_any(self, model: str) -> bool:
        """Whether any vector of ``model`` is stored: one row read through the follow index
        (``count`` reads every row of the model, a full scan on PostgreSQL)."""
        q = select(PaperVector.paper_id).where(PaperVector.model == model).limit(1)
        with self.engine.connect() as c:
            return c.execute(q).first() is not None

    def forget(self, model: str, pids: Iterable[int] | None = None) -> None:
        """Drop this model's vectors (of these papers)."""
        cond = PaperVector.model == model
        with Session(self.engine) as s, s.begin():
            if pids is None:
                s.execute(delete(PaperVector).where(cond))
                return
            ids = list(pids)
            for i in range(0, len(ids), CHUNK):
                s.execute(
                    delete(PaperVector).where(cond, PaperVector.paper_id.in_(ids[i : i + CHUNK]))
                )
