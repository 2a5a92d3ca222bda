"""Rules that several forms share, so that they agree."""

from __future__ import annotations

import re

# An address we will mail: the digest's subscribe form and the account's email field.
EMAIL = re.compile(
    r"^[^@\s<>\"',;]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$"
)
