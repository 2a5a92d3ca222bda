"""arXiv identifiers: parse, validate and normalise old- and new-style ids.

New style: ``2608.19880`` (or ``0704.0001``, four digits after the dot before 2015).
Old style: ``hep-th/9901001`` or ``math.AP/0601001`` (the subject class is dropped by arXiv).
Both may carry a version (``v2``), an ``arXiv:`` prefix, or come as an abs/pdf URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# re.ASCII everywhere: \d also matches Arabic-Indic and other digits, and 2608.19880 written
# in them would become a second row for the same paper
_NEW = re.compile(r"^(?P<id>\d{4}\.\d{4,5})(?:v(?P<v>\d+))?$", re.ASCII)
_OLD = re.compile(
    r"^(?P<arch>[a-z][a-z\-]*)(?:\.[A-Za-z\-]+)?/(?P<num>\d{7})(?:v(?P<v>\d+))?$", re.ASCII
)
_URL = re.compile(
    r"^https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/(?P<rest>.+?)(?:\.pdf)?/?$"
)


class InvalidArxivId(ValueError):
    """Raised for text that is not an arXiv identifier."""


@dataclass(frozen=True, slots=True)
class ArxivId:
    id: str
    version: int | None = None

    def __str__(self) -> str:
        return self.id


def parse_arxiv_id(text: str) -> ArxivId:
    """Parse an id, ``arXiv:`` id or arxiv.org URL into the bare id and its version."""
    if not isinstance(text, str):
        raise InvalidArxivId(f"not an arXiv id: {text!r}")
    raw = text.strip()
    m = _URL.match(raw)
    if m:
        raw = m.group("rest")
    if raw.lower().startswith("arxiv:"):
        raw = raw[6:]
    m = _NEW.match(raw)
    if m:
        month = int(raw[2:4])
        if not 1 <= month <= 12:
            raise InvalidArxivId(f"not an arXiv id (month {month:02d} is invalid): {text!r}")
        digits = len(m.group("id")) - 5
        if digits != (5 if int(raw[:4]) >= 1501 else 4):
            raise InvalidArxivId(
                f"not an arXiv id (ids from {raw[:4]} have {5 if int(raw[:4]) >= 1501 else 4} "
                f"digits after the dot): {text!r}"
            )
        return ArxivId(m.group("id"), int(m.group("v")) if m.group("v") else None)
    m = _OLD.match(raw)
    if m:
        return ArxivId(
            f"{m.group('arch')}/{m.group('num')}", int(m.group("v")) if m.group("v") else None
        )
    raise InvalidArxivId(
        f"not an arXiv id: {text!r} (expected e.g. 2608.19880, hep-th/9901001 or an arxiv.org URL)"
    )


def normalize_arxiv_id(text: str) -> str:
    """The bare id without version, e.g. ``'arXiv:2608.19880v3'`` -> ``'2608.19880'``."""
    return parse_arxiv_id(text).id


def is_arxiv_id(text: str) -> bool:
    try:
        parse_arxiv_id(text)
    except InvalidArxivId:
        return False
    return True
