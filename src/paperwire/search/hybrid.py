"""Hybrid search: BM25 and dense retrieval, each filtered inside retrieval, fused by a convex
combination of normalized scores (measured on SciFact, docs/search.md); then sorted and paged
over a fixed candidate pool, so pages are stable.

Dense retrieval has two tiers: the contextual vector (MiniLM) where a paper has one, else its
static vector (WordLlama).  Each tier's cosine is min-max normalized over the candidate pool,
and a paper's meaning score is its contextual one when it has it, else its static one."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import TypeVar

import numpy as np

from paperwire.authors.lookup import AuthorLookup
from paperwire.authors.repository import AuthorRepository
from paperwire.core.trend import MONTHS, MonthCount, months_until
from paperwire.ranking import TrendingInputs
from paperwire.ranking import trending_score as ranking_trending_score
from paperwire.search.lexical import Filters
from paperwire.search.query import ParsedQuery, parse
from paperwire.search.related import KEEP, vectors_key
from paperwire.search.trend import month_counts
from paperwire.store.facts import PaperFacts
from paperwire.store.trending import TrendingRepository
from paperwire.store.views import PaperView

MODES = ("hybrid", "lexical", "dense")
SORTS = ("relevance", "trending", "date", "upvotes", "stars")
LEXICAL_POOL = 500  # BM25 candidates per query
DENSE_POOL = 100  # nearest-neighbour candidates per query
# Related papers read a quarter of the lists a search reads: at 2.9M papers 12 instead of 38
# ms, and 97% of the exact five nearest (99.8% with all of them; docs/search.md).
RELATED_EFFORT = 0.25
RRF_K = 60
LEXICAL_WEIGHT = 1.0
DENSE_WEIGHT = 1.0
# Weights of the meaning score in the convex combination, each the best of a sweep
# (0.2 to 0.6) on the tune half of SciFact's queries (bench/search_quality.py, docs/search.md):
DENSE_ALPHA = 0.2  # static vectors only (static dense alone is much weaker than BM25)
CONTEXTUAL_ALPHA = 0.6  # once contextual vectors take part (about as strong as BM25 alone)
MAX_LIMIT = 120  # results per page, as the Hub caps its search


@dataclass
class SearchResults:
    query: ParsedQuery
    items: list[PaperView]
    scores: list[float]
    total: int
    offset: int
    limit: int
    sort: str = "relevance"
    mode: str = "hybrid"
    notes: list[str] = field(default_factory=list)

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.items) < self.total


def fuse(
    lexical: list[tuple[int, float]],
    dense: list[tuple[int, float]],
    k: int = RRF_K,
    weights: tuple[float, float] = (LEXICAL_WEIGHT, DENSE_WEIGHT),
) -> list[tuple[int, float]]:
    """Weighted reciprocal rank fusion; ties broken by store id so the order is total."""
    score: dict[int, float] = {}
    for w, ranked in zip(weights, (lexical, dense), strict=True):
        for rank, (pid, _s) in enumerate(ranked):
            score[pid] = score.get(pid, 0.0) + w / (k + rank + 1)
    return sorted(score.items(), key=lambda t: (-t[1], t[0]))


def combine(
    lexical: list[tuple[int, float]],
    dense: list[tuple[int, float]],
    cosine: dict[int, float],
    alpha: float = DENSE_ALPHA,
) -> list[tuple[int, float]]:
    """``(1 - alpha) * BM25 / max BM25 + alpha * min-max(cosine)`` over the union of both pools.

    ``cosine`` holds the exact similarity of every candidate that has a vector, so a paper
    found only by words still gets its meaning score.
    """
    bm25 = dict(lexical)
    top = max(bm25.values(), default=0.0) or 1.0
    cands = list(dict.fromkeys([p for p, _ in lexical] + [p for p, _ in dense]))
    sims = [cosine[p] for p in cands if p in cosine]
    lo, hi = (min(sims), max(sims)) if sims else (0.0, 1.0)
    span = (hi - lo) or 1.0
    out = []
    for p in cands:
        d = (cosine[p] - lo) / span if p in cosine else 0.0
        out.append((p, (1 - alpha) * bm25.get(p, 0.0) / top + alpha * d))
    return sorted(out, key=lambda t: (-t[1], t[0]))


def minmax(scores: dict[int, float]) -> dict[int, float]:
    if not scores:
        return {}
    lo, hi = min(scores.values()), max(scores.values())
    span = (hi - lo) or 1.0
    return {p: (v - lo) / span for p, v in scores.items()}


def meaning(
    cands: list[int], contextual: dict[int, float], static: dict[int, float]
) -> dict[int, float]:
    """One meaning score in [0, 1] per candidate that has any vector: the min-max normalized
    contextual cosine where the paper has a contextual vector, else its min-max normalized
    static cosine (the fallback measured best on SciFact with part of the corpus contextual,
    docs/search.md)."""
    ctx = minmax({p: contextual[p] for p in cands if p in contextual})
    st = minmax({p: static[p] for p in cands if p in static})  # scaled over all candidates
    return {**st, **ctx}


def combine_tiers(
    lexical: list[tuple[int, float]],
    dense: list[tuple[int, float]],
    contextual: dict[int, float],
    static: dict[int, float],
    alpha: float | None = None,
) -> list[tuple[int, float]]:
    """``(1 - alpha) * BM25 / max BM25 + alpha * meaning`` over the union of both pools.

    ``alpha`` defaults to :data:`CONTEXTUAL_ALPHA` when any candidate has a contextual vector,
    else :data:`DENSE_ALPHA` (the static-only weight, unchanged)."""
    cands = list(dict.fromkeys([p for p, _ in lexical] + [p for p, _ in dense]))
    if alpha is None:
        alpha = CONTEXTUAL_ALPHA if any(p in contextual for p in cands) else DENSE_ALPHA
    bm25 = dict(lexical)
    top = max(bm25.values(), default=0.0) or 1.0
    m = meaning(cands, contextual, static)
    out = [(p, (1 - alpha) * bm25.get(p, 0.0) / top + alpha * m.get(p, 0.0)) for p in cands]
    return sorted(out, key=lambda t: (-t[1], t[0]))


def trending_score(upvotes: int, day_ordinal: int, as_of: datetime) -> float:
    """The documented trending score (docs/ranking.md) of a search hit, listed on its day.

    The search index holds no GitHub stars, so they count as zero here; undated papers are
    treated as ten years old."""
    listed = (
        datetime.combine(date.fromordinal(day_ordinal), time())
        if day_ordinal
        else (as_of - timedelta(days=3650))
    )
    inputs = TrendingInputs(votes=upvotes, stars=0, listed_at=listed)
    return ranking_trending_score(inputs, as_of).score


T = TypeVar("T")
_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()
_SLOTS = threading.BoundedSemaphore(2)  # searches that may use the pool at the same time


def later(fn: Callable[..., T], *args) -> Callable[[], T]:
    """Start ``fn(*args)`` on a search thread and return a callable that waits for its
    result; the caller does other work meanwhile (the lexical search).  When both threads are
    taken (a busy server, where overlapping gains nothing), ``fn`` runs at once instead."""
    global _POOL
    if not _SLOTS.acquire(blocking=False):
        done = fn(*args)
        return lambda: done

    def run() -> T:
        try:
            return fn(*args)
        finally:  # before the result is set, so a caller that has it can take the slot again
            _SLOTS.release()

    try:
        with _POOL_LOCK:
            if _POOL is None:
                _POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="search")
        return _POOL.submit(run).result
    except BaseException:  # not started: the slot is still ours
        _SLOTS.release()
        raise


class HybridSearcher:
    """Answers queries over one :class:`~paperwire.search.indexer.SearchIndex` and a Store."""

    def __init__(self, index, store) -> None:
        self.index = index
        self.store = store

    def ranked(
        self, q: ParsedQuery, filters: Filters = Filters(), mode: str = "hybrid"
    ) -> tuple[list[tuple[int, float]], list[str]]:
        """The whole candidate pool, best first: ``(store id, score)``."""
        notes: list[str] = []
        if q.empty:
            return [], notes
        lexical: list[tuple[int, float]] = []
        dense: list[tuple[int, float]] = []
        neighbours = None
        if (filters.author or filters.has_code) and filters.ids is None:
            filters = self._resolved(filters)
        if mode in ("hybrid", "dense"):  # on another thread while the lexical search runs
            neighbours = later(self.neighbours, q.dense_text, filters, DENSE_POOL)
        if mode in ("hybrid", "lexical"):
            lexical, _n = self.index.lexical.search(q, filters, LEXICAL_POOL)
        if neighbours is not None:
            qvec, cvec, hits = neighbours()
            if qvec is None and cvec is None and self.index.embedder is None:
                notes.append("Searched by words only: the embedding model is not available.")
            else:
                dense, cosines = self._scored(qvec, cvec, hits, DENSE_POOL, extra=lexical)
                if q.excluded and dense:
                    dense = self._drop_excluded(q, dense, filters)
        if mode == "lexical":
            return lexical, notes
        if mode == "dense" or not lexical:
            return dense, notes
        if not dense:
            return lexical, notes
        return combine_tiers(lexical, dense, *cosines), notes

    def trend(
        self, text: str | None, filters: Filters = Filters(), months: int = MONTHS
    ) -> list[MonthCount]:
        """Papers with every word of the query, and their upvotes, per month over the
        ``months`` months up to the newest paper's month (the charts of docs/trends.md)."""
        q = parse(text)
        if (filters.author or filters.has_code) and filters.ids is None:
            filters = self._resolved(filters)
        last = PaperFacts(self.store.engine).latest_day() or date.today()
        return month_counts(self.index.lexical, q, filters, months_until(last, months))

    def authored(self, name: str) -> frozenset[int]:
        """Store ids of the papers with an author of this name (``authors/lookup.py``)."""
        lookup = AuthorLookup(self.index.lexical, AuthorRepository(self.store.engine))
        return frozenset(p.id for p in lookup.papers_of(name, votes=False))

    def _resolved(self, filters: Filters) -> Filters:
        """The author and code filters as the store ids they allow (both sides filter by id)."""
        ids = self.authored(filters.author) if filters.author else None
        if filters.has_code:
            code = PaperFacts(self.store.engine).code_paper_ids()
            ids = code if ids is None else ids & code
        return replace(filters, ids=ids)

    def query_vectors(self, text: str) -> tuple[np.ndarray | None, np.ndarray | None]:
        """The query's static vector and its contextual one (None while no paper has one)."""
        qvec = self.index.query_vector(text)
        if qvec is not None and not float(np.abs(qvec).sum()) > 0:
            qvec = None  # no known word: a zero vector means nothing
        return qvec, self.index.contextual_query_vector(text)

    def neighbours(self, text: str, filters: Filters, k: int):
        """The query's two vectors and the ``k`` nearest papers of each tier: the part of a
        search that :meth:`ranked` runs beside the lexical one (both release the GIL)."""
        qvec, cvec = self.query_vectors(text)
        return qvec, cvec, self._hits(qvec, cvec, filters, k)

    def _hits(self, qvec, cvec, filters: Filters, k: int, exclude=(), effort: float = 1.0):
        """Nearest neighbours in the contextual tier, then in the static one."""
        dense, contextual = self.index.dense, self.index.contextual
        static = dense.search(qvec, filters, k, exclude, effort) if qvec is not None else []
        if cvec is None:
            return static
        return contextual.search(cvec, filters, k, exclude, effort) + static

    def _cosines(self, hits, qvec, cvec) -> tuple[dict[int, float], dict[int, float]]:
        """Exact contextual and static cosines of every candidate that has such a vector.
        The static ones only when a candidate lacks a contextual vector: a paper's meaning
        is its contextual cosine wherever it has one (:func:`meaning`), so once every
        candidate has one the static cosines change nothing (at 2.9M, about 1.7 ms of
        vector reads a search)."""
        cands = list(dict.fromkeys(p for p, _ in hits))
        ctx = self.index.contextual.similarities(cands, cvec) if cvec is not None else {}
        need = qvec is not None and len(ctx) < len(cands)
        st = self.index.dense.similarities(cands, qvec) if need else {}
        return ctx, st

    def dense_ranked(self, qvec, cvec, filters: Filters, k: int, exclude=(), effort=1.0):
        """The ``k`` best papers by meaning: nearest neighbours in both tiers, scored by
        :func:`meaning` (contextual where a paper has it, else static)."""
        hits = self._hits(qvec, cvec, filters, k, exclude, effort)
        return self._scored(qvec, cvec, hits, k)[0]

    def _scored(self, qvec, cvec, hits, k: int, extra=()):
        """The ``k`` best of ``hits`` by meaning, and the exact cosines of ``hits`` and of
        ``extra`` (the lexical candidates), computed once for the ranking and the fusion."""
        if cvec is None:  # no contextual vectors yet: the static cosines, as they are
            return hits, self._cosines(list(extra) + hits, qvec, None)
        cosines = self._cosines(list(extra) + hits, qvec, cvec)
        m = meaning(list(dict.fromkeys(p for p, _ in hits)), *cosines)
        return sorted(m.items(), key=lambda t: (-t[1], t[0]))[:k], cosines

    def _drop_excluded(self, q, dense, filters):
        """Dense hits must respect ``-word`` too: keep only those the lexical side allows."""
        neg = ParsedQuery(raw="", words=q.excluded)
        hit, _ = self.index.lexical.search(neg, filters, 10_000)
        banned = {pid for pid, _ in hit}
        return [(p, s) for p, s in dense if p not in banned]

    def search(
        self,
        text: str | None,
        filters: Filters = Filters(),
        *,
        sort: str = "relevance",
        offset: int = 0,
        limit: int = 20,
        mode: str = "hybrid",
        today: date | None = None,
    ) -> SearchResults:
        q = parse(text)
        sort = sort if sort in SORTS else "relevance"
        mode = mode if mode in MODES else "hybrid"
        offset = max(int(offset), 0)
        limit = min(max(int(limit), 1), MAX_LIMIT)
        pool, notes = self.ranked(q, filters, mode)
        if sort != "relevance" and pool:
            as_of = (
                datetime.combine(today, time())
                if today
                else TrendingRepository(self.store.engine).trending_as_of()
            )
            pool = self._sorted(pool, sort, as_of)
        page = pool[offset : offset + limit]
        items = self.store.cards([pid for pid, _ in page])
        return SearchResults(
            query=q,
            items=items,
            scores=[s for _, s in page][: len(items)],
            total=len(pool),
            offset=offset,
            limit=limit,
            sort=sort,
            mode=mode,
            notes=q.notes + notes,
        )

    def _sorted(self, pool, sort, as_of: datetime):
        meta = self.index.dense.meta([pid for pid, _ in pool])
        stars = (
            PaperFacts(self.store.engine).github_stars([pid for pid, _ in pool])
            if sort == "stars"
            else {}
        )

        def key(item):
            pid, score = item
            day, up = meta.get(pid, (0, 0))
            if sort == "stars":  # papers without a repository last
                return (-stars.get(pid, -1), -up, pid)
            if sort == "date":
                return (-day, -up, pid)
            if sort == "upvotes":
                return (-up, -day, pid)
            return (-trending_score(up, day, as_of), -up, pid)

        return sorted(pool, key=key)

    def related(
        self, arxiv_id: str, k: int = 5, *, pid: int | None = None, titles: bool = False
    ) -> list[PaperView]:
        """The ``k`` nearest papers by meaning (by words when the paper has no vector yet).

        Answers for papers with vectors are kept (``search/related.py``), keyed by the
        paper's vectors, and the index writer's job computes them before any view
        (``search/related_fill.py``): a view costs two vector reads instead of a search.
        ``pid``: the paper's store id when the caller has it; ``titles``: only the arXiv
        ids, titles, dates and upvotes (:meth:`Store.titles`, one query instead of three)."""
        pid = self.store.paper_id(arxiv_id) if pid is None else pid
        cards = self.store.titles if titles else self.store.cards
        if pid is None:
            return []
        vec, cvec = self.index.dense.vector(pid), self.index.contextual.vector(pid)
        key = vectors_key(vec, cvec) if vec is not None or cvec is not None else None
        kept = self.index.related.get(pid, key) if key and k <= KEEP else None
        if kept is not None:
            return cards(kept[:k])
        docs = self.store.search_docs([pid])
        if not docs:
            return []
        if vec is None:  # not embedded yet: its text's static vector, computed now
            vec = self.index.query_vector(docs[0].embed_text)
        if vec is None and cvec is None:  # no model either: by words
            q = parse(docs[0].title)
            near = [h for h in self.index.lexical.search(q, Filters(), k + 1)[0] if h[0] != pid]
            return cards([p for p, _ in near[:k]])
        vecs, cvecs = {pid: vec} if vec is not None else {}, {pid: cvec} if cvec is not None else {}
        ids = self.related_lists(vecs, cvecs, max(k, KEEP))[pid]
        if key:
            self.index.related.put(pid, key, ids)
        return cards(ids[:k])

    def related_lists(
        self, vecs: dict[int, np.ndarray], cvecs: dict[int, np.ndarray], k: int = KEEP
    ) -> dict[int, list[int]]:
        """Each paper's ``k`` nearest papers by meaning, from its own static (``vecs``) and
        contextual (``cvecs``) vectors, itself left out: the papers with a static vector only
        in one batch to the vector index (``DenseIndex.search_many``), the others ranked by
        both tiers one at a time (:meth:`dense_ranked`).  A page's first view asks for one
        paper, the related-papers job (``related_fill.py``) for a thousand.

        The static tier's vector index holds only the papers without a contextual vector
        (``DenseIndex.covered``), so a paper with a static vector only finds its neighbours
        among those; the papers of its previous list (``RelatedCache.lists``, when one was
        kept) that the index no longer holds stay in the running, ranked by the exact static
        cosines of the stored vectors: a neighbour that has moved to the contextual tier
        since is not lost when the list is computed again."""
        plain = [p for p in vecs if p not in cvecs]
        out: dict[int, list[int]] = {}
        if plain:
            found = self.index.dense.search_many(
                np.stack([vecs[p] for p in plain]), Filters(), k, [(p,) for p in plain],
                RELATED_EFFORT,
            )  # fmt: skip
            before = self.index.related.lists(plain)
            earlier = {p: [q for q in before.get(p, ()) if q != p] for p in plain}
            wanted = np.fromiter({q for qs in earlier.values() for q in qs}, np.int64)
            wanted = wanted[~self.index.dense.holds(wanted)]  # (the others were searched)
            stored = self.index.dense.vectors(wanted.tolist()) if len(wanted) else {}
            for p, hits in zip(plain, found, strict=True):
                near = dict(hits)
                for q in earlier[p]:
                    if q not in near and q in stored:
                        near[q] = float(stored[q] @ vecs[p])
                out[p] = [q for q, _ in sorted(near.items(), key=lambda t: (-t[1], t[0]))[:k]]
        for p, cvec in cvecs.items():
            near = self.dense_ranked(vecs.get(p), cvec, Filters(), k, (p,), RELATED_EFFORT)
            out[p] = [q for q, _ in near]
        return out
