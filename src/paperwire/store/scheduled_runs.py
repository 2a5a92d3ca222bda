"""The log of scheduled runs, and the claim that makes each one run on exactly one node.

Several ``paperwire serve`` processes (workers of one host, or several hosts) share one
database, and each of them runs the schedule.  Before a scheduled job runs for a slot (the
time it is due, e.g. ``sync`` at ``2026-11-24T06:30``), its scheduler *claims* the slot by
inserting ``(job, slot)``; the unique key lets exactly one insert win, on SQLite and on
PostgreSQL alike.  The winner runs the job and renews ``heartbeat_at`` while it works.  A claim
whose heartbeat is older than ``stale_after`` seconds belongs to a node that died mid-run; it
is taken over with a conditional update, which again exactly one node can win.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Row, insert, select, update
from sqlalchemy.exc import IntegrityError

from paperwire.core.clock import utcnow
from paperwire.store.schedule_models import ScheduledRun

STALE_AFTER = 120.0  # seconds without a heartbeat before another node takes a slot over


@dataclass(frozen=True, slots=True)
class ScheduledRunView:
    job: str
    slot: str
    node: str
    claimed_at: datetime
    heartbeat_at: datetime
    finished_at: datetime | None
    status: str
    detail: str | None
    takeovers: int


def _view(r: Row[Any]) -> ScheduledRunView:
    return ScheduledRunView(
        r.job,
        r.slot,
        r.node,
        r.claimed_at,
        r.heartbeat_at,
        r.finished_at,
        r.status,
        r.detail,
        r.takeovers or 0,
    )


class ScheduleLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def claim(self, job: str, slot: str, node: str, stale_after: float = STALE_AFTER) -> bool:
        """True when this node won ``(job, slot)`` and must run it now."""
        now = utcnow()
        values = {
            "job": job,
            "slot": slot,
            "node": node[:255],
            "claimed_at": now,
            "heartbeat_at": now,
            "status": "running",
            "takeovers": 0,
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(ScheduledRun).values(**values))
            return True
        except IntegrityError:
            pass
        cutoff = now - timedelta(seconds=stale_after)
        with self.engine.begin() as conn:
            taken = conn.execute(
                update(ScheduledRun)
                .where(
                    ScheduledRun.job == job,
                    ScheduledRun.slot == slot,
                    ScheduledRun.status == "running",
                    ScheduledRun.heartbeat_at < cutoff,
                )
                .values(
                    node=node[:255],
                    claimed_at=now,
                    heartbeat_at=now,
                    takeovers=ScheduledRun.takeovers + 1,
                )
            )
            return taken.rowcount == 1

    def heartbeat(self, job: str, slot: str, node: str) -> bool:
        """Renew a claim; False when another node has taken it over."""
        with self.engine.begin() as conn:
            done = conn.execute(
                update(ScheduledRun)
                .where(
                    ScheduledRun.job == job,
                    ScheduledRun.slot == slot,
                    ScheduledRun.node == node[:255],
                    ScheduledRun.status == "running",
                )
                .values(heartbeat_at=utcnow())
            )
            return done.rowcount == 1

    def finish(self, job: str, slot: str, node: str, status: str, detail: str | None) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(ScheduledRun)
                .where(
                    ScheduledRun.job == job,
                    ScheduledRun.slot == slot,
                    ScheduledRun.node == node[:255],
                )
                .values(status=status, finished_at=utcnow(), detail=(detail or "")[:2000] or None)
            )

    def get(self, job: str, slot: str) -> ScheduledRunView | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(ScheduledRun).where(ScheduledRun.job == job, ScheduledRun.slot == slot)
            ).first()
        return _view(row) if row is not None else None

    def runs(self, job: str | None = None, limit: int = 50) -> list[ScheduledRunView]:
        """Newest first."""
        q = select(ScheduledRun).order_by(ScheduledRun.claimed_at.desc(), ScheduledRun.id.desc())
        if job:
            q = q.where(ScheduledRun.job == job)
        with self.engine.connect() as conn:
            return [_view(r) for r in conn.execute(q.limit(limit))]
