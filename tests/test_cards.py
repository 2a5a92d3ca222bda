"""Paper cards (web/cards.py): what a card shows, what it links, and what it escapes, for a
visitor without forms, a reader with a session, and a signed-in reader with collections."""

from __future__ import annotations

import html
import re
from datetime import date, datetime
from types import SimpleNamespace

import pytest
from markupsafe import Markup

from paperwire.store.views import ListingView, OrganizationView, PaperView
from paperwire.ui.templating import make_env
from paperwire.web import cards

CSRF = Markup('<input type="hidden" name="csrf_token" value="tok">')


def paper(**kw) -> PaperView:
    base = dict(
        arxiv_id="2608.00001",
        title="Engines",
        abstract="An abstract.",
        authors=["Ada Lovelace", "Charles Babbage"],
        categories=[],
        published_at=datetime(2026, 8, 3, 12),
        updated_at=None,
        version=1,
        comments=None,
        journal_ref=None,
        doi=None,
        github_repo="https://github.com/ada/engines",
        github_stars=7,
        project_page=None,
        keywords=[],
        upvotes=12,
        num_comments=1,
        listing=ListingView(
            day=date(2026, 8, 5),
            source="hf",
            submitted_by="ada",
            submitter_fullname=None,
            submitter_avatar=None,
            submitted_at=None,
            organization=OrganizationView("acme", "Acme <Labs>", None),
        ),
    )
    base.update(kw)
    return PaperView(**base)  # type: ignore[arg-type]


def render(p: PaperView, **reader) -> str:
    env = make_env()
    env.globals.update(cards.GLOBALS)
    env.globals.update(reader)
    return env.from_string("{{ paper_card(p) }}").render(p=p)


def signed_in(saved=(), collections=0):
    mine = [SimpleNamespace(id=i, name=f"List <{i}>") for i in range(collections)]
    return dict(
        csrf_field=lambda: CSRF,
        current_path=lambda: "/papers/date/2026-08-05?sort=trending&x=<y>",
        is_saved=lambda aid: aid in saved,
        my_collections=lambda: mine,
    )


def test_a_card_shows_the_paper_and_links_its_pages():
    out = render(paper())
    assert '<h2 class="title"><a href="/papers/2608.00001">Engines</a>' in out
    assert 'data-day="2026-08-05"' in out  # the listing's day, before the publication's
    assert '<time datetime="2026-08-03">3 Aug 2026</time>' in out
    assert '<a href="/authors/Ada%20Lovelace">Ada Lovelace</a>' in out
    assert 'href="/organizations/acme"' in out and "Acme &lt;Labs&gt;" in out
    assert "submitted by ada" in out and "1 comment<" in out
    assert 'class="gh" href="https://github.com/ada/engines"' in out
    assert "★ 7" in html.unescape(out) and "badge code" in out
    # the card's own symbols are character references: ASCII data makes an ASCII card
    assert out.isascii()
    assert 'href="https://arxiv.org/abs/2608.00001"' in out
    assert 'href="https://arxiv.org/pdf/2608.00001"' in out
    # a visitor without a session gets no forms
    assert "<form" not in out and '<div class="votes" title="12 upvotes">' in out


def test_untrusted_text_is_escaped_and_cleaned():
    hostile = paper(
        title='<script>alert("t")</script>\x01',
        abstract="<img src=x onerror=alert(1)>\x00 & more",
        authors=['Eve <b onclick="x">'],
        github_repo="javascript:alert(1)",
        project_page='https://example.org/?a=1&b="2"',
        listing=None,
        num_comments=2,
    )
    out = render(hostile, **signed_in(collections=1))
    assert "<script>" not in out and "<img" not in out and "<b " not in out
    assert "&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt;" in out
    assert "\x00" not in out and "\x01" not in out  # what no XML reader accepts
    assert 'href="javascript' not in out  # only http(s) repositories are linked
    assert 'href="https://example.org/?a=1&amp;b=&#34;2&#34;"' in out
    assert 'data-day="2026-08-03"' in out  # no listing: the publication day
    assert "2 comments" in out
    assert 'value="/papers/date/2026-08-05?sort=trending&amp;x=&lt;y&gt;"' in out
    assert "List &lt;0&gt;" in out


