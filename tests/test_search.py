"""Search: incremental indexing, rebuild, filters, pagination, bad queries (real indexes)."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time

import pytest

from paperwire.ranking import TrendingInputs, trending_score
from paperwire.search.hybrid import HybridSearcher
from paperwire.search.indexer import SearchIndex, open_index
from paperwire.search.lexical import Filters
from paperwire.search.query import parse
from paperwire.sources.files import read_file
from paperwire.store.trending import TrendingRepository

DAYS = ["2026-08-19.json", "2026-08-20.json", "2026-08-21.json"]


def records(hf_dir, days=DAYS):
    for name in days:
        yield from read_file(hf_dir / name)


@pytest.fixture
def loaded(store, settings, shared_hf_dir):
    store.import_records(records(shared_hf_dir))
    return HybridSearcher(open_index(settings), store)


def test_import_is_searchable_at_once(store, settings, shared_hf_dir):
    first = next(r for r in records(shared_hf_dir, DAYS[:1]) if hasattr(r, "title"))
    store.import_records([first])
    s = HybridSearcher(open_index(settings), store)
    word = max(parse(first.title).words, key=len)
    result = s.search(word, mode="lexical")
    assert first.arxiv_id in [p.arxiv_id for p in result.items]
    # an update is re-indexed in place: the new title is found, no duplicate document
    store.import_records([dataclasses.replace(first, title="Zyxwvut quokka benchmarking")])
    assert [p.arxiv_id for p in s.search("quokka", mode="lexical").items] == [first.arxiv_id]
    assert s.index.lexical.count() == 1


def test_rebuild_equals_incremental(loaded, store, tmp_path):
    fresh = SearchIndex(tmp_path / "rebuilt")
    n = fresh.rebuild(store)
    fresh.embed_pending(store)
    assert n == store.counts().papers
    assert fresh.lexical.ids() == loaded.index.lexical.ids()
    assert fresh.status() == loaded.index.status()
    other = HybridSearcher(fresh, store)
    for q in ["agent", "reinforcement learning", '"language model"', "diffus*"]:
        for mode in ("lexical", "hybrid"):
            a = [p.arxiv_id for p in loaded.search(q, mode=mode, limit=50).items]
            b = [p.arxiv_id for p in other.search(q, mode=mode, limit=50).items]
            assert a == b, (q, mode)


def test_filters_apply_inside_retrieval(loaded):
    everything = loaded.search("model", mode="lexical", limit=100)
    assert everything.total > 5
    popular = loaded.search("model", Filters(min_upvotes=30), mode="hybrid", limit=100)
    assert popular.items and all(p.upvotes >= 30 for p in popular.items)
    day = date(2026, 8, 20)
    on_day = loaded.search("model", Filters(start=day, end=day), limit=100)
    assert on_day.items and all(p.listing.day == day for p in on_day.items)
    org = next(p.organization.name for p in everything.items if p.organization)
    by_org = loaded.search("model", Filters(organization=org), limit=100)
    assert by_org.items and all(p.organization.name == org for p in by_org.items)
    none = loaded.search("model", Filters(min_upvotes=10**6))
    assert none.items == [] and none.total == 0


def test_sorts_and_stable_pagination(loaded):
    whole = loaded.search("learning", limit=60)
    assert whole.total > 20
    pages = [loaded.search("learning", offset=o, limit=10).items for o in range(0, 60, 10)]
    ids = [p.arxiv_id for page in pages for p in page]
    assert ids == [p.arxiv_id for p in whole.items]
    assert len(ids) == len(set(ids))
    ups = [p.upvotes for p in loaded.search("learning", sort="upvotes", limit=50).items]
    assert ups == sorted(ups, reverse=True)
    days = [p.listing.day for p in loaded.search("learning", sort="date", limit=50).items]
    assert days == sorted(days, reverse=True)


def test_trending_sort_is_the_documented_formula(loaded, store):
    as_of = TrendingRepository(store.engine).trending_as_of()
    got = loaded.search("learning", sort="trending", limit=50).items

    def score(p):  # docs/ranking.md; the search index has no GitHub stars
        listed = datetime.combine(p.listing.day, time())
        return trending_score(TrendingInputs(p.upvotes, 0, listed), as_of).score

    scores = [score(p) for p in got]
    assert len(got) > 10 and scores == sorted(scores, reverse=True)


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "AND OR NOT", "+-*:()", '"', '"unbalanced quote', "x" * 5000, "-only"],
)
def test_bad_queries_never_fail(loaded, raw):
    result = loaded.search(raw)
    assert result.notes or result.items
    if parse(raw).empty:
        assert result.items == [] and result.notes


def test_query_parsing():
    q = parse('"skill discovery" agent* -robot title:soccer GPT-4o gpt-4o "skill discovery"')
    assert q.phrases == [["skill", "discovery"]]
    assert q.compounds == [["gpt", "4o"]]  # searched as a phrase, once
    assert q.tantivy() == 'soccer "skill discovery" "gpt 4o" -robot'
    assert q.prefixes == [["agent"]]
    assert q.excluded == ["robot"]
    # a sentence-long query searches its compounds as words; quoted phrases stay phrases
    long = parse('We train end-to-end policies for closed-loop driving with "world models" and RL')
    assert long.long and not q.long
    assert long.tantivy() == 'we train policies driving rl end closed loop "world models"'
    assert q.words == ["soccer"]
    assert parse("a" * 1200).notes and len(parse("a" * 1200).raw) == 1000
    assert "unmatched quote" in parse('"open').notes[0]
    assert parse('"open').words == ["open"]


def test_results_mark_the_words_that_were_searched():
    # stop words are not searched when other words remain, so they are not marked either
    q = parse('Exploration of a "theory of mind" in the wild')
    assert q.marked == ["exploration", "wild", "theory", "mind"]
    assert "of" in q.terms and "of" not in q.marked
    assert parse("to be or not").marked == ["to", "be", "or", "not"]  # stop words alone


def test_single_word_prefix_finds_words_that_start_with_it(loaded):
    def text(p):
        return " ".join([p.title, p.abstract, *p.keywords]).lower()

    hits = loaded.search("diffus*", mode="lexical", limit=50).items
    assert hits, "a one-word prefix must match (tantivy needs two terms for phrase prefixes)"
    assert all("diffus" in text(p) for p in hits)
    assert {p.arxiv_id for p in hits} >= {
        p.arxiv_id for p in loaded.search("diffusion", mode="lexical", limit=50).items
    }
    no_video = loaded.search("diffus* -video", mode="lexical", limit=50).items
    assert no_video and all("video" not in text(p) for p in no_video)
    assert len(no_video) < len(hits)


def test_a_pasted_paragraph_keeps_its_rarest_words(tmp_path):
    """A query with more plain words than MAX_TERMS searches only the rarest ones: a paper
    that matches only the query's most common word drops out, one that matches only its
    rarest word stays, and phrases are always kept."""
    from paperwire.search.lexical import MAX_TERMS, LexicalIndex, rarest
    from paperwire.store.views import SearchDoc

    n = MAX_TERMS + 8
    words = [f"zq{i}x" for i in range(n)]  # word i is in i + 1 papers
    lex = LexicalIndex(tmp_path / "lexical")
    docs, pid = [], 0
    for i, w in enumerate(words):
        for _ in range(i + 1):
            pid += 1
            docs.append(
                SearchDoc(pid, f"2601.{pid:05d}", f"paper {pid}", w, [], [], [], None, None, 0)
            )
    lex.upsert(docs)
    lex.refresh(force=True)
    searcher = lex.index.searcher()
    unknown = "zqunknownx"  # in no paper: as rare as a word can be, so kept
    pieces = [*reversed(words), unknown, '"zq0x zq1x"']
    kept = rarest(pieces, searcher, MAX_TERMS)
    assert kept == [*reversed(words[: MAX_TERMS - 1]), unknown, '"zq0x zq1x"']
    assert rarest(pieces[:MAX_TERMS], searcher, MAX_TERMS) == pieces[:MAX_TERMS]

    commonest = {d.id for d in docs if d.abstract == words[-1]}
    rarest_paper = next(d.id for d in docs if d.abstract == words[0])
    hits = {p for p, _ in lex.search(parse(" ".join(reversed(words))), Filters(), 1000)[0]}
    assert rarest_paper in hits and not hits & commonest
    alone = {p for p, _ in lex.search(parse(words[-1]), Filters(), 1000)[0]}
    assert alone == commonest


def test_later_overlaps_the_caller_and_runs_inline_when_busy():
    """``later`` runs the dense half of a search on a search thread while the caller does the
    lexical half, and at once on the caller's thread when both search threads are taken."""
    import threading

    from paperwire.search.hybrid import later

    go = threading.Event()

    def waits_for_caller() -> str:
        assert go.wait(5), "the caller never ran meanwhile"
        return threading.current_thread().name

    first = later(waits_for_caller)
    second = later(waits_for_caller)
    inline = later(lambda: threading.current_thread().name)  # both threads busy
    assert inline() == threading.current_thread().name
    go.set()  # only reachable if later() returned before the jobs finished
    assert first().startswith("search") and second().startswith("search")

    def fails() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        later(fails)()
    assert later(lambda: threading.current_thread().name)().startswith("search")  # slots back


