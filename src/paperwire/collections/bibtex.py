"""A collection as BibTeX (written with bibtexparser, which the library import reads with):
one ``@misc`` entry per paper in the collection's order, arXiv's eprint fields, the DOI and
journal reference when known, and the reader's note."""

from __future__ import annotations

import re
from collections.abc import Iterable

import bibtexparser
from bibtexparser.library import Library
from bibtexparser.model import Block, Entry, Field

from paperwire.store.views import PaperView

_SPECIAL = re.compile(r"([&%$#_])")
_KEYWORD = re.compile(r"[^a-z0-9]+")


def _text(value: str) -> str:
    """A field value that cannot break the entry: no braces or backslashes (a hostile title
    could close the field), and TeX's special characters escaped."""
    value = " ".join(value.replace("{", " ").replace("}", " ").replace("\\", " ").split())
    return _SPECIAL.sub(r"\\\1", value)


def _key(paper: PaperView, taken: set[str]) -> str:
    surname = (paper.authors[0].split()[-1] if paper.authors else "anon").lower()
    year = str(paper.published_at.year) if paper.published_at else ""
    word = next((w for w in _KEYWORD.split(paper.title.lower()) if len(w) > 3), "paper")
    base = _KEYWORD.sub("", f"{surname}{year}{word}") or "paper"
    key, n = base, 1
    while key in taken:
        n += 1
        key = f"{base}{n}"
    taken.add(key)
    return key


def to_bibtex(papers: Iterable[tuple[PaperView, str]]) -> str:
    """``(paper, note)`` pairs as a BibTeX file."""
    entries: list[Block] = []
    taken: set[str] = set()
    for paper, note in papers:
        fields = [
            Field("title", "{" + _text(paper.title) + "}"),
            Field("author", " and ".join(_text(a) for a in paper.authors) or "Anonymous"),
        ]
        if paper.published_at:
            fields.append(Field("year", str(paper.published_at.year)))
        fields += [
            Field("eprint", paper.arxiv_id),
            Field("archivePrefix", "arXiv"),
            Field("url", paper.abs_url),
        ]
        if paper.categories:
            fields.append(Field("primaryClass", _text(paper.categories[0])))
        if paper.doi:
            fields.append(Field("doi", _text(paper.doi)))
        if paper.journal_ref:
            fields.append(Field("journal", _text(paper.journal_ref)))
        if note:
            fields.append(Field("note", _text(note)))
        entries.append(Entry("misc", _key(paper, taken), fields))
    return bibtexparser.write_string(Library(entries))
