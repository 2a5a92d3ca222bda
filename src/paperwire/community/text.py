"""Comments are plain text: paragraphs and http(s) links, everything else escaped."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

MAX_COMMENT = 10_000
_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\""


def _linkify(text: str) -> Markup:
    out, last = [], 0
    for m in _URL.finditer(text):
        url = m.group(0)
        trail = ""
        while url and url[-1] in _TRAILING:
            trail = url[-1] + trail
            url = url[:-1]
        out.append(escape(text[last : m.start()]))
        out.append(Markup('<a href="{0}" rel="nofollow noopener ugc">{0}</a>').format(url))
        out.append(escape(trail))
        last = m.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


def comment_html(text: str) -> Markup:
    """``<p>`` per paragraph (blank-line separated), ``<br>`` per line, http(s) URLs linked.

    Only URLs that start with http:// or https:// become links, so ``javascript:`` and
    ``data:`` stay text; every other character is escaped.
    """
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n"))]
    html = []
    for p in paragraphs:
        if p:
            lines = Markup("<br>\n").join(_linkify(line) for line in p.split("\n"))
            html.append(Markup("<p>{}</p>").format(lines))
    return Markup("\n").join(html)


def clean_comment(text: str) -> tuple[str, str | None]:
    """The comment as stored (trimmed), and what is wrong with it, if anything."""
    text = (text or "").replace("\r\n", "\n").replace("\x00", "").strip()
    if not text:
        return text, "A comment cannot be empty."
    if len(text) > MAX_COMMENT:
        return text, f"A comment has at most {MAX_COMMENT:,} characters."
    return text, None
