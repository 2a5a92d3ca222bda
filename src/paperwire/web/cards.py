"""Paper cards and their small parts, written in Python for the templates.

A card is the unit of every listing page (a day, week or month, an author, an
organization, trending, For you, a reader's page): a page holds up to 50.  As a Jinja macro
with two sub-macros a card with its forms cost 150-390 us on these cores (every ``{{ }}``
goes through attribute lookup, the finalize hook, escaping and Markup concatenation; each
macro call builds a context); as f-strings with ``escape`` it costs about 40% less
(docs/benchmarks.md).  The HTML is the macro's: compared on 3,302 real cards and hostile ones
when this replaced it; ``tests/test_cards.py`` checks each branch.

Every value from a paper or a reader is escaped here (``escape``), and the finished HTML
loses the characters XML cannot hold (``xml_safe``), as the templates' finalize hook does.
The reader's parts (CSRF field, the page's own path, Save state, collections) come from the
template context: the Jinja globals that ``community`` and ``web.app`` install.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from paperwire.safetext import xml_safe
from paperwire.store.views import OrganizationView, PaperView
from paperwire.ui.templating import XmlSafe, nice_date, org_url, paper_url
from paperwire.web.authors import author_links

# The card's own symbols as character references: a card of ASCII text is then all ASCII,
# which ``xml_safe`` checks several times faster than text with one wider character.
UP = "&#9650;"  # ▲
STAR = "&#9733;"  # ★
HOLLOW_STAR = "&#9734;"  # ☆
ELLIPSIS = "&#8230;"  # …
_WEB = ("https://", "http://")
_SAVE_TITLE = "Save this paper (it trains your For you ranking)"
_CODE_BADGE = ' <span class="badge code" title="Has a code repository">code</span>'


@lru_cache(maxsize=256)
def _terms_pattern(terms: tuple[str, ...]) -> re.Pattern[str]:
    """Words that start with a term (escaped, as the text is), in escaped text: not after a
    word character, nor after "&" or "#" (so "amp" or "39" never land inside "&amp;" or
    "&#39;")."""
    return re.compile(
        r"(?<![\w&#])((?:"
        + "|".join(re.escape(str(escape(t))) for t in sorted(terms, key=len, reverse=True))
        + r")\w*)",
        re.IGNORECASE,
    )


def highlight(text: str, terms: list[str]) -> Markup:
    """``text`` escaped, with words starting with a query term wrapped in <mark>.  The text is
    escaped once and split at the marked words (escaping each piece between marks was two
    thirds of a search card's time, and ``re.sub`` expands its template in Python per match)."""
    safe = escape(text)
    if not terms:
        return safe
    parts = _terms_pattern(tuple(terms)).split(str(safe))  # text, word, text, word, ..., text
    parts[1::2] = [f"<mark>{w}</mark>" for w in parts[1::2]]
    return Markup("".join(parts))


def _html(s: str) -> Markup:
    """Finished HTML, cleaned once: the templates' finalize hook passes ``XmlSafe`` as is."""
    return XmlSafe(xml_safe(s))


def org_link(o: OrganizationView) -> Markup:
    shown = o.display_name or o.name
    return _html(
        f'<a class="org" href="{escape(org_url(o.name))}"><span class="initial" '
        f'aria-hidden="true">{escape(shown[:1].upper())}</span>'
        f"<span>{escape(o.display_name)}</span></a>\n"
    )


def ext_link(url: str | None, label: str) -> Markup:
    """A link to an outside page, only for http(s) addresses."""
    if not (url and url.startswith(_WEB)):
        return Markup("")
    return _html(f'<a href="{escape(url)}" rel="noopener nofollow">{escape(label)}</a>')


def _save_form(back: str, csrf: str, url: str, cls: str, on: bool) -> str:
    pressed, title, label = (
        ("true", "Saved: click to unsave", f"{STAR} Saved")
        if on
        else ("false", _SAVE_TITLE, f"{HOLLOW_STAR} Save")
    )
    return (
        f'<form class="save" method="post" action="{escape(url)}/save">\n'
        f'  {csrf}<input type="hidden" name="next" value="{escape(back)}">\n'
        f'  <input type="hidden" name="{"undo" if on else "save"}" value="1">\n'
        f'  <button type="submit" class="{escape(cls)}{" saved" if on else ""}" '
        f'aria-pressed="{pressed}" title="{title}">{label}</button>\n</form>\n'
    )


def _collect_form(aid: str, back: str, csrf: str, mine: list[Any]) -> str:
    """The reader's 10 most recently changed collections (a reader may have 200); any
    collection's own page adds a paper by its arXiv id."""
    if not mine:
        return ""
    options = "".join(f'<option value="{c.id}">{escape(c.name)}</option>' for c in mine[:10])
    a = escape(aid)
    return (
        '<form class="collect" method="post" action="/collections/add">\n'
        f'  {csrf}<input type="hidden" name="arxiv_id" value="{a}">'
        f'<input type="hidden" name="next" value="{escape(back)}">\n'
        f'  <label><span class="vh">Collection for {a}</span><select name="collection">'
        f"{options}</select></label>\n"
        '  <button type="submit" class="button subtle">Add to collection</button>\n</form>\n'
    )


class _Reader:
    """What a card needs of the reader, from the template context (None: no forms)."""

    __slots__ = ("csrf", "here", "is_saved", "collections")

    def __init__(self, ctx: Context) -> None:
        self.csrf = str(ctx["csrf_field"]())
        self.here = ctx["current_path"]() if "current_path" in ctx else "/"
        self.is_saved = ctx.get("is_saved")
        self.collections = ctx["my_collections"]() if "my_collections" in ctx else []

    @classmethod
    def of(cls, ctx: Context) -> _Reader | None:
        return cls(ctx) if "csrf_field" in ctx else None

    def saved(self, aid: str) -> bool:
        return bool(self.is_saved and self.is_saved(aid))


@pass_context
def save_button(ctx: Context, aid: str, back: str, cls: str = "") -> Markup:
    """The Save / Saved toggle of a paper (nothing without a session's forms)."""
    reader = _Reader.of(ctx)
    if reader is None:
        return Markup("")
    return _html(_save_form(back, reader.csrf, paper_url(aid), cls, reader.saved(aid)))


@pass_context
def collect_form(ctx: Context, aid: str, back: str) -> Markup:
    """The "Add to collection" form, for a signed-in reader with collections."""
    reader = _Reader.of(ctx)
    if reader is None:
        return Markup("")
    return _html(_collect_form(aid, back, reader.csrf, reader.collections))


@pass_context
def paper_card(ctx: Context, p: PaperView) -> Markup:
    """One paper as a card: votes, title, authors, date, organization, links, Save and
    collections, and the abstract folded."""
    reader = _Reader.of(ctx)
    return _card(p, reader)


def _title(p: PaperView, url: str) -> str:
    badge = _CODE_BADGE if p.github_repo else ""
    return f'<h2 class="title"><a href="{url}">{escape(p.title)}</a>{badge}</h2>\n'


def _card(p: PaperView, reader: _Reader | None) -> Markup:
    url = paper_url(p.arxiv_id)
    u = escape(url)
    up = p.upvotes
    out = ['<article class="card">\n']
    if reader is not None:
        out.append(
            f'  <form class="votes" method="post" action="{u}/upvote" title="{up} upvotes: '
            f'upvote or withdraw yours">\n    {reader.csrf}<input type="hidden" name="next" '
            f'value="{escape(reader.here)}">\n    <button type="submit"><span class="arrow" '
            f'aria-hidden="true">{UP}</span>\n    <span class="count">{up}</span>\n    <span '
            'class="vh">upvotes; upvote this paper</span></button>\n  </form>\n'
        )
    else:
        out.append(
            f'  <div class="votes" title="{up} upvotes">\n    <span class="arrow" '
            f'aria-hidden="true">{UP}</span>\n    <span class="count">{up}</span>\n    '
            '<span class="vh">upvotes</span>\n  </div>\n'
        )
    if p.listing:
        day = f' data-day="{p.listing.day.isoformat()}"'
    elif p.published_at:
        day = f' data-day="{p.published_at.date().isoformat()}"'
    else:
        day = ""
    out.append(f'  <div class="body"{day}>\n    {_title(p, u)}')
    if p.authors:
        out.append(f'<p class="authors">{author_links(p.authors)}</p>')
    out.append('    <p class="meta">\n')
    if p.published_at:
        d = p.published_at.date()
        out.append(f'<span>Published <time datetime="{d.isoformat()}">{nice_date(d)}</time></span>')
    if p.organization:
        out.append(org_link(p.organization))
    if p.listing and p.listing.submitted_by:
        by = p.listing.submitter_fullname or p.listing.submitted_by
        out.append(f'<span class="submitter">submitted by {escape(by)}</span>')
    if p.num_comments:
        n = p.num_comments
        out.append(f"<span>{n} comment{'s' if n != 1 else ''}</span>")
    out.append('    </p>\n    <p class="links">\n')
    gh = p.github_repo
    if gh and gh.startswith(_WEB):
        stars = (
            f' <span class="stars">{STAR} {p.github_stars}</span>'
            if p.github_stars is not None
            else ""
        )
        out.append(f'<a class="gh" href="{escape(gh)}" rel="noopener nofollow">GitHub{stars}</a>')
    out.append(
        f"      {ext_link(p.project_page, 'Project page')}\n"
        f'      <a href="{escape(p.abs_url)}" rel="noopener">arXiv</a>\n'
        f'      <a href="{escape(p.pdf_url)}" rel="noopener">PDF</a>\n    </p>\n'
    )
    if reader is not None:
        aid = p.arxiv_id
        here = reader.here
        out.append(_save_form(here, reader.csrf, url, "", reader.saved(aid)))
        out.append(_collect_form(aid, here, reader.csrf, reader.collections))
    if p.abstract:
        out.append(
            "    <details>\n      <summary>Abstract</summary>\n"
            f'      <p class="abstract">{escape(p.abstract)}</p>\n    </details>\n'
        )
    out.append("  </div>\n</article>\n")
    return _html("".join(out))


def brief_card(p: PaperView, note: str = "") -> Markup:
    """A collection's entry: title, authors, date, upvotes and the owner's note (no
    abstract, no forms; the collection page adds the owner's tools)."""
    out = [_title(p, escape(paper_url(p.arxiv_id)))]
    if p.authors:
        out.append(f'<p class="authors">{author_links(p.authors)}</p>\n')
    published = f"<span>Published {nice_date(p.published_at)}</span>" if p.published_at else ""
    out.append(f'<p class="meta">{published} <span>{UP} {p.upvotes}</span></p>\n')
    if note:
        out.append(f'<p class="note">{escape(note)}</p>')
    return _html("".join(out))


def search_card(p: PaperView, terms: list[str]) -> Markup:
    """A search result: the card without forms, the query's words marked in the title and
    the first 400 characters of the abstract, and the paper's first three categories."""
    u = escape(paper_url(p.arxiv_id))
    up = p.upvotes
    badge = _CODE_BADGE if p.github_repo else ""
    out = [
        f'  <article class="card">\n    <div class="votes" title="{up} upvotes"><span '
        f'class="arrow" aria-hidden="true">{UP}</span><span class="count">{up}</span><span '
        f'class="vh">upvotes</span></div>\n    <div class="body">\n      <h2 class="title">'
        f'<a href="{u}">{highlight(p.title, terms)}</a>{badge}</h2>\n'
    ]
    if p.authors:
        out.append(f'<p class="authors">{author_links(p.authors)}</p>')
    out.append('      <p class="meta">\n')
    if p.listing:
        d = p.listing.day
        out.append(f'<span>Listed <time datetime="{d.isoformat()}">{nice_date(d)}</time></span>')
    elif p.published_at:
        d = p.published_at.date()
        out.append(f'<span>Published <time datetime="{d.isoformat()}">{nice_date(d)}</time></span>')
    if p.organization:
        out.append(org_link(p.organization))
    out.extend(f'<span class="chip">{escape(c)}</span> ' for c in p.categories[:3])
    out.append("      </p>\n")
    if p.abstract:
        more = ELLIPSIS if len(p.abstract) > 400 else ""
        out.append(f'<p class="abstract">{highlight(p.abstract[:400], terms)}{more}</p>')
    out.append("    </div>\n  </article>\n")
    return _html("".join(out))


GLOBALS = {
    "search_card": search_card,
    "brief_card": brief_card,
    "paper_card": paper_card,
    "org_link": org_link,
    "ext_link": ext_link,
    "save_button": save_button,
    "collect_form": collect_form,
}
