"""Jinja2 for the pages: autoescaping always on, a few filters, one ``render`` helper.

Data from papers (titles, abstracts, names) is untrusted: templates never mark it ``|safe``.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from starlette.exceptions import HTTPException as StarletteHTTPException

from paperwire.core.trend import chart as trend_chart_geometry
from paperwire.safetext import xml_safe
from paperwire.ui.periods import month_key, week_key

WEB = Path(__file__).parent.parent / "web"  # the templates and static files live with the app
TEMPLATES = WEB / "templates"
VENDOR = WEB / "static" / "vendor"


class PageError(StarletteHTTPException):
    """An HTTP error for a page, with links that help the reader on (label, url)."""

    def __init__(
        self, status_code: int, detail: str, suggestions: list[tuple[str, str]] | None = None
    ) -> None:
        super().__init__(status_code, detail)
        self.suggestions = suggestions or []


def authors_short(authors: list[str], n: int = 3) -> str:
    if len(authors) <= n + 1:
        return ", ".join(authors)
    return ", ".join(authors[:n]) + " et al."


def nice_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.date()
    return _day_text(value)


@lru_cache(maxsize=16384)
def _day_text(day: date) -> str:
    """The day as "3 Aug 2026" (cached: every card shows a date, and ``strftime`` was a
    tenth of a card's time)."""
    return day.strftime("%-d %b %Y")


def paper_url(arxiv_id: str) -> str:
    return "/papers/" + quote(arxiv_id, safe="/")


def org_url(name: str) -> str:
    return "/organizations/" + quote(name, safe="")


def day_url(day: date) -> str:
    return f"/papers/date/{day.isoformat()}"


def week_url(day: date) -> str:
    return f"/papers/week/{week_key(day)}"


def month_url(day: date) -> str:
    return f"/papers/month/{month_key(day)}"


def vendor_has(name: str) -> bool:
    """Whether ``name`` is in static/vendor (shipped with the package; pages work without)."""
    return _is_file(VENDOR / name)


@lru_cache(maxsize=64)
def _is_file(path: Path) -> bool:
    # cached: four stat() calls on every page render otherwise (the package's files do not
    # change while it runs)
    return path.is_file()


def query(**params: object) -> str:
    """``?a=1&b=2`` from the params that are set (None and "" are left out)."""
    kept = {k: v for k, v in params.items() if v not in (None, "")}
    return "?" + urlencode(kept) if kept else ""


class XmlSafe(Markup):
    """HTML already passed through ``xml_safe`` (the cards): the finalize hook does not scan
    it again (the second pass over 50 cards was about 7% of a prolific author's page)."""

    __slots__ = ()


def _finalize(value: object) -> object:
    """Every ``{{ ... }}`` string loses the characters no XML or HTML reader accepts."""
    if type(value) is XmlSafe:
        return value
    if isinstance(value, Markup):  # already-safe HTML stays marked safe
        clean = xml_safe(value)
        return value if clean is value else Markup(clean)
    return xml_safe(value) if isinstance(value, str) else value


def make_env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # The templates ship with the package: no stat() of every template on every render
        # (about 7% of a day page's time under load; restart to pick up an edited template).
        auto_reload=False,
        finalize=_finalize,
    )
    env.filters.update(authors_short=authors_short, nice_date=nice_date)
    env.globals.update(
        paper_url=paper_url,
        org_url=org_url,
        day_url=day_url,
        week_url=week_url,
        month_url=month_url,
        query=query,
        vendor_has=vendor_has,
        trend_geometry=trend_chart_geometry,
    )
    return env


def render(request: Request, name: str, status_code: int = 200, **context: object) -> HTMLResponse:
    env: Environment = request.app.state.jinja
    settings = request.app.state.settings
    context.setdefault("title", settings.site_name)
    html = env.get_template(name).render(
        request=request, site_name=settings.site_name, today=date.today(), **context
    )
    return HTMLResponse(html, status_code=status_code)
