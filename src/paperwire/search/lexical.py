"""The lexical index: BM25 over title and abstract as one field, plus title, authors and keywords.

Chosen by measurement (docs/search.md): tantivy answers OR queries over 200k documents in
about 1 ms p50, where SQLite FTS5 took 80 ms.  The filter fields (day, upvotes, categories,
organization) are indexed too, so filters run inside retrieval, not after a top-k.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import shutil
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import tantivy

from paperwire.authors.names import display as author_display
from paperwire.search.query import ParsedQuery
from paperwire.store.views import SearchDoc

# BM25 runs over "text" (title and abstract as one field, as a plain BM25 sees a paper), plus
# the title again at a small weight, authors and HF keywords.  Scoring title and abstract as
# two separate BM25 fields (title boosted 1.3) counted a title word twice and ranked below a
# plain one-field BM25 (SciFact 0.651 vs bm25s 0.686); docs/search.md has the measurements.
FIELDS = ["text", "title", "authors", "keywords"]
BOOSTS = {"text": 1.0, "title": 0.3, "authors": 1.0, "keywords": 0.3}
SCHEMA_VERSION = "2"  # 2: the "text" field; an index of another version is rebuilt
# A pasted paragraph keeps only its MAX_TERMS rarest plain words (fewest papers containing
# them), as Lucene's and Elasticsearch's more-like-this keep their 25 best terms.  The common
# words of a long query add little BM25 weight but walk the longest posting lists: at 183k
# papers a one-to-three-sentence query (about 30 words) took 25.8 ms p95 lexical, 19.0 ms
# with 32 terms, and the paper a sentence came from ranked as before (docs/search.md).
MAX_TERMS = 32
# tantivy's "en_stem" analyzer, rebuilt to look words up in the term dictionary
_EN_STEM = (
    tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
    .filter(tantivy.Filter.remove_long(40))
    .filter(tantivy.Filter.lowercase())
    .filter(tantivy.Filter.stemmer("english"))
    .build()
)
# tantivy's "default" tokenizer, which the authors field uses: words for an author phrase
_DEFAULT = (
    tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
    .filter(tantivy.Filter.remove_long(40))
    .filter(tantivy.Filter.lowercase())
    .build()
)
# A day range alone is applied to the words' own best hits (``post_read``) when at least
# 1 / POST_FILTER of the papers are in it (a range inside the query is an intersection that
# seeks through every word's postings, dearer than the words alone).  Filters score zero, so
# ``limit`` hits left in range are the filtered query's own top ``limit``; with fewer, the
# filtered query runs.  At 2.9M the 2020-2024 range: 37.6 / 58.7 ms p50 / p95 inside the
# query, 16.1 / 44.9 this way, the same answers; a one-month range falls back nearly always,
# so it is not tried there (docs/benchmarks.md).
POST_FILTER = 4
AUTHOR_LIMIT = 20_000  # papers read for one author name (the most prolific have a few thousand)


@dataclass(frozen=True)
class Filters:
    """Restrictions applied inside retrieval (both lexical and dense)."""

    start: date | None = None
    end: date | None = None
    category: str | None = None
    organization: str | None = None
    min_upvotes: int = 0

    author: str | None = None  # papers with an author of this name (HybridSearcher: ``ids``)
    ids: frozenset[int] | None = None  # only these papers (author and code filters, resolved)
    has_code: bool = False  # only papers with a code repository (HybridSearcher: ``ids``)

    @property
    def active(self) -> bool:
        return bool(
            self.start
            or self.end
            or self.category
            or self.organization
            or self.min_upvotes > 0
            or self.author
            or self.has_code
            or self.ids is not None
        )


def _schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_integer_field("pid", stored=True, indexed=True, fast=True)
    sb.add_text_field("text", tokenizer_name="en_stem")
    sb.add_text_field("title", tokenizer_name="en_stem")
    sb.add_text_field("authors", tokenizer_name="default")
    sb.add_text_field("keywords", tokenizer_name="en_stem")
    sb.add_text_field("category", tokenizer_name="raw")
    sb.add_text_field("org", tokenizer_name="raw")
    sb.add_integer_field("day", indexed=True, fast=True)
    sb.add_integer_field("upvotes", indexed=True, fast=True)
    return sb.build()


def to_document(doc: SearchDoc) -> tantivy.Document:
    d = tantivy.Document()
    d.add_integer("pid", doc.id)
    d.add_text("text", f"{doc.title}\n{doc.abstract}")
    d.add_text("title", doc.title)
    # NFKC and single spaces, as author pages compare names (authors/names.py); an index
    # written before this holds names as stored until `paperwire index --rebuild`
    d.add_text("authors", " ; ".join(author_display(a) for a in doc.authors))
    d.add_text("keywords", " ; ".join(doc.keywords))
    for c in dict.fromkeys(doc.categories):
        d.add_text("category", c)
    if doc.organization:
        d.add_text("org", doc.organization)
    d.add_integer("day", doc.day.toordinal() if doc.day else 0)
    d.add_integer("upvotes", doc.upvotes)
    return d


class LexicalIndex:
    """One tantivy index directory.  Writers are short-lived (one per batch); readers reload."""

    def __init__(self, path: Path, reload_every: float = 1.0) -> None:
        self.path = Path(path)
        stamp = self.path / "paperwire-schema"
        old = stamp.read_text().strip() if stamp.exists() else None
        # an index of another layout (or of the first, unstamped one) is dropped: derived
        # data, rebuilt by `paperwire index --rebuild` or a server's index follower
        self.was_reset = self.path.exists() and any(self.path.iterdir()) and old != SCHEMA_VERSION
        if self.was_reset:
            _set_aside(self.path)
        self.path.mkdir(parents=True, exist_ok=True)
        if old != SCHEMA_VERSION or self.was_reset:
            # written only when new, and atomically: every open used to rewrite it, and a
            # second process opening the index then could read it empty and drop the index
            tmp = stamp.with_name(f"{stamp.name}.{os.getpid()}.tmp")
            tmp.write_text(SCHEMA_VERSION + "\n")
            os.replace(tmp, stamp)
        self.schema = _schema()
        self.index = tantivy.Index(self.schema, path=str(self.path))
        self.reload_every = reload_every
        self._loaded_at = time.monotonic()
        self._lock = threading.Lock()
        self._broad: dict[tuple[int, int, int], bool] = {}  # (docs, lo, hi): range is broad

    # -- writing --------------------------------------------------------------------
    def _writer(self) -> tantivy.IndexWriter:
        deadline = time.monotonic() + 60
        while True:
            try:
                return self.index.writer(heap_size=64_000_000, num_threads=1)
            except ValueError:  # another process holds the writer lock: wait for it
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def upsert(self, docs: Iterable[SearchDoc]) -> int:
        docs = list(docs)
        if not docs:
            return 0
        writer = self._writer()
        try:
            for doc in docs:
                writer.delete_documents_by_term("pid", doc.id)
                writer.add_document(to_document(doc))
            writer.commit()
            writer.wait_merging_threads()
        except BaseException:
            writer.rollback()
            raise
        self.refresh(force=True)
        return len(docs)

    def delete(self, ids: Iterable[int]) -> None:
        writer = self._writer()
        for pid in ids:
            writer.delete_documents_by_term("pid", pid)
        writer.commit()
        writer.wait_merging_threads()
        self.refresh(force=True)

    def clear(self) -> None:
        writer = self._writer()
        writer.delete_all_documents()
        writer.commit()
        writer.wait_merging_threads()
        self.refresh(force=True)

    # -- reading --------------------------------------------------------------------
    def refresh(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._loaded_at > self.reload_every:
            with self._lock:
                self.index.reload()
                self._loaded_at = now

    def count(self) -> int:
        self.refresh()
        return self.index.searcher().num_docs

    def ids(self) -> set[int]:
        """Every indexed store id (for tests and checks; not for the query path)."""
        self.refresh(force=True)
        searcher = self.index.searcher()
        n = searcher.num_docs
        if not n:
            return set()
        hits = searcher.search(tantivy.Query.all_query(), n, count=False).hits
        return set(_pids(searcher, [a for _, a in hits]))

    def filter_query(self, f: Filters) -> list[tantivy.Query]:
        out = []
        if f.start or f.end:
            lo = f.start.toordinal() if f.start else None
            hi = f.end.toordinal() if f.end else None
            out.append(
                tantivy.Query.range_query(self.schema, "day", tantivy.FieldType.Integer, lo, hi)
            )
        if f.min_upvotes > 0:
            out.append(
                tantivy.Query.range_query(
                    self.schema, "upvotes", tantivy.FieldType.Integer, f.min_upvotes, None
                )
            )
        if f.category:
            out.append(tantivy.Query.term_query(self.schema, "category", f.category))
        if f.organization:
            out.append(tantivy.Query.term_query(self.schema, "org", f.organization))
        if f.ids is not None:
            out.append(tantivy.Query.term_set_query(self.schema, "pid", sorted(f.ids)))
        elif f.author:  # (unresolved: the phrase alone, a superset)
            out.append(self.author_query(f.author))
        return out

    def author_query(self, name: str) -> tantivy.Query:
        """The name's words, in order, inside the authors field (matches nothing for a name
        with no word)."""
        words: list[str | tuple[int, str]] = list(_DEFAULT.analyze(name))
        if len(words) == 1:
            return tantivy.Query.term_query(self.schema, "authors", words[0])
        if not words:
            return tantivy.Query.boolean_query([])
        return tantivy.Query.phrase_query(self.schema, "authors", words)

    def author_pids(self, name: str, limit: int = AUTHOR_LIMIT) -> list[int]:
        """Papers whose authors field has ``name``'s words in order: every paper by that name,
        and perhaps a few whose author list only runs the words together (callers check)."""
        if not _DEFAULT.analyze(name):
            return []
        self.refresh()
        searcher = self.index.searcher()
        hits = searcher.search(self.author_query(name), limit, count=False).hits
        return _pids(searcher, [a for _, a in hits])

    def search(
        self, q: ParsedQuery, filters: Filters = Filters(), limit: int = 100
    ) -> tuple[list[tuple[int, float]], int]:
        """``(store id, BM25 score)`` best first (ties by id), and how many were returned."""
        if q.empty:
            return [], 0
        self.refresh()
        searcher = self.index.searcher()
        text = self._query(q, searcher)
        hits = self._post_filtered(searcher, text, filters, limit)
        if hits is None:
            # count=False: no caller needs the total, and counting visits every match
            hits = searcher.search(self._with_filters(text, filters), limit, count=False).hits
        found = ranked(searcher, hits)
        return found, len(found)

    def _post_filtered(
        self, searcher: tantivy.Searcher, text: tantivy.Query, f: Filters, limit: int
    ) -> list | None:
        """The filtered query's top ``limit`` hits, read from the words' own best hits when
        the only filter is a day range holding a large share of the papers (``POST_FILTER``,
        :func:`post_read`); None otherwise, or when too few of those hits are in range."""
        others = f.min_upvotes > 0 or f.category or f.organization or f.author or f.has_code
        if not (f.start or f.end) or others or f.ids is not None or limit <= 0:
            return None
        lo = f.start.toordinal() if f.start else 0
        hi = f.end.toordinal() if f.end else date.today().toordinal() + 366
        if not self._is_broad(searcher, lo, hi):
            return None
        want = post_read(limit)
        hits = searcher.search(text, want, count=False).hits
        days = searcher.fast_field_values("day", [a for _, a in hits])
        kept = [h for h, d in zip(hits, days, strict=True) if lo <= int(d or 0) <= hi]
        if len(kept) >= limit or len(hits) < want:  # (fewer: those were every match)
            return kept[:limit]
        return None

    def _is_broad(self, searcher: tantivy.Searcher, lo: int, hi: int) -> bool:
        """Whether days ``lo`` to ``hi`` hold at least 1 / POST_FILTER of the papers: the days'
        document counts from the term dictionary, newest first, until that share is reached
        (about 2 us a day; remembered per range while the index is unchanged)."""
        docs = searcher.num_docs
        key = (docs, lo, hi)
        if key not in self._broad:
            if len(self._broad) > 256:
                self._broad.clear()
            need, seen = docs / POST_FILTER, 0
            for day in range(hi, max(lo, 1) - 1, -1):
                seen += searcher.doc_freq("day", day)
                if seen >= need:
                    break
            self._broad[key] = seen >= need and docs > 0
        return self._broad[key]

    def _query(self, q: ParsedQuery, searcher: tantivy.Searcher) -> tantivy.Query:
        """One flat OR of a clause per (piece, field): a query of words alone is one union of
        term scorers (the same scores as the query parser's nested form, about a third less
        CPU on sentence-long queries).  One-word prefixes are automata over the term
        dictionary; ``-word`` excludes.

        Every paper matching any clause is scored: tantivy prunes with block-max WAND only
        under a bare top-k collector, and tantivy-py's ``Searcher.search`` always collects
        through a ``MultiCollector`` (``count=False`` too), so top 10 costs what top 500
        does.  At 2.9M papers that is most of a search's time; a MaxScore split written as
        a query, and the index split in two searched on two threads, were measured and not
        adopted (``bench/lexical_pruning.py``, docs/search.md)."""
        should = tantivy.Occur.Should
        subs = []
        for piece in rarest(q.pieces(), searcher, MAX_TERMS):
            for f in FIELDS:
                clause, _errors = self.index.parse_query_lenient(
                    piece, [f], field_boosts={f: BOOSTS[f]}, conjunction_by_default=False
                )
                subs.append((should, clause))
        for w in q.word_prefixes:  # lowercased: the index's terms are
            for f in FIELDS:
                regex = tantivy.Query.regex_query(self.schema, f, re.escape(w) + ".*")
                subs.append((should, tantivy.Query.boost_query(regex, BOOSTS[f])))
        return self.excluding(tantivy.Query.boolean_query(subs), q.excluded)

    def excluding(self, query: tantivy.Query, words: list[str]) -> tantivy.Query:
        """``query`` without the papers holding any of ``words`` in any field (parsed, so
        the words are stemmed exactly as the index's terms are)."""
        if not words:
            return query
        must_not = tantivy.Occur.MustNot
        excl = [(must_not, self.index.parse_query_lenient(w.lower(), FIELDS)[0]) for w in words]
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, query), *excl])

    def _with_filters(self, query: tantivy.Query, filters: Filters) -> tantivy.Query:
        fq = self.filter_query(filters)
        if not fq:
            return query
        # filters match with a constant score of zero, so they restrict but never re-rank
        subs = [(tantivy.Occur.Must, query)]
        subs += [(tantivy.Occur.Must, tantivy.Query.const_score_query(f, 0.0)) for f in fq]
        return tantivy.Query.boolean_query(subs)


