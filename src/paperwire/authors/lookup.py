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
        want = key(name)
        if not want:
            return []
        found = self.repo.papers(self.index.author_pids(display(name)), votes)
        return [p for p in found if any(key(a) == want for a in p.authors)]

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
        every = self.papers_of(name)
        if not every:
            return None
        want = key(name)
        spellings: Counter[str] = Counter()
        together: Counter[str] = Counter()
        shown: dict[str, str] = {}
        for p in every:
            for a in p.authors:
                k = key(a)
                if k == want:
                    spellings[display(a)] += 1
                elif k:
                    together[k] += 1
                    shown.setdefault(k, display(a))
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
            ranked = sorted(together.items(), key=lambda t: (-t[1], t[0]))
            if ranked and ranked[0][1] > 1:  # "frequent": more than one paper together
                ranked = [t for t in ranked if t[1] > 1]
            out.coauthors = [(shown[k], n) for k, n in ranked[:COAUTHORS]]
            out.organizations = self.repo.organizations([p.id for p in every])
            end = until or out.last
            if end:
                out.trend = count_by_month(((p.day, p.upvotes) for p in every), months_until(end))
        return out
