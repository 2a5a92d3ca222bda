"""Property-based tests (Hypothesis) for every parser that reads outside input: random and
hostile input gives a clear error of the parser's own kind, or a clean result; never another
exception.  Fixed seed and bounded examples, so a run is repeatable and quick."""

from __future__ import annotations

import hashlib
import json
import re
import string
from datetime import date
from xml.sax.saxutils import escape

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from paperwire.arxiv_ids import InvalidArxivId, normalize_arxiv_id, parse_arxiv_id
from paperwire.safetext import xml_safe
from paperwire.search.follow_state import signature
from paperwire.search.query import parse
from paperwire.sources import arxiv_api, hf_daily, oai_pmh, snapshot
from paperwire.sources.errors import RecordError
from paperwire.sources.http import SourceError
from paperwire.sources.text import clean_line
from paperwire.store.views import SearchDoc
from paperwire.ui.periods import MAX_YEAR, MIN_YEAR, BadPeriod, parse_period
from paperwire.ui.templating import PageError
from paperwire.web.api import ApiError
from paperwire.web.api import _int as api_int
from paperwire.web.pages import MAX_PAGE, page_number

PAGE_CHARS = "-+ \u0663\u00b2"
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ANY_TEXT = st.text(alphabet=st.characters(codec=None), max_size=60)
DIGITS = st.sampled_from(list("0123456789") + ["\u0663", "\u0967", "\uff11", "\u00b2", "\u2468"])
ID_LIKE = st.one_of(
    ANY_TEXT,
    st.builds(
        lambda a, b, v: f"{a}.{b}{v}",
        st.text(DIGITS, min_size=4, max_size=4),
        st.text(DIGITS, min_size=4, max_size=5),
        st.sampled_from(["", "v1", "v02", "v", "V3"]),
    ),  # fmt: skip
    st.builds(
        lambda arch, n: f"{arch}/{n}",
        st.sampled_from(["hep-th", "math.AP", "cs", "x-"]),
        st.text(DIGITS, min_size=6, max_size=8),
    ),  # fmt: skip
)


@seed(1)
@FAST
@given(ID_LIKE)
def test_arxiv_ids_parse_cleanly_or_raise_invalid(text):
    try:
        got = parse_arxiv_id(text)
    except InvalidArxivId as exc:
        assert str(exc)  # a message a person can read
        return
    assert got.id.isascii() and got.id == got.id.strip()
    assert normalize_arxiv_id(got.id) == got.id  # normalizing is idempotent
    assert parse_arxiv_id(f"arXiv:{got.id}").id == got.id


@seed(2)
@FAST
@given(st.text(max_size=300))
def test_the_query_language_never_raises(text):
    q = parse(text)
    assert isinstance(q.notes, list)
    if not q.empty:
        assert q.tantivy().strip()


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | ANY_TEXT,
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(ANY_TEXT, kids, max_size=5),
    max_leaves=20,
)
PAPER_KEYS = ["id", "title", "summary", "authors", "publishedAt", "upvotes", "organization",
              "submittedOnDailyAt", "githubRepo", "ai_keywords", "numComments"]  # fmt: skip
HF_ITEM = st.one_of(
    JSONISH,
    st.fixed_dictionaries(
        {"paper": st.dictionaries(st.sampled_from(PAPER_KEYS), JSONISH, max_size=8)},
        optional={
            "publishedAt": JSONISH,
            "numComments": JSONISH,
            "submittedBy": JSONISH,
            "organization": JSONISH,
        },  # fmt: skip
    ),
)


@seed(3)
@FAST
@given(HF_ITEM, st.none() | st.dates())
def test_hf_items_give_a_record_or_a_record_error(item, day):
    try:
        rec = hf_daily.parse_item(item, day, "item")
    except RecordError as exc:
        assert exc.where == "item" and exc.message
        return
    assert rec.arxiv_id and rec.title == xml_safe(rec.title)
    json.dumps(rec.title)  # storable text: no lone surrogates


KAGGLE_KEYS = ["id", "title", "abstract", "authors", "authors_parsed", "categories",
               "versions", "update_date", "comments", "doi", "journal-ref", "license"]  # fmt: skip
KAGGLE = st.one_of(JSONISH, st.dictionaries(st.sampled_from(KAGGLE_KEYS), JSONISH, max_size=10))


@seed(4)
@FAST
@given(KAGGLE)
def test_kaggle_records_give_a_record_or_a_record_error(obj):
    try:
        rec = snapshot.parse_record(obj, "line 1")
    except RecordError as exc:
        assert exc.where == "line 1" and exc.message
        return
    assert rec.arxiv_id and rec.title
    assert rec.abstract == xml_safe(rec.abstract)


XML_TEXT = ANY_TEXT.map(lambda t: escape(xml_safe(t)))


def _atom(entry_fields: list[tuple[str, str]], total: str) -> str:
    body = "".join(f"<{k}>{v}</{k}>" for k, v in entry_fields)
    return (
        '<feed xmlns="http://www.w3.org/2005/Atom" '
        'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
        'xmlns:arxiv="http://arxiv.org/schemas/atom">'
        f"<opensearch:totalResults>{total}</opensearch:totalResults>"
        f"<entry>{body}</entry></feed>"
    )


ATOM_FIELDS = st.lists(
    st.tuples(st.sampled_from(["id", "title", "summary", "published", "updated"]), XML_TEXT),
    max_size=6,
)


