"""Sync bookkeeping in the database: watermarks, the per-source lock, the run log.

The lock is a **row-based lease** in ``sync_locks`` (the same code on SQLite and PostgreSQL):
the primary key makes acquiring it atomic; the holder renews it with every batch; a lease is
taken over when it has expired or when its holder was a process on this host that is gone
(e.g. killed with ``kill -9``).  A run whose lease was taken over is marked ``interrupted``.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from paperwire.core.clock import utcnow
from paperwire.core.sql import rowcount
from paperwire.store.importer import BatchHook, ImportSummary
from paperwire.store.sync_models import SyncLock, SyncRun, SyncState


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return True
    return True


class LockLost(RuntimeError):
    """Another sync took this source's lock over (our lease expired); we stop writing."""


@dataclass(frozen=True, slots=True)
class LockHolder:
    source: str
    owner: str
    host: str
    pid: int
    acquired_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class SyncRunView:
    id: int
    source: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    new: int
    updated: int
    unchanged: int
    rejected: int
    batches: int
    error: str | None
    reason: str | None
    params: dict[str, Any]


def _run_view(r: SyncRun) -> SyncRunView:
    return SyncRunView(
        r.id,
        r.source,
        r.started_at,
        r.finished_at,
        r.status,
        r.new,
        r.updated,
        r.unchanged,
        r.rejected,
        r.batches,
        r.error,
        r.reason,
        dict(r.params or {}),
    )


