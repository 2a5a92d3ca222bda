"""What ``paperwire sync --status`` and the ``/sync`` page show, per source."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from paperwire.settings import Settings
from paperwire.store.sync_state import LockHolder, SyncRunView, SyncStore
from paperwire.sync.scheduler import next_run
from paperwire.sync.sources import REGISTRY


@dataclass(frozen=True, slots=True)
class SourceStatus:
    source: str
    last_run: SyncRunView | None
    watermarks: dict[str, dict[str, Any]]
    running: LockHolder | None
    next_run: datetime | None  # aware UTC; None when the source is not scheduled

    @property
    def state(self) -> str:
        if self.running is not None:
            return "running"
        return self.last_run.status if self.last_run else "never run"


def sync_status(store, settings: Settings) -> list[SourceStatus]:
    state = SyncStore(store.engine)
    runs = state.last_runs()
    marks = state.watermarks()
    when = next_run(settings)
    scheduled = {s.strip() for s in settings.sync_sources.split(",") if s.strip()}
    if not settings.arxiv_categories.strip():
        scheduled.discard("arxiv")
    out = []
    for source in REGISTRY:
        own = {k: v for k, v in marks.items() if k == source or k.startswith(f"{source}:")}
        out.append(
            SourceStatus(
                source=source,
                last_run=runs.get(source),
                watermarks=own,
                running=state.lock_holder(source),
                next_run=when if source in scheduled else None,
            )
        )
    return out
