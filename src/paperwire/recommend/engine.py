"""Recommendations for one reader from the store and the search index's vectors.

Candidates are the papers first listed in the last ``WINDOW_DAYS`` days, as of the newest
listing day (like trending's "as of" for an archive), that the reader has not upvoted, kept
or dismissed.  Scoring is :func:`paperwire.recommend.model.rank`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

import numpy as np

from paperwire.recommend import model
from paperwire.recommend.repository import RecommendRepository
from paperwire.store.views import PaperView

WINDOW_DAYS = 7
BACKGROUND = 500  # papers sampled as the logistic regression's negatives (docs/ranking.md)
WHY = {"upvoted": "you upvoted", "library": "in your library", "saved": "you saved"}


@dataclass(frozen=True)
class Recommendation:
    paper: PaperView
    score: float
    nearest: list[PaperView]  # the reader's closest papers, best first
    terms: list[str]
    reason: str


@dataclass(frozen=True)
class ForYou:
    items: list[Recommendation]
    positives: int
    negatives: int
    as_of: date | None


def _vectors(dense, ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The papers' vectors in one space (a :class:`DenseIndex`), and which have one."""
    dim = dense.dim if dense is not None else 256
    vecs = np.zeros((len(ids), dim), dtype=np.float32)
    has = np.zeros(len(ids), dtype=bool)
    if dense is not None:
        got = dense.vectors(ids)
        for i, pid in enumerate(ids):
            if pid in got:
                vecs[i], has[i] = got[pid], True
    return vecs, has


def _background(dense, exclude: set[int], seed: int) -> np.ndarray | None:
    """Up to BACKGROUND embedded papers (the reader's own excluded), the same for the same
    reader while the index does not change."""
    if dense is None:
        return None
    return dense.sample(BACKGROUND, exclude, seed)


def _contextual_space(index, pos_ids, neg, cand_ids, exclude: set[int], seed: int):
    """The reader and the candidates in the contextual space, or None while the reader has
    no positive with a contextual vector (then the static vectors score everything)."""
    ctx = getattr(index, "contextual", None) if index is not None else None
    if ctx is None or not ctx.embedded():
        return None
    pvecs, phas = _vectors(ctx, pos_ids)
    if not phas.any():
        return None
    nvecs, nhas = _vectors(ctx, neg)
    cvecs, chas = _vectors(ctx, cand_ids)
    return model.Space(
        pos_vecs=pvecs[phas],
        pos_vec_ids=[p for p, h in zip(pos_ids, phas, strict=True) if h],
        neg_vecs=nvecs[nhas],
        cand_vecs=cvecs,
        cand_has=chas,
        background=_background(ctx, exclude, seed),
    )


def _reason(nearest: list[PaperView], whys: list[str], terms: list[str]) -> str:
    parts = []
    if nearest:
        kinds = sorted(set(whys), key=list(WHY).index)
        what = " or ".join(WHY[k] for k in kinds)
        n = len(nearest)
        parts.append(f"close to {n} paper{'s' if n > 1 else ''} {what}")
    if terms:
        parts.append("shares the words " + ", ".join(terms))
    return "; ".join(parts) or "new this week"


def vectors_available(index) -> bool:
    """Whether the search index holds any static paper vectors (the digest skips "For you"
    if not; contextual vectors come later than the static ones, never alone)."""
    if index is None:
        return False
    return index.dense.embedded() > 0


def recommend(
    store,
    index,
    user_id: int,
    *,
    limit: int = 20,
    end: date | None = None,
    exclude: Collection[str] = (),
) -> ForYou:
    """The reader's top ``limit`` new papers; ``exclude``: arXiv ids never to recommend
    (the digest's papers already sent to this reader or already in this digest)."""
    readers = RecommendRepository(store.engine)
    pos, neg = readers.reader_papers(user_id)
    end = end or store.latest_day()
    if end is None:
        return ForYou([], len(pos), len(neg), None)
    seen = set(pos) | set(neg)
    cand_ids = [p for p in readers.recent_paper_ids(end, WINDOW_DAYS) if p not in seen]
    if not pos or not cand_ids:
        return ForYou([], len(pos), len(neg), end)
    pos_ids = sorted(pos)
    docs = {d.id: d for d in store.search_docs(pos_ids + cand_ids + neg)}
    cand_ids = [p for p in cand_ids if p in docs and docs[p].arxiv_id not in exclude]
    if not cand_ids:
        return ForYou([], len(pos), len(neg), end)

    def words(pid: int) -> list[str]:
        d = docs.get(pid)
        return model.terms(d.embed_text + " " + " ".join(d.keywords)) if d else []

    dense = index.dense if index is not None else None
    pvecs, phas = _vectors(dense, pos_ids)
    nvecs, nhas = _vectors(dense, neg)
    cvecs, chas = _vectors(dense, cand_ids)
    reader = model.Reader(
        pos_ids=pos_ids,
        pos_vecs=pvecs[phas],
        pos_vec_ids=[p for p, h in zip(pos_ids, phas, strict=True) if h],
        pos_words=[words(p) for p in pos_ids],
        neg_vecs=nvecs[nhas],
        neg_words=[words(p) for p in neg],
    )
    background = _background(dense, set(pos), seed=user_id)
    scored = model.rank(
        reader,
        cand_ids,
        cvecs,
        chas,
        [words(p) for p in cand_ids],
        background=background,
        limit=limit,
        contextual=_contextual_space(index, pos_ids, neg, cand_ids, set(pos), user_id),
    )
    near_ids = {pid for s in scored for pid, _ in s.nearest}
    by_id = dict(zip([s.pid for s in scored], store.cards([s.pid for s in scored]), strict=True))
    near_cards = dict(zip(sorted(near_ids), store.cards(sorted(near_ids)), strict=True))
    items = []
    for s in scored:
        nearest = [near_cards[p] for p, _ in s.nearest if p in near_cards]
        whys = [pos[p] for p, _ in s.nearest if p in near_cards]
        items.append(
            Recommendation(by_id[s.pid], s.score, nearest, s.terms, _reason(nearest, whys, s.terms))
        )
    return ForYou(items, len(pos), len(neg), end)