@pytest.mark.parametrize("saved", [False, True])
def test_a_reader_with_a_session_gets_the_forms(saved):
    out = render(paper(), **signed_in(saved={"2608.00001"} if saved else set(), collections=12))
    forms = re.findall(r'<form class="(\w+)" method="post" action="([^"]+)"', out)
    assert forms == [
        ("votes", "/papers/2608.00001/upvote"),
        ("save", "/papers/2608.00001/save"),
        ("collect", "/collections/add"),
    ]
    assert out.count(str(CSRF)) == 3  # every form carries the token
    assert ('aria-pressed="true"' in out) is saved
    assert ('name="undo"' in out) is saved and ("★ Saved" in html.unescape(out)) is saved
    assert ("☆ Save<" in html.unescape(out)) is not saved
    assert len(re.findall(r"<option ", out)) == 10  # the ten most recent collections
    back = html.unescape(re.search(r'name="next" value="([^"]*)"', out).group(1))
    assert back == "/papers/date/2026-08-05?sort=trending&x=<y>"


def test_no_collections_no_collection_form():
    out = render(paper(), **signed_in(collections=0))
    assert 'class="collect"' not in out and 'class="save"' in out


def test_a_bare_paper_has_no_empty_parts():
    bare = paper(
        listing=None,
        published_at=None,
        authors=[],
        abstract="",
        github_repo=None,
        github_stars=None,
        num_comments=0,
    )
    out = render(bare)
    assert "data-day" not in out and "<time" not in out and "authors" not in out
    assert "<details>" not in out and "GitHub" not in out and "comment" not in out
    assert 'class="org"' not in out and "submitted by" not in out


def test_a_brief_card_has_the_note_and_no_abstract_or_forms():
    env = make_env()
    env.globals.update(cards.GLOBALS)
    env.globals.update(signed_in(collections=3))
    out = env.from_string("{{ brief_card(p, note) }}").render(p=paper(), note="Read <this> & that")
    assert '<a href="/papers/2608.00001">Engines</a>' in out and "badge code" in out
    assert '<p class="note">Read &lt;this&gt; &amp; that</p>' in out
    assert "<span>Published 3 Aug 2026</span>" in out and "▲ 12" in html.unescape(out)
    assert "An abstract." not in out and "<form" not in out


def test_a_search_card_marks_the_query_and_shortens_the_abstract():
    env = make_env()
    env.globals.update(cards.GLOBALS)
    long = "Engines <b>compute</b>. " + "word " * 100
    p = paper(abstract=long, categories=["cs.LG", "cs.AI", "stat.ML", "cs.CL"])
    out = env.from_string("{{ search_card(p, terms) }}").render(p=p, terms=["engine"])
    assert '<a href="/papers/2608.00001"><mark>Engines</mark></a>' in out
    assert "<mark>Engines</mark> &lt;b&gt;compute&lt;/b&gt;." in out  # marked, still escaped
    abstract = re.search(r'<p class="abstract">(.*?)</p>', out, re.S).group(1)
    assert (
        html.unescape(abstract).endswith("…")
        and len(html.unescape(re.sub("<[^>]+>", "", abstract))) == 401
    )
    assert re.findall(r'<span class="chip">([^<]*)</span>', out) == ["cs.LG", "cs.AI", "stat.ML"]
    assert 'datetime="2026-08-05"' in out and "Listed" in out  # the listing's day first
    assert "<form" not in out


def test_marks_never_break_an_entity():
    from paperwire.web.cards import highlight

    out = str(highlight("R&D amplifiers, don't <amp> 39 #39", ["amp", "39", "don't"]))
    assert out == (
        "R&amp;D <mark>amplifiers</mark>, <mark>don&#39;t</mark> &lt;<mark>amp</mark>&gt; "
        "<mark>39</mark> #39"
    )
    assert str(highlight("a <b>", [])) == "a &lt;b&gt;"
