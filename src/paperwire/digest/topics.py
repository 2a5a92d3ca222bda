"""Which new papers match a reader's topic: one function, :meth:`TopicMatcher.match`.

By words always: every word of the topic (minus a few stopwords, with plurals folded) must
occur in the paper's title, abstract or keywords.  By meaning too, when the search index has
vectors and ``PAPERWIRE_DIGEST_TOPIC_SEARCH=auto``: papers whose embedding is close to the
topic's.  As in search, a paper with a contextual vector is judged by it (cosine at least
``CONTEXTUAL_MIN``), and the others by their static vector (at least ``SEMANTIC_MIN``); the
two cut-offs are calibrated against each other by ``bench/topic_cutoff.py``.  Results are
cached per (topic, window), so 10,000 readers following the same topics cost one match each.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from paperwire.authors.names import key as author_key
from paperwire.digest.repository import DigestRepository
from paperwire.settings import Settings
from paperwire.store.views import SearchDoc

if TYPE_CHECKING:
    from paperwire.search.indexer import SearchIndex

# the search index, opened on first use by whoever composes (the composition root hands out
# its own: AppContext.index); a digest that needs no meaning never opens it
IndexSource = Callable[[], "SearchIndex"]

log = logging.getLogger("paperwire.digest")
WORD = re.compile(r"[a-z0-9]+")
STOPWORDS = frozenset(
    ["a", "an", "and", "for", "from", "in", "into", "of", "on", "or", "the", "to", "with", "by"]
)
SEMANTIC_MIN = 0.55  # static cosine: below this a "nearest" paper is not about the topic
CONTEXTUAL_MIN = 0.6  # the same in the contextual space (bench/topic_cutoff.py)
SEMANTIC_POOL = 50


def _fold(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def words(text: str) -> list[str]:
    return [_fold(w) for w in WORD.findall(text.lower())]


def topic_words(topic: str) -> list[str]:
    return [w for w in words(topic) if w not in STOPWORDS] or words(topic)


@dataclass(frozen=True, slots=True)
class Match:
    doc: SearchDoc
    how: str  # "words" or "meaning"


class _Window:
    """The window's candidate papers with an inverted index of their words."""

    def __init__(self, docs: list[SearchDoc]) -> None:
        self.docs = {d.id: d for d in docs}
        self.index: dict[str, set[int]] = {}
        self.title: dict[int, set[str]] = {}
        for d in docs:
            text = " ".join([d.title, d.abstract, " ".join(d.keywords)])
            for w in set(words(text)):
                self.index.setdefault(w, set()).add(d.id)
            self.title[d.id] = set(words(d.title))


class TopicMatcher:
    def __init__(self, store, settings: Settings, index: IndexSource) -> None:
        """``index``: gives the search index for matching by meaning (asked on first use)."""
        self.store = store
        self.settings = settings
        self._windows: dict[tuple[date, date], _Window] = {}
        self._cache: dict[tuple[str, date, date], list[Match]] = {}
        self._open_index = index
        self._index: SearchIndex | None = None
        self._semantic = settings.digest_topic_search == "auto"

    def window(self, start: date, end: date) -> _Window:
        key = (start, end)
        if key not in self._windows:
            self._windows[key] = _Window(
                self.store.search_docs(
                    DigestRepository(self.store.engine).candidate_ids(start, end)
                )
            )
        return self._windows[key]

    def by_organization(self, org: str, start: date, end: date) -> list[SearchDoc]:
        docs = [d for d in self.window(start, end).docs.values() if d.organization == org]
        return sorted(docs, key=lambda d: (-d.upvotes, d.arxiv_id))

    def by_author(self, name: str, start: date, end: date) -> list[SearchDoc]:
        """Papers of the window with an author of this name (``authors/names.py`` ``key``)."""
        want = author_key(name)
        docs = [
            d
            for d in self.window(start, end).docs.values()
            if want and any(author_key(a) == want for a in d.authors)
        ]
        return sorted(docs, key=lambda d: (-d.upvotes, d.arxiv_id))

    def match(self, topic: str, start: date, end: date) -> list[Match]:
        """Papers of the window about ``topic``, best first (word matches, then by meaning)."""
        key = (" ".join(topic_words(topic)), start, end)
        if key not in self._cache:
            self._cache[key] = self._match(topic, start, end)
        return self._cache[key]

    def _match(self, topic: str, start: date, end: date) -> list[Match]:
        win = self.window(start, end)
        wanted = topic_words(topic)
        if not wanted or not win.docs:
            return []
        ids = set.intersection(*(win.index.get(w, set()) for w in wanted))
        ranked = sorted(
            ids,
            key=lambda i: (
                -len(win.title[i].intersection(wanted)),
                -win.docs[i].upvotes,
                win.docs[i].arxiv_id,
            ),
        )
        out = [Match(win.docs[i], "words") for i in ranked]
        seen = set(ids)
        for pid in self._by_meaning(topic, start, end):
            if pid in win.docs and pid not in seen:
                seen.add(pid)
                out.append(Match(win.docs[pid], "meaning"))
        return out

    def _by_meaning(self, topic: str, start: date, end: date) -> list[int]:
        if not self._semantic:
            return []
        try:
            if self._index is None:
                self._index = self._open_index()
            from paperwire.search.lexical import Filters

            qvec = self._index.query_vector(topic)
            if qvec is None:
                self._semantic = False
                return []
            window = Filters(start=start, end=end)
            hits = self._index.dense.search(qvec, window, SEMANTIC_POOL)
            ctx = self._index.contextual
            cvec = self._index.contextual_query_vector(topic)
            if cvec is None:
                return [pid for pid, cos in hits if cos >= SEMANTIC_MIN]
            near = ctx.search(cvec, window, SEMANTIC_POOL)
            # static hits that have a contextual vector are judged by it instead
            judged = ctx.similarities([pid for pid, _ in hits], cvec)
        except Exception as exc:  # the index is derived data: fall back to words, say why
            log.warning("digest topics matched by words only: %s", exc)
            self._semantic = False
            return []
        by_ctx = {pid: cos for pid, cos in near}
        by_ctx.update(judged)
        keep = sorted(
            (pid for pid, cos in by_ctx.items() if cos >= CONTEXTUAL_MIN),
            key=lambda p: (-by_ctx[p], p),
        )
        keep += [pid for pid, cos in hits if pid not in by_ctx and cos >= SEMANTIC_MIN]
        return keep
