"""``/status`` (administrators): the last syncs, the embedding backlog and how fresh this
node's search index is; ``/api/status`` gives the same as JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from paperwire.community.helpers import error, require_user
from paperwire.core.clock import utcnow
from paperwire.store.sync_state import SyncRunView, SyncStore
from paperwire.sync.status import SourceStatus, sync_status
from paperwire.ui.templating import render

router = APIRouter(include_in_schema=False)
RECENT_RUNS = 15


@dataclass(frozen=True)
class IndexFreshness:
    papers: int  # in the database
    lexical: int  # in this node's lexical index
    embedded: int  # static vectors
    contextual: int  # contextual vectors
    database_changed: datetime | None  # the newest paper change in the database
    index_watermark: datetime | None  # what this node's index has taken in, up to

    @property
    def backlog(self) -> int:
        """Papers still without a contextual vector (the background job's work left)."""
        return max(self.papers - self.contextual, 0)

    @property
    def behind_seconds(self) -> float | None:
        if self.database_changed is None:
            return 0.0
        if self.index_watermark is None:
            return None
        return max((self.database_changed - self.index_watermark).total_seconds(), 0.0)


@dataclass(frozen=True)
class Status:
    sources: list[SourceStatus]
    runs: list[SyncRunView]
    index: IndexFreshness | None
    now: datetime


def gather(request: Request) -> Status:
    store, settings = request.app.state.store, request.app.state.settings
    index = request.app.state.ctx.index_or_none()
    fresh = None
    if index is not None:
        s = index.status()
        fresh = IndexFreshness(
            papers=store.counts().papers,
            lexical=s["lexical"],
            embedded=s["embedded"],
            contextual=s["contextual"],
            database_changed=store.last_modified(),
            index_watermark=index.follow_state.watermark(),
        )
    runs = SyncStore(store.engine).runs(limit=RECENT_RUNS)
    return Status(sync_status(store, settings), runs, fresh, utcnow())


def _admin(request: Request) -> Response | None:
    user = require_user(request, "/status")
    if not user.is_admin:
        return error(request, 403, "The status page is for administrators.")
    return None


@router.get("/status", response_class=HTMLResponse)
def status_page(request: Request) -> Response:
    refused = _admin(request)
    if refused is not None:
        return refused
    st = gather(request)
    return render(
        request,
        "status.html",
        title=f"Status · {request.app.state.settings.site_name}",
        st=st,
    )


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None


@router.get("/api/status")
def status_json(request: Request) -> Response:
    refused = _admin(request)
    if refused is not None:
        return refused
    st = gather(request)
    body: dict[str, Any] = {
        "now": _iso(st.now),
        "sources": [
            {"source": s.source, "state": s.state, "nextRun": _iso(s.next_run)} for s in st.sources
        ],
        "runs": [
            {
                **{k: v for k, v in asdict(r).items() if k not in ("started_at", "finished_at")},
                "started_at": _iso(r.started_at),
                "finished_at": _iso(r.finished_at),
            }
            for r in st.runs
        ],
        "index": None,
    }
    if st.index is not None:
        ix = st.index
        body["index"] = {
            "papers": ix.papers,
            "lexical": ix.lexical,
            "embedded": ix.embedded,
            "contextual": ix.contextual,
            "contextualBacklog": ix.backlog,
            "databaseChanged": _iso(ix.database_changed),
            "indexWatermark": _iso(ix.index_watermark),
            "behindSeconds": ix.behind_seconds,
        }
    return JSONResponse(body)