def _set_aside(path: Path) -> None:
    """Drop an index directory of another layout: renamed first (one atomic step), then
    deleted.  Deleting it in place failed ("directory not empty") when another process, or
    tantivy's merge thread, still wrote into it; a rename another process won is no error,
    and what cannot be deleted now is deleted by a later open."""
    with contextlib.suppress(FileNotFoundError):
        os.replace(path, path.with_name(f"{path.name}.old-{os.getpid()}-{time.monotonic_ns()}"))
    for stale in path.parent.glob(f"{path.name}.old-*"):
        shutil.rmtree(stale, ignore_errors=True)


def post_read(limit: int) -> int:
    """How many of the words' best hits to read for ``limit`` of them in a day range that
    holds a share p = 1 / POST_FILTER of the papers: enough that ``limit`` is two standard
    deviations below the count expected in range (R hits hold R p of them on average, with
    variance R p (1 - p)), so the fallback, which pays for both searches, is rare.  R = 4
    limit left too few in range about half the time for a range of exactly that share, and
    at 2.9M 12 of 300 queries in 2020-2024 (29% of the papers) for a top 100; this reads
    476 for 100 and 2,162 for 500 (docs/search.md, "Filters inside the query")."""
    p = 1 / POST_FILTER
    spread = math.sqrt(p * (1 - p))
    root = (spread + math.sqrt(p * (1 - p) + p * limit)) / p  # R p - 2 sd(R) = limit
    return math.ceil(root * root)


