"""SQL helpers every slice shares."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Result
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

IN_CHUNK = 900  # ids per ``IN (...)``: under SQLite's older limit of 999 bound parameters


def dialect_insert(dialect_name: str, table: Any) -> Any:
    """``INSERT`` for this dialect, with its ``ON CONFLICT`` clauses
    (``on_conflict_do_nothing`` / ``on_conflict_do_update``): PostgreSQL's or SQLite's."""
    return (postgresql if dialect_name == "postgresql" else sqlite).insert(table)


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE touched (``Session.execute`` types its result as a plain
    ``Result``, though a DML statement's is always a ``CursorResult``)."""
    return cast(CursorResult[Any], result).rowcount


def insert_ignore(s: Session, model: Any, values: dict[str, Any]) -> int:
    """INSERT ... ON CONFLICT DO NOTHING; the number of rows inserted (0 or 1).

    Counted with RETURNING: the cursor's rowcount is -1 here with SQLAlchemy 2.1 and psycopg 3
    (a toggle then never withdrew a vote on PostgreSQL)."""
    key = list(model.__table__.primary_key.columns)
    stmt = dialect_insert(s.get_bind().dialect.name, model)
    stmt = stmt.values(**values).on_conflict_do_nothing().returning(*key)
    return len(s.execute(stmt).all())
