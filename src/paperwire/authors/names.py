"""How author names compare: Unicode NFKC, whitespace collapsed, case folded."""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from urllib.parse import quote

MAX_NAME = 200  # characters; a longer "name" is not one


def display(name: str) -> str:
    """``name`` as shown and linked: NFKC, one space between words, no edge spaces.
    (``str.split()`` splits where the regex ``\\s+`` would, in a third of the time.)"""
    return " ".join(unicodedata.normalize("NFKC", name or "").split())


@lru_cache(maxsize=32768)
def key(name: str) -> str:
    """What two spellings of one name share ("Yann  LeCun", "yann lecun", "Ｙann LeCun").
    Cached: an author page compares every co-author of every paper (tens of thousands of
    names for a prolific one, most of them recurring)."""
    return display(name).casefold()


@lru_cache(maxsize=65536)
def author_url(name: str) -> str:
    """Cached: every card links its first authors, and names recur from page to page."""
    return "/authors/" + quote(display(name), safe="")


def author_feed_url(name: str, ext: str = "xml") -> str:
    return f"/feeds/author/{quote(display(name), safe='')}.{ext}"
