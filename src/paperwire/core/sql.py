"""SQL helpers every slice shares."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Result
from sqlalchemy.dialects import postgresql, sqlite


def dialect_insert(dialect_name: str, table: Any) -> Any:
    """``INSERT`` for this dialect, with its ``ON CONFLICT`` clauses
    (``on_conflict_do_nothing`` / ``on_conflict_do_update``): PostgreSQL's or SQLite's."""
    return (postgresql if dialect_name == "postgresql" else sqlite).insert(table)


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE touched (``Session.execute`` types its result as a plain
    ``Result``, though a DML statement's is always a ``CursorResult``)."""
    return cast(CursorResult[Any], result).rowcount
