"""Text that every XML 1.0 and HTML writer can hold.

XML 1.0 allows only tab, newline, carriage return, U+0020-U+D7FF, U+E000-U+FFFD and
U+10000-U+10FFFF.  Anything else (the other C0 controls, lone surrogates, U+FFFE and U+FFFF)
makes an XML writer fail or produce a document that readers reject, and one such paper would
break a whole feed.  The sources drop these characters on the way in, and the feeds and page
templates drop them again on the way out, through this one function.
"""

from __future__ import annotations

import re

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot hold (unchanged when it has none)."""
    if _NOT_XML.search(text) is None:
        return text
    return _NOT_XML.sub("", text)
