"""The personal ranking: pure functions over paper vectors and words (no database, no I/O).

A reader is a set of positive papers (upvotes, saved and imported papers) and a set of
negative ones ("not interested").  A candidate scores, both parts standardized over the
candidates:

    DENSE_WEIGHT · (logistic regression on the embeddings: positives against background
                    papers and the reader's negatives; minus NEG_WEIGHT · best cosine to a
                    negative)
  + (1 - DENSE_WEIGHT) · (cosine of the candidate's words with the reader's TF-IDF profile
                    minus NEG_WEIGHT · the same with the negatives' profile)

Without background papers the dense part is the mean of the K_NEAREST best cosines to the
positives.  The choice (logistic regression over nearest-positives, a centroid, or words
alone) was measured with ``bench/recommend_eval.py``; docs/ranking.md has the numbers.
Every score comes with its explanation: the nearest positives and the words that weighed most.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

K_NEAREST = 3  # positives averaged per candidate (1 = max-sim; a large K = centroid)
NEG_WEIGHT = 0.5  # how much a close "not interested" paper pulls a candidate down
DENSE_WEIGHT = 0.6  # dense vs lexical share of the score (bench: 0.5 and 0.7 tie)
NEG_REPEAT = 5  # a "not interested" paper counts as this many background papers
MAX_TERMS = 5

_WORD = re.compile(r"[a-z][a-z0-9]+(?:-[a-z0-9]+)*")
_STOP_WORDS = """
    a about above across after again against all almost also although always among an and
    another any are around as at based be been before being below between both but by can
    could did do does doing done during each either enough et even ever every few for from
    further given had has have having here how however i if in into is it its itself just
    large less like made make many may more most much must new no nor not novel now of off
    often on once one only onto or other our out over own paper per present propose proposed
    proposes rather same several should show shows significantly since so some such than that
    the their them then there these they this those though three through thus to too two
    under until up upon use used uses using various very via was we well were what when where
    whether which while who whose why will with within without work would yet approach
    approaches method methods model models results task tasks data existing study"""
STOP = frozenset(_STOP_WORDS.split())


def terms(text: str) -> list[str]:
    """Lower-cased words of a title and abstract, stop words removed, crude plural folding."""
    out = []
    for w in _WORD.findall(text.lower()):
        if w in STOP or len(w) < 3:
            continue
        if len(w) > 4 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
            w = w[:-1]
        out.append(w)
    return out


@dataclass
class Lexicon:
    """Inverse document frequencies over a set of documents (the candidates plus the reader's)."""

    idf: dict[str, float]

    @classmethod
    def fit(cls, docs: Sequence[list[str]]) -> Lexicon:
        df: Counter[str] = Counter()
        for d in docs:
            df.update(set(d))
        n = max(len(docs), 1)
        return cls({t: math.log((1 + n) / (1 + c)) + 1.0 for t, c in df.items()})

    def vector(self, words: list[str]) -> dict[str, float]:
        tf = Counter(words)
        v = {t: (1 + math.log(c)) * self.idf.get(t, 1.0) for t, c in tf.items()}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        return {t: x / norm for t, x in v.items()}

    def profile(self, docs: Sequence[list[str]]) -> dict[str, float]:
        """The normalized sum of the documents' TF-IDF vectors."""
        acc: dict[str, float] = {}
        for d in docs:
            for t, x in self.vector(d).items():
                acc[t] = acc.get(t, 0.0) + x
        norm = math.sqrt(sum(x * x for x in acc.values())) or 1.0
        return {t: x / norm for t, x in acc.items()}


def sparse_dot(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(x * b.get(t, 0.0) for t, x in a.items())


def top_terms(cand: dict[str, float], profile: dict[str, float], n: int = MAX_TERMS) -> list[str]:
    parts = [(x * profile[t], t) for t, x in cand.items() if t in profile]
    parts.sort(key=lambda p: (-p[0], p[1]))
    return [t for _, t in parts[:n]]


@dataclass
class Reader:
    """What the model knows about one reader."""

    pos_ids: list[int]
    pos_vecs: np.ndarray  # (P, d) unit vectors of the positives that have one
    pos_vec_ids: list[int]  # store ids of the rows of pos_vecs
    pos_words: list[list[str]]
    neg_vecs: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    neg_words: list[list[str]] = field(default_factory=list)


@dataclass
class Scored:
    pid: int
    score: float
    nearest: list[tuple[int, float]]  # (positive store id, cosine), best first
    terms: list[str]


def dense_scores(
    cand: np.ndarray,
    pos: np.ndarray,
    neg: np.ndarray | None = None,
    k: int = K_NEAREST,
    neg_weight: float = NEG_WEIGHT,
) -> tuple[np.ndarray, np.ndarray]:
    """(scores, sims): mean of the ``k`` best cosines to the positives minus ``neg_weight``
    times the best cosine to a negative; ``sims`` is the candidates x positives matrix."""
    sims = cand @ pos.T if len(pos) else np.zeros((len(cand), 0), dtype=np.float32)
    if sims.shape[1] == 0:
        score = np.zeros(len(cand), dtype=np.float32)
    else:
        kk = min(k, sims.shape[1])
        best = np.partition(sims, sims.shape[1] - kk, axis=1)[:, -kk:]
        score = best.mean(axis=1)
    if neg is not None and len(neg) and neg.shape[1] == cand.shape[1]:
        score = score - neg_weight * (cand @ neg.T).max(axis=1)
    return score, sims


def centroid_scores(cand: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """The plain centroid (measured against the nearest-positives score in the bench)."""
    c = pos.mean(axis=0)
    c /= np.linalg.norm(c) or 1.0
    return cand @ c


def logistic_scores(
    cand: np.ndarray, pos: np.ndarray, background: np.ndarray, steps: int = 200, c: float = 0.1
) -> np.ndarray:
    """A small L2 logistic regression, positives against background papers (as arxiv-sanity's
    SVM uses every other paper as a negative); full-batch gradient descent in numpy."""
    x = np.vstack([pos, background]).astype(np.float64)
    y = np.concatenate([np.ones(len(pos)), np.zeros(len(background))])
    w = np.zeros(x.shape[1])
    b = 0.0
    cw = np.where(y == 1, len(background) / max(len(pos), 1), 1.0)  # balance the classes
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(x @ w + b)))
        g = (p - y) * cw
        w -= 0.5 * (x.T @ g / len(y) + c * w)
        b -= 0.5 * g.mean()
    return cand.astype(np.float64) @ w + b


def zscore(x: np.ndarray) -> np.ndarray:
    sd = float(x.std()) if len(x) else 0.0
    return (x - x.mean()) / sd if sd > 1e-12 else np.zeros_like(x)


def lexical_scores(
    reader: Reader, cand_words: list[list[str]]
) -> tuple[np.ndarray, list[dict[str, float]], dict[str, float]]:
    """(scores, candidate TF-IDF vectors, the reader's profile); IDF over candidates + reader."""
    lex = Lexicon.fit(list(cand_words) + list(reader.pos_words))
    prof = lex.profile(reader.pos_words)
    neg_prof = lex.profile(reader.neg_words) if reader.neg_words else {}
    cvecs = [lex.vector(w) for w in cand_words]
    scores = np.array([sparse_dot(v, prof) - NEG_WEIGHT * sparse_dot(v, neg_prof) for v in cvecs])
    return scores, cvecs, prof


@dataclass
class Space:
    """One embedding space (the static or the contextual vectors): the reader's vectors and
    the candidates' in it.  ``background`` turns the dense part into the logistic regression."""

    pos_vecs: np.ndarray
    pos_vec_ids: list[int]
    neg_vecs: np.ndarray
    cand_vecs: np.ndarray
    cand_has: np.ndarray
    background: np.ndarray | None = None


def space_scores(sp: Space) -> tuple[np.ndarray, np.ndarray]:
    """(dense scores, candidates x positives cosines) of every candidate in one space."""
    dense, sims = dense_scores(sp.cand_vecs, sp.pos_vecs, sp.neg_vecs)
    if sp.background is not None and len(sp.background):
        negs = [sp.background]
        if len(sp.neg_vecs):
            negs += [sp.neg_vecs] * NEG_REPEAT
        dense = logistic_scores(sp.cand_vecs, sp.pos_vecs, np.vstack(negs))
        if len(sp.neg_vecs):
            dense = dense - NEG_WEIGHT * (sp.cand_vecs @ sp.neg_vecs.T).max(axis=1)
    return dense, sims


def rank(
    reader: Reader,
    cand_ids: list[int],
    cand_vecs: np.ndarray,
    cand_has_vec: np.ndarray,
    cand_words: list[list[str]],
    *,
    background: np.ndarray | None = None,
    dense_weight: float = DENSE_WEIGHT,
    limit: int = 20,
    contextual: Space | None = None,
) -> list[Scored]:
    """Candidates best first (ties by id), each with its explanation.  Dense and lexical
    scores are standardized over the candidates, then mixed; a candidate without a vector (or
    a reader without vectors) is scored by words alone.

    ``contextual``: a second, better space, used (as search does) for every candidate that
    has a vector in it while the reader has positives in it; the static vectors (``reader``,
    ``cand_vecs``) score the rest.  Each space's dense part is standardized over its own
    candidates, so the two mix on one scale."""
    if not cand_ids:
        return []
    lexical, cvecs, prof = lexical_scores(reader, cand_words)
    lexical = zscore(lexical)
    static = Space(
        reader.pos_vecs, reader.pos_vec_ids, reader.neg_vecs, cand_vecs, cand_has_vec, background
    )
    spaces = [sp for sp in (contextual, static) if sp is not None and len(sp.pos_vecs)]
    dz = np.zeros_like(lexical)
    used = np.full(len(cand_ids), -1)  # which space scored each candidate (-1: words alone)
    sims_of: list[np.ndarray] = []
    for n, sp in enumerate(spaces):
        dense, sims = space_scores(sp)
        sims_of.append(sims)
        has = np.asarray(sp.cand_has, dtype=bool)
        take = has & (used < 0)
        if take.any():
            z = np.zeros_like(lexical)
            z[has] = zscore(dense[has])
            dz[take] = z[take]
            used[take] = n
    score = np.where(used >= 0, dense_weight * dz + (1 - dense_weight) * lexical, lexical)
    order = sorted(range(len(cand_ids)), key=lambda i: (-score[i], cand_ids[i]))[:limit]
    out = []
    for i in order:
        nearest: list[tuple[int, float]] = []
        if used[i] >= 0:
            row = sims_of[used[i]][i]
            ids = spaces[used[i]].pos_vec_ids
            for j in np.argsort(-row)[:3]:
                if row[j] > 0:
                    nearest.append((ids[j], float(row[j])))
        out.append(Scored(cand_ids[i], float(score[i]), nearest, top_terms(cvecs[i], prof)))
    return out