def test_opening_an_index_leaves_its_schema_stamp_alone(tmp_path):
    """Only a new or other-version index gets its stamp (re)written, and atomically: every
    open used to rewrite it in place, and a second process opening the same index at that
    moment read it empty and dropped the whole index (seen with two benchmark processes)."""
    from paperwire.search.lexical import SCHEMA_VERSION, LexicalIndex
    from paperwire.store.views import SearchDoc

    lex = LexicalIndex(tmp_path / "lexical")
    lex.upsert([SearchDoc(1, "2601.00001", "a title", "an abstract", [], [], [], None, None, 0)])
    lex.refresh(force=True)
    stamp = tmp_path / "lexical" / "paperwire-schema"
    before = stamp.stat()
    again = LexicalIndex(tmp_path / "lexical")
    assert not again.was_reset and again.count() == 1
    after = stamp.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)

    # an index of an older layout is still dropped and restamped (its own directory: the
    # index above is still open, and tantivy may be merging in it)
    older = tmp_path / "older"
    older.mkdir()
    (older / "paperwire-schema").write_text("1\n")
    (older / "some.segment").write_text("an old layout's file")
    # what an earlier reset set aside but could not delete (another process wrote into it)
    leftover = tmp_path / "older.old-1-2"
    leftover.mkdir()
    (leftover / "late.segment").write_text("written after the rename")
    old = LexicalIndex(older)
    assert old.was_reset and old.count() == 0 and not (older / "some.segment").exists()
    assert (older / "paperwire-schema").read_text().strip() == SCHEMA_VERSION
    assert not list(older.glob("*.tmp"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lexical", "older"]  # nothing set aside


def test_a_day_range_alone_is_read_from_the_words_best_hits(tmp_path, monkeypatch):
    """A day range holding a quarter of the papers or more, as the only filter, is applied
    to the unfiltered query's best ``post_read(k)`` hits: the answer is exactly the filtered
    query's, boundaries included; the filtered query runs when too few of those hits are in
    range, and for narrower ranges and other filters."""
    from datetime import timedelta

    from paperwire.search.lexical import LexicalIndex, _pids
    from paperwire.store.views import SearchDoc

    first = date(2026, 3, 1)
    lex = LexicalIndex(tmp_path / "lexical")
    docs = [  # word count i in a fixed length: every score differs; later days score higher
        SearchDoc(
            i,
            f"2603.{i:05d}",
            f"paper {i}",
            "zqword " * i + "filler " * (400 - i),
            [],
            [],
            [],
            None,
            first + timedelta(days=(i - 1) // 30),
            i % 7,
        )  # fmt: skip
        for i in range(1, 301)
    ]
    lex.upsert(docs)
    lex.refresh(force=True)
    q = parse("zqword")
    searcher = lex.index.searcher()

    def inside(f: Filters, limit: int) -> list[int]:
        query = lex._with_filters(lex._query(q, searcher), f)
        return _pids(searcher, [a for _, a in searcher.search(query, limit).hits])

    ran_inside = []
    real = lex._with_filters
    d = [first + timedelta(days=n) for n in range(10)]
    for f, limit, post in [
        (Filters(start=d[5], end=d[9]), 10, True),  # the best papers' days, edges included
        (Filters(start=d[6]), 20, True),
        (Filters(end=d[7]), 20, True),
        (Filters(end=d[2]), 20, False),  # the weakest 90: none in the best 118
        (Filters(end=d[5]), 30, True),  # the weakest 180: 45 in the best 165 (none in 120)
        (Filters(end=d[2]), 100, True),  # 476 asked: every match was read
        (Filters(start=d[7], end=d[9]), 100, True),  # and its first day is in
        (Filters(start=d[9], end=d[9]), 20, False),  # a tenth of the papers: not tried
        (Filters(min_upvotes=3), 10, False),  # not a day range
        (Filters(start=d[1], category="cs.LG"), 20, False),  # not a day range alone
    ]:
        ran_inside.clear()
        monkeypatch.setattr(lex, "_with_filters", lambda *a: ran_inside.append(1) or real(*a))
        got = [p for p, _ in lex.search(q, f, limit)[0]]
        monkeypatch.setattr(lex, "_with_filters", real)
        assert got == inside(f, limit), (f, limit)
        assert bool(ran_inside) is not post, (f, limit)
        if f.category is None:
            assert len(got) == min(limit, sum(1 for x in docs if _allowed(x, f)))


def _allowed(doc, f: Filters) -> bool:
    return (
        (f.start is None or doc.day >= f.start)
        and (f.end is None or doc.day <= f.end)
        and doc.upvotes >= f.min_upvotes
    )
