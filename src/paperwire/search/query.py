"""Turn what a person typed into a safe lexical query, a text to embed, and helpful notes.

Supported: plain words (OR, ranked by BM25), ``"exact phrases"``, ``prefix*`` and
``"phrase pref"*``, ``-excluded`` words.  Everything else is treated as text: field syntax,
boolean operators, brackets and stray quotes never reach the engine, so no input can fail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_QUERY_CHARS = 1000
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
_OPERATORS = {"AND", "OR", "NOT", "&&", "||"}
# Lucene's English stop words.  Dropped from the plain words of a lexical query that has
# other terms: BM25 gives them almost no weight, but their posting lists are the longest, and
# a sentence-long query spent half its lexical time walking them (docs/search.md).  Phrases
# keep them, and a query of stop words alone is searched as it is.
STOPWORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is",
    "it", "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there",
    "these", "they", "this", "to", "was", "will", "with",
})  # fmt: skip
# A query with at least this many words (a sentence or more, pasted from an abstract) searches
# its hyphenated compounds as plain words.  Then every clause is a term: a phrase reads the
# positions of every paper holding all its words (tantivy-py scores every match, see
# search/lexical.py), and the lexical part of a sentence-long query took about a third less
# CPU at 183k papers, while SciFact's ranking did not move (docs/search.md).  Quoted phrases
# stay phrases.
LONG_QUERY = 8


@dataclass
class ParsedQuery:
    raw: str
    words: list[str] = field(default_factory=list)
    phrases: list[list[str]] = field(default_factory=list)  # "quoted phrases"
    compounds: list[list[str]] = field(default_factory=list)  # chain-of-thought, GPT-4o
    prefixes: list[list[str]] = field(default_factory=list)  # a phrase whose last word is a prefix
    excluded: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.words or self.phrases or self.compounds or self.prefixes)

    @property
    def terms(self) -> list[str]:
        """Every positive word, for highlighting."""
        out = list(self.words)
        for p in self.phrases + self.compounds + self.prefixes:
            out.extend(p)
        return list(dict.fromkeys(out))

    @property
    def marked(self) -> list[str]:
        """The words a results page marks: the terms without stop words (as the lexical
        search drops them when other words remain), all of them for a query of stop words
        alone.  Marking every "a" and "of" of a title query hid the words that matched."""
        kept = [t for t in self.terms if t.lower() not in STOPWORDS]
        return kept or self.terms

    @property
    def long(self) -> bool:
        return sum(1 for t in self.terms if t not in STOPWORDS) >= LONG_QUERY

    def pieces(self) -> list[str]:
        """The positive parts of the query in tantivy's language, one clause each: words
        (stop words dropped when there is anything else), phrases, compounds (as phrases, or
        as words in a long query) and phrase prefixes."""
        words = list(self.words)
        compounds = self.compounds
        if self.long:
            words += [w for c in compounds for w in c]
            compounds = []
        parts = list(dict.fromkeys(w.lower() for w in words))
        if (
            self.phrases
            or self.compounds
            or self.prefixes
            or any(w not in STOPWORDS for w in parts)
        ):
            parts = [w for w in parts if w not in STOPWORDS]
        parts += ['"' + " ".join(p) + '"' for p in self.phrases + compounds]
        # One-word prefixes cannot be phrase prefixes in tantivy (a phrase needs two terms);
        # the lexical index answers them as term-dictionary prefix queries instead.
        parts += ['"' + " ".join(p) + '"*' for p in self.prefixes if len(p) > 1]
        return parts

    @property
    def dense_text(self) -> str:
        return " ".join(self.terms)

    @property
    def word_prefixes(self) -> list[str]:
        """Single-word prefixes (``diffus*``), lowercased."""
        return [p[0].lower() for p in self.prefixes if len(p) == 1]

    def tantivy(self) -> str:
        """The query in tantivy's language, built only from escaped-safe pieces."""
        return " ".join(self.pieces() + ["-" + w.lower() for w in self.excluded])


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def parse(raw: str | None) -> ParsedQuery:
    raw = (raw or "").strip()
    q = ParsedQuery(raw=raw)
    if not raw:
        q.notes.append("Type a few words to search titles, abstracts, authors and keywords.")
        return q
    if len(raw) > MAX_QUERY_CHARS:
        raw = raw[:MAX_QUERY_CHARS]
        q.notes.append(
            f"The query was longer than {MAX_QUERY_CHARS:,} characters; "
            "only its beginning was searched."
        )
        q.raw = raw
    if raw.count('"') % 2:
        q.notes.append("An unmatched quote was ignored; searched the words instead.")
        cut = raw.rfind('"')
        raw = raw[:cut] + " " + raw[cut + 1 :]
    pos = 0
    for m in re.finditer(r'"([^"]*)"(\*?)', raw):
        _loose(raw[pos : m.start()], q)
        words = [w.lower() for w in _words(m.group(1))]
        if m.group(2) and words:
            q.prefixes.append(words)
        elif len(words) > 1:
            if words not in q.phrases:
                q.phrases.append(words)
        elif words:
            q.words.append(words[0])
        pos = m.end()
    _loose(raw[pos:], q)
    q.words = list(dict.fromkeys(q.words))[:64]
    if q.empty and not q.notes:
        if q.excluded:
            q.notes.append("Only excluded words were given: add a word to search for.")
        else:
            q.notes.append(
                "The query has no words to search for (only operators or punctuation). "
                'Try words, a "quoted phrase" or a prefix like transform*.'
            )
    return q


def _loose(text: str, q: ParsedQuery) -> None:
    for token in text.split():
        if token in _OPERATORS:
            continue
        negative = token.startswith("-") and len(token) > 1
        prefix = token.endswith("*")
        if ":" in token:  # field syntax is not offered; search the value
            token = token.split(":", 1)[1]
        words = [w.lower() for w in _words(token)]
        if not words:
            continue
        if negative:
            q.excluded.extend(words)
        elif prefix and len(words[-1]) >= 2:
            q.prefixes.append(words)
        elif len(words) > 1:  # "chain-of-thought", "GPT-4o": a phrase, as written
            if words not in q.compounds:
                q.compounds.append(words)
        else:
            q.words.append(words[0])
