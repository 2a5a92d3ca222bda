"""Which listing sources are curated: a paper listed by HF's daily papers or submitted by a
signed-in reader appears on the day pages; arXiv's own announcements do not."""

from __future__ import annotations

from sqlalchemy import ColumnElement, literal_column
from sqlalchemy.sql.elements import SQLCoreOperations

CURATED = ("hf", "community")


def curated(source: SQLCoreOperations[str]) -> ColumnElement[bool]:
    """``source IN ('hf', 'community')``, the values written into the SQL.

    ``source.in_(CURATED)`` binds them as an expanding parameter, which SQLAlchemy renders
    again at every execution: the day page's neighbour-days query took 51-86 us that way,
    25 us this way.  The values are this module's constants, never input."""
    return source.in_([literal_column(f"'{s}'") for s in CURATED])
