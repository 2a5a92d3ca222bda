"""Rules that several forms share, so that they agree."""

from __future__ import annotations

import re

# An address we will mail: the digest's subscribe form and the account's email field.
EMAIL = re.compile(
    r"^[^@\s<>\"',;]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$"
)

# A yes/no query parameter (has_code=1).  The JSON API takes what its OpenAPI enum says, 0 or
# 1; pages also take the words a person types into a URL.
_FLAG = {"": False, "0": False, "1": True}
_FLAG_WORDS = {**_FLAG, "false": False, "no": False, "off": False}
_FLAG_WORDS |= {"true": True, "yes": True, "on": True}


def flag(name: str, value: str | None, *, words: bool = False) -> bool:
    """``value`` as a flag (absent: false); ValueError naming ``name`` otherwise."""
    try:
        return (_FLAG_WORDS if words else _FLAG)[value or ""]
    except KeyError:
        raise ValueError(f"{name} must be 0 or 1, got {value!r}") from None


def said_yes(value: str | None) -> bool:
    """A form button's yes/no field (``undo=1``): the words :func:`flag` takes for yes; any
    other value, or none, is no (a form never fails on it)."""
    return _FLAG_WORDS.get(value or "", False)
