"""ORM table of scheduled work: one row per run of a scheduled job (sync, digests) and slot.

Created by migration ``0008_scheduled_runs``.  The unique ``(job, slot)`` key is what makes a
scheduled job run on exactly one node when several ``paperwire serve`` processes share one
database: the node whose insert wins runs the job; the others see the row and skip it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from paperwire.store.models import Base


class ScheduledRun(Base):
    __tablename__ = "scheduled_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(32))  # "sync", "digest"
    slot: Mapped[str] = mapped_column(String(64))  # the scheduled time, "2026-11-24T06:30"
    node: Mapped[str] = mapped_column(String(255))  # host:pid:nonce of the runner
    claimed_at: Mapped[datetime] = mapped_column(DateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16))  # running done error
    detail: Mapped[str | None] = mapped_column(Text)
    takeovers: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (UniqueConstraint("job", "slot", name="uq_scheduled_runs_job_slot"),)
