"""``/docs``: the OpenAPI description as a plain page (no JavaScript, no CDN).

The machine-readable schema is at ``/openapi.json``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from paperwire.ui.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    schema = request.app.openapi()
    operations = []
    for path, methods in schema.get("paths", {}).items():
        for method, op in methods.items():
            params = [
                {
                    "name": prm.get("name"),
                    "where": prm.get("in"),
                    "required": prm.get("required", False),
                    "description": prm.get("description")
                    or prm.get("schema", {}).get("description", ""),
                }
                for prm in op.get("parameters", [])
            ]
            operations.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "params": params,
                }
            )
    return render(
        request,
        "docs.html",
        title=f"API · {request.app.state.settings.site_name}",
        info=schema.get("info", {}),
        operations=operations,
    )