class Lease:
    """A held sync lock.  ``hook()`` renews it inside each batch transaction."""

    def __init__(self, state: SyncStore, source: str, owner: str, ttl: float) -> None:
        self.state, self.source, self.owner, self.ttl = state, source, owner, ttl

    def _renew(self, conn_or_session) -> None:
        result = conn_or_session.execute(
            update(SyncLock)
            .where(SyncLock.source == self.source, SyncLock.owner == self.owner)
            .values(expires_at=utcnow() + timedelta(seconds=self.ttl))
        )
        if result.rowcount != 1:
            raise LockLost(
                f"the sync lock for {self.source} was taken over by another sync; stopping"
            )

    def renew(self) -> None:
        with self.state.engine.begin() as conn:
            self._renew(conn)

    def release(self) -> None:
        with self.state.engine.begin() as conn:
            conn.execute(
                delete(SyncLock).where(SyncLock.source == self.source, SyncLock.owner == self.owner)
            )

    def __enter__(self) -> Lease:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class SyncStore:
    """Read and write sync state.  Each method opens its own transaction unless it is a hook."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- watermarks ---------------------------------------------------------------------
    def watermark(self, source: str) -> dict[str, Any] | None:
        with Session(self.engine) as s:
            row = s.get(SyncState, source)
            return dict(row.watermark) if row is not None else None

    def watermarks(self) -> dict[str, dict[str, Any]]:
        with Session(self.engine) as s:
            return {r.source: dict(r.watermark) for r in s.scalars(select(SyncState))}

    @staticmethod
    def write_watermark(session: Session, source: str, value: dict[str, Any]) -> None:
        """Set the watermark inside the caller's transaction."""
        done = session.execute(
            update(SyncState)
            .where(SyncState.source == source)
            .values(watermark=value, updated_at=utcnow())
        )
        if rowcount(done) == 0:
            session.execute(
                insert(SyncState).values(source=source, watermark=value, updated_at=utcnow())
            )

    def save_watermark(self, source: str, value: dict[str, Any]) -> None:
        with Session(self.engine) as s, s.begin():
            self.write_watermark(s, source, value)

    def watermark_hook(self, source: str, value: dict[str, Any], lease: Lease | None) -> BatchHook:
        """A batch hook: renew the lease and advance the watermark in the batch's transaction."""

        def hook(session: Session, _ids: list[int]) -> None:
            if lease is not None:
                lease._renew(session)
            self.write_watermark(session, source, value)

        return hook

    def reset(self, source: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(SyncState).where(SyncState.source == source))

    # -- the lock -------------------------------------------------------------------------
    def lock_holder(self, source: str) -> LockHolder | None:
        with Session(self.engine) as s:
            row = s.get(SyncLock, source)
            if row is None:
                return None
            return LockHolder(
                row.source, row.owner, row.host, row.pid, row.acquired_at, row.expires_at
            )

    def acquire(self, source: str, ttl: float = 900.0) -> Lease | None:
        """Take the lock for ``source``, or None while another live sync holds it."""
        host, pid = socket.gethostname(), os.getpid()
        owner = f"{host}:{pid}:{uuid.uuid4().hex[:8]}"
        now = utcnow()
        values = {
            "source": source,
            "owner": owner,
            "host": host[:255],
            "pid": pid,
            "acquired_at": now,
            "expires_at": now + timedelta(seconds=ttl),
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(SyncLock).values(**values))
            return Lease(self, source, owner, ttl)
        except IntegrityError:
            pass
        holder = self.lock_holder(source)
        if holder is None:  # released meanwhile: try once more
            try:
                with self.engine.begin() as conn:
                    conn.execute(insert(SyncLock).values(**values))
                return Lease(self, source, owner, ttl)
            except IntegrityError:
                return None
        stale = holder.expires_at < now or (holder.host == host and not _pid_alive(holder.pid))
        if not stale:
            return None
        with self.engine.begin() as conn:
            taken = conn.execute(
                update(SyncLock)
                .where(SyncLock.source == source, SyncLock.owner == holder.owner)
                .values(**{k: v for k, v in values.items() if k != "source"})
            )
            if taken.rowcount != 1:
                return None
            conn.execute(
                update(SyncRun)
                .where(SyncRun.source == source, SyncRun.status == "running")
                .values(
                    status="interrupted",
                    finished_at=now,
                    error=f"the sync process ({holder.owner}) stopped before finishing",
                )
            )
        return Lease(self, source, owner, ttl)

    # -- the run log ----------------------------------------------------------------------
    def start_run(self, source: str, params: dict[str, Any]) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(
                insert(SyncRun)
                .values(
                    source=source,
                    started_at=utcnow(),
                    status="running",
                    new=0,
                    updated=0,
                    unchanged=0,
                    rejected=0,
                    batches=0,
                    params=params,
                )
                .returning(SyncRun.id)
            )
            return int(result.scalar_one())

    def update_run(
        self,
        run_id: int,
        summary: ImportSummary,
        *,
        batches: int,
        status: str | None = None,
        error: str | None = None,
        reason: str | None = None,
    ) -> None:
        values: dict[str, Any] = {
            "new": summary.new,
            "updated": summary.updated,
            "unchanged": summary.unchanged,
            "rejected": summary.rejected,
            "batches": batches,
        }
        if status is not None:
            values.update(status=status, finished_at=utcnow())
        if error is not None:
            values["error"] = error[:4000]
        if reason is not None:
            values["reason"] = reason
        with self.engine.begin() as conn:
            conn.execute(update(SyncRun).where(SyncRun.id == run_id).values(**values))

    def run(self, run_id: int) -> SyncRunView | None:
        with Session(self.engine) as s:
            r = s.get(SyncRun, run_id)
            return _run_view(r) if r is not None else None

    def runs(self, source: str | None = None, limit: int = 20) -> list[SyncRunView]:
        with Session(self.engine) as s:
            q = select(SyncRun).order_by(SyncRun.id.desc()).limit(limit)
            if source:
                q = q.where(SyncRun.source == source)
            return [_run_view(r) for r in s.scalars(q)]

    def last_runs(self) -> dict[str, SyncRunView]:
        """The latest run of every source that has run."""
        with Session(self.engine) as s:
            latest = select(func.max(SyncRun.id)).group_by(SyncRun.source)
            ids = [i for (i,) in s.execute(latest)]
            if not ids:
                return {}
            rows = s.scalars(select(SyncRun).where(SyncRun.id.in_(ids)))
            return {r.source: _run_view(r) for r in rows}
