"""One clock for the store: naive UTC, as every timestamp column holds it."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now in UTC, without tzinfo (SQLite and the ``DateTime`` columns store naive UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)