@seed(5)
@FAST
@given(st.one_of(ANY_TEXT, st.builds(_atom, ATOM_FIELDS, st.text(DIGITS, max_size=4))))
def test_arxiv_api_atom_gives_a_feed_or_a_source_error(text):
    try:
        feed = arxiv_api.parse_feed(text, "test")
    except SourceError as exc:
        assert str(exc)
        return
    assert feed.total >= 0
    for e in feed.entries:
        assert isinstance(e, RecordError) or e.arxiv_id


def _oai(fields: list[tuple[str, str]], size: str) -> str:
    body = "".join(f"<{k}>{v}</{k}>" for k, v in fields)
    return (
        '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords><record><header>'
        "<identifier>oai:arXiv.org:2608.00001</identifier></header><metadata>"
        f'<arXiv xmlns="http://arxiv.org/OAI/arXiv/">{body}</arXiv></metadata></record>'
        f'<resumptionToken completeListSize="{size}" cursor="{size}">t</resumptionToken>'
        "</ListRecords></OAI-PMH>"
    )


OAI_FIELDS = st.lists(
    st.tuples(st.sampled_from(["id", "title", "abstract", "categories", "created", "updated"]),
              XML_TEXT),
    max_size=6,
)  # fmt: skip


@seed(6)
@FAST
@given(st.one_of(ANY_TEXT, st.builds(_oai, OAI_FIELDS, st.text(DIGITS, max_size=4))))
def test_oai_pmh_gives_a_page_or_a_source_error(text):
    try:
        page = oai_pmh.parse_response(text, "test")
    except SourceError as exc:
        assert str(exc)
        return
    for r in page.records:
        assert isinstance(r, RecordError) or r.arxiv_id


@seed(7)
@FAST
@given(st.sampled_from(["day", "week", "month"]),
       st.one_of(ANY_TEXT, st.builds(lambda y, m, d: f"{y}-{m}-{d}",
                                     st.integers(-5, 12000), st.text(DIGITS, max_size=3),
                                     st.text(DIGITS, max_size=3)),
                 st.builds(lambda y, w: f"{y}-W{w}", st.integers(0, 10000),
                           st.integers(0, 60))))  # fmt: skip
def test_periods_parse_cleanly_or_raise_bad_period(kind, text):
    try:
        period = parse_period(kind, text)
    except BadPeriod as exc:
        assert str(exc)
        return
    assert MIN_YEAR <= period.start.year <= MAX_YEAR
    assert period.start <= period.end
    # the pages link to both neighbours: computing them never overflows
    for other in (period.previous(), period.next()):
        assert other is None or isinstance(other.start, date)
    assert period.url.startswith("/papers/")


@seed(8)
@FAST
@given(st.one_of(st.none(), ANY_TEXT, st.integers().map(str),
                 st.text(st.sampled_from(string.digits + PAGE_CHARS), max_size=25)))  # fmt: skip
def test_page_numbers_are_small_integers_or_a_400(text):
    try:
        n = page_number(text)
    except PageError as exc:
        assert exc.status_code == 400
        return
    assert 0 <= n <= MAX_PAGE


@seed(9)
@FAST
@given(st.one_of(st.none(), ANY_TEXT, st.integers().map(str),
                 st.text(st.sampled_from(string.digits + PAGE_CHARS), max_size=25)),
       st.integers(0, 5), st.integers(5, 500))  # fmt: skip
def test_limit_and_offset_values_are_in_range_or_an_api_error(text, low, high):
    try:
        n = api_int("limit", text, low, low, high)
    except ApiError as exc:
        assert exc.status_code == 400 and "limit" in exc.message
        return
    assert low <= n <= high


def test_stop_words_are_dropped_from_plain_words_only():
    assert parse("the effect of aspirin on the heart").tantivy() == "effect aspirin heart"
    assert parse('"the state of the art" of models').tantivy() == 'models "the state of the art"'
    assert parse("the").tantivy() == "the"  # a query of stop words alone stays as it is
    assert parse("to be or not to be").tantivy() == "to be or not"  # (words once each)
    assert parse("-the cats").tantivy() == "cats -the"


WHITESPACE = [chr(i) for i in range(0x3000 + 1) if chr(i).isspace()]


@FAST
@given(st.one_of(ANY_TEXT, st.text(st.sampled_from(WHITESPACE + list("ab\ufffe\x00")))))
def test_clean_line_collapses_whitespace_as_the_regex_did(text):
    # clean_line uses str.split() for speed; it must keep the regex's meaning of \s
    assert clean_line(text) == re.sub(r"\s+", " ", xml_safe(text)).strip()


WORDS = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)


@FAST
@given(WORDS, WORDS, st.lists(WORDS, max_size=4), st.none() | WORDS, st.integers(0, 10**6))
def test_follow_signatures_keep_their_earlier_definition(title, abstract, authors, org, votes):
    # follow states on disk hold signatures made with json.dumps; a new definition would make
    # every follower re-read every paper once (hours at 2.9M)
    doc = SearchDoc(1, "2501.00001", title, abstract, authors, ["kw"], ["cs.CL", "cs.AI"], org,
                    date(2026, 11, 30), votes)  # fmt: skip
    fields = ["2501.00001", title, abstract, authors, ["kw"], ["cs.AI", "cs.CL"], org,
              "2026-11-30", votes]  # fmt: skip
    raw = json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()
    assert signature(doc) == hashlib.blake2b(raw, digest_size=12).hexdigest()
