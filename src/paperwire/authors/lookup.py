"""An author's papers, co-authors and organizations, by name.

The lexical index answers which papers have the name's words in order in their author list
(a phrase query, a few milliseconds even at 2.9M papers); the store's author lists then keep
the papers where one author *is* the name (``names.key``), so "Wei Zhang" finds neither
"Xiao-Wei Zhang" nor a list that runs "... Wei ; Zhang ..." together.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from paperwire.authors.names import display, key
from paperwire.authors.repository import AuthoredPaper, AuthorRepository
from paperwire.core.trend import MonthCount, count_by_month, months_until

SORTS = ("date", "upvotes")
COAUTHORS = 12  # co-authors shown on a page


class AuthorIndex(Protocol):
    """What the lookup needs of the search slice's lexical index."""

    def author_pids(self, name: str) -> list[int]: ...


@dataclass
class Author:
    """One name's papers (sorted, filtered), with its frequent co-authors and organizations."""

    name: str  # the spelling most of its papers use
    papers: list[AuthoredPaper]  # after the date filter, in the order asked
    total: int  # every paper of the name, before the date filter
    coauthors: list[tuple[str, int]] = field(default_factory=list)
    organizations: list[tuple[str, str, int]] = field(default_factory=list)
    first: date | None = None
    last: date | None = None
    trend: list[MonthCount] = field(default_factory=list)  # papers per month (all of them)

    @property
    def ids(self) -> list[int]:
        return [p.id for p in self.papers]


class AuthorLookup:
    def __init__(self, index: AuthorIndex, repo: AuthorRepository) -> None:
        self.index = index
        self.repo = repo

    def papers_of(self, name: str, votes: bool = True) -> list[AuthoredPaper]:
        """Every paper with an author of this name (any spelling that normalizes alike);
        ``votes``: count this site's upvotes too (what the upvote sort needs)."""
        return [p for p, _ in self._matched(name, votes)]

    def _matched(self, name: str, votes: bool) -> list[tuple[AuthoredPaper, list[str]]]:
        """The papers of :meth:`papers_of`, each with its authors' keys."""
        want = key(name)
        if not want:
            return []
        found = self.repo.papers(self.index.author_pids(display(name)), votes)
        keyed = ((p, list(map(key, p.authors))) for p in found)
        return [(p, keys) for p, keys in keyed if want in keys]

    def author(
        self,
        name: str,
        *,
        sort: str = "date",
        start: date | None = None,
        end: date | None = None,
        details: bool = True,
        until: date | None = None,
    ) -> Author | None:
        """None when no paper has this author; ``details`` adds co-authors, organizations and
        papers per month over the five years up to ``until`` (default: the newest paper)."""
        matched = self._matched(name, votes=True)
        if not matched:
            return None
        every = [p for p, _ in matched]
        want = key(name)
        written: Counter[str] = Counter()  # the name as each paper writes it
        together: Counter[str] = Counter()
        spelled: dict[str, str] = {}  # a spelling of each key: its first paper's
        # a prolific name's papers list tens of thousands of names (collaborations of
        # hundreds): the counting and the spellings run in C (map, Counter, dict.update)
        for p, keys in reversed(matched):
            together.update(keys)
            spelled.update(zip(keys, p.authors, strict=True))
            written[p.authors[keys.index(want)]] += 1
        together.pop(want, None)
        together.pop("", None)
        spellings: Counter[str] = Counter()
        for raw, n in written.items():
            spellings[display(raw)] += n
        days = [p.day for p in every if p.day]
        kept = [
            p
            for p in every
            if (start is None or (p.day and p.day >= start))
            and (end is None or (p.day and p.day <= end))
        ]
        if sort == "upvotes":
            kept.sort(key=lambda p: (-p.upvotes, -(p.day or date.min).toordinal(), -p.id))
        else:
            kept.sort(key=lambda p: (-(p.day or date.min).toordinal(), -p.id))
        out = Author(
            name=spellings.most_common(1)[0][0],
            papers=kept,
            total=len(every),
            first=min(days) if days else None,
            last=max(days) if days else None,
        )
        if details:
            top = together.most_common(COAUTHORS)  # by count alone (then ties by name)
            if top and top[0][1] > 1:  # "frequent": more than one paper together
                top = [t for t in top if t[1] > 1]
            if len(top) == COAUTHORS:  # others may tie with the last: all of them, by name
                cut = top[-1][1]
                top = [(k, n) for k, n in together.items() if n >= cut]
            ranked = sorted(top, key=lambda t: (-t[1], t[0]))[:COAUTHORS]
            out.coauthors = [(display(spelled[k]), n) for k, n in ranked]
            out.organizations = self.repo.organizations([p.id for p in every])
            end = until or out.last
            if end:
                out.trend = count_by_month(((p.day, p.upvotes) for p in every), months_until(end))
        return out
