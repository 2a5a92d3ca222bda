"""``/sync``: the last sync run per source, counts, errors, the next run, and why nothing was
new (arXiv's announcement calendar).  ``/api/sync`` gives the same as JSON."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from jinja2 import Environment

from paperwire.sync.status import SourceStatus, sync_status
from paperwire.ui.api_schema import SyncStatus

router = APIRouter()

BODY = """
<h1>Sync</h1>
<p>paperwire pulls Hugging Face Daily Papers, new arXiv papers of the chosen categories and
OAI-PMH backfills. Run one now with <code>paperwire sync</code>. Times are UTC.</p>
<table class="sync">
<thead><tr><th>Source</th><th>State</th><th>Last run</th><th>New</th><th>Updated</th>
<th>Unchanged</th><th>Rejected</th><th>Watermark</th><th>Next run</th></tr></thead>
<tbody>
{% for s in statuses %}
<tr id="sync-{{ s.source }}">
<td>{{ s.source }}</td>
<td>{{ s.state }}</td>
<td>{{ when(s.last_run.started_at) if s.last_run else "never" }}</td>
<td>{{ s.last_run.new if s.last_run else "" }}</td>
<td>{{ s.last_run.updated if s.last_run else "" }}</td>
<td>{{ s.last_run.unchanged if s.last_run else "" }}</td>
<td>{{ s.last_run.rejected if s.last_run else "" }}</td>
<td>{% for key, mark in s.watermarks.items() %}{{ key }}: {{ show(mark) }}<br>{% endfor %}</td>
<td>{{ when(s.next_run) if s.next_run else "not scheduled" }}</td>
</tr>
{% if s.last_run and s.last_run.error %}
<tr class="error"><td colspan="9">{{ s.source }}: {{ s.last_run.error }}</td></tr>
{% endif %}
{% if s.last_run and s.last_run.reason %}
<tr class="reason"><td colspan="9">{{ s.source }}: {{ s.last_run.reason }}</td></tr>
{% endif %}
{% endfor %}
</tbody>
</table>
"""

STANDALONE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>'
    "</head><body><main>" + BODY + "</main></body></html>"
)


def _when(dt: datetime | None) -> str:
    return dt.strftime("%Y-%m-%d %H:%M") if dt else ""


def _show(mark: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in mark.items() if v not in (None, "", []))


def _statuses(request: Request) -> list[SourceStatus]:
    return sync_status(request.app.state.store, request.app.state.settings)


@router.get("/sync", response_class=HTMLResponse, include_in_schema=False)
def sync_page(request: Request) -> HTMLResponse:
    settings = request.app.state.settings
    env: Environment | None = getattr(request.app.state, "jinja", None)
    context = {
        "statuses": _statuses(request),
        "when": _when,
        "show": _show,
        "title": f"Sync · {settings.site_name}",
        "site_name": settings.site_name,
        "request": request,
        "today": date.today(),
    }
    if env is not None and "base.html" in env.list_templates():
        template = env.from_string(
            '{% extends "base.html" %}{% block main %}' + BODY + "{% endblock %}"
        )
    else:
        template = Environment(autoescape=True).from_string(STANDALONE)
    return HTMLResponse(template.render(**context))


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None


@router.get(
    "/api/sync",
    summary="Sync status of each source",
    responses={200: {"model": list[SyncStatus], "description": "One entry per source"}},
)
def sync_json(request: Request) -> JSONResponse:
    out = []
    for s in _statuses(request):
        run = s.last_run
        out.append(
            {
                "source": s.source,
                "state": s.state,
                "next_run": _iso(s.next_run),
                "watermarks": s.watermarks,
                "last_run": None
                if run is None
                else {
                    "started_at": _iso(run.started_at),
                    "finished_at": _iso(run.finished_at),
                    "status": run.status,
                    "new": run.new,
                    "updated": run.updated,
                    "unchanged": run.unchanged,
                    "rejected": run.rejected,
                    "error": run.error,
                    "reason": run.reason,
                },
            }
        )
    return JSONResponse(out)
