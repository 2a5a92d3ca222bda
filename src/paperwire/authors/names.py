"""How author names compare: Unicode NFKC, whitespace collapsed, case folded."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from urllib.parse import quote

MAX_NAME = 200  # characters; a longer "name" is not one
_SPACE = re.compile(r"\s+")


def display(name: str) -> str:
    """``name`` as shown and linked: NFKC, one space between words, no edge spaces."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", name or "")).strip()


def key(name: str) -> str:
    """What two spellings of one name share ("Yann  LeCun", "yann lecun", "Ｙann LeCun")."""
    return display(name).casefold()


@lru_cache(maxsize=65536)
def author_url(name: str) -> str:
    """Cached: every card links its first authors, and names recur from page to page."""
    return "/authors/" + quote(display(name), safe="")


def author_feed_url(name: str, ext: str = "xml") -> str:
    return f"/feeds/author/{quote(display(name), safe='')}.{ext}"