def ranked(searcher: tantivy.Searcher, hits: list) -> list[tuple[int, float]]:
    """``(store id, score)`` of tantivy's ``(score, address)`` hits, best first, ties by id."""
    pids = _pids(searcher, [a for _, a in hits])
    pairs = ((p, float(s)) for (s, _), p in zip(hits, pids, strict=True))
    return sorted(pairs, key=lambda t: (-t[1], t[0]))


def _pids(searcher: tantivy.Searcher, addresses: list[tantivy.DocAddress]) -> list[int]:
    """The ``pid`` fast field of each hit (every document has one, an integer)."""
    return [int(p or 0) for p in searcher.fast_field_values("pid", addresses)]


def rarest(pieces: list[str], searcher: tantivy.Searcher, keep: int) -> list[str]:
    """``pieces`` with at most ``keep`` plain words: those in the fewest papers (a word counts
    as its rarest stem; ties keep the query's order).  Phrases and prefixes always stay."""
    words = [p for p in pieces if not p.startswith('"')]
    if len(words) <= keep:
        return pieces

    def freq(word: str) -> int:
        stems = _EN_STEM.analyze(word)
        return min((searcher.doc_freq("text", s) for s in stems), default=0)

    order = sorted(range(len(words)), key=lambda i: (freq(words[i]), i))
    kept = {words[i] for i in order[:keep]}
    return [p for p in pieces if p.startswith('"') or p in kept]
