"""core/sql: executemany's fast SQLite path stores exactly what SQLAlchemy's would, and
``ids_in`` selects exactly what a plain ``IN`` does, on both databases."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    insert,
    select,
    text,
)

from paperwire.core.sql import dialect_insert, executemany, ids_in

ROWS = [
    {
        "id": 1,
        "name": "plain",
        "tags": ["a", "ü"],
        "at": datetime(2026, 11, 30, 17, 5, 0),
        "on": date(2026, 11, 30),
        "flag": True,
    },
    # None in a JSON column is stored as JSON null, as SQLAlchemy does, not as SQL NULL
    {"id": 2, "name": None, "tags": None, "at": None, "on": None, "flag": False},
    {
        "id": 3,
        "name": "micro",
        "tags": [],
        "at": datetime(2026, 1, 2, 3, 4, 5, 678),
        "on": date(1991, 8, 14),
        "flag": None,
    },
]


def _table() -> Table:
    return Table(
        "things",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("name", String(20)),
        Column("tags", JSON),
        Column("at", DateTime),
        Column("on", Date),  # a reserved word: the compiled statement quotes it
        Column("flag", Boolean),
    )


def _stored(url: str, fast: bool, upsert: bool = False) -> list[tuple]:
    table = _table()
    engine = create_engine(url)
    table.metadata.create_all(engine)
    with engine.begin() as conn:
        stmt = insert(table)
        (executemany if fast else lambda c, s, r: c.execute(s, r))(conn, stmt, ROWS)
        if upsert:
            up = dialect_insert(engine.dialect.name, table)
            up = up.on_conflict_do_update(index_elements=["id"], set_={"name": up.excluded.name})
            changed = [{**r, "name": f"new {r['id']}"} for r in ROWS]
            (executemany if fast else lambda c, s, r: c.execute(s, r))(conn, up, changed)
        raw = conn.execute(text('SELECT id, name, tags, at, "on", flag FROM things ORDER BY id'))
        rows = [tuple(r) for r in raw]
        typed = [tuple(r) for r in conn.execute(select(table).order_by(table.c.id))]
    engine.dispose()
    return rows + typed


def _no_plain_execute(monkeypatch) -> None:
    """Fail if the fast path falls back to ``Connection.execute`` for its statement."""
    plain = Connection.execute

    def execute(self, stmt, params=None, *args, **kwargs):
        assert not isinstance(params, list), "executemany fell back to SQLAlchemy's path"
        return plain(self, stmt, params, *args, **kwargs)

    monkeypatch.setattr(Connection, "execute", execute)


def test_fast_path_stores_the_same_rows_on_sqlite(tmp_path, monkeypatch):
    slow = _stored(f"sqlite:///{tmp_path / 'slow.db'}", fast=False)
    _no_plain_execute(monkeypatch)
    fast = _stored(f"sqlite:///{tmp_path / 'fast.db'}", fast=True)
    assert fast == slow
    assert fast[1][2] == "null" and fast[1][3] is None  # JSON null; SQL NULL datetime


def test_fast_path_upserts_the_same_on_sqlite(tmp_path, monkeypatch):
    slow = _stored(f"sqlite:///{tmp_path / 'slow.db'}", fast=False, upsert=True)
    _no_plain_execute(monkeypatch)
    fast = _stored(f"sqlite:///{tmp_path / 'fast.db'}", fast=True, upsert=True)
    assert fast == slow
    assert [r[1] for r in fast[:3]] == ["new 1", "new 2", "new 3"]


def test_other_databases_take_sqlalchemys_path(pg_url):
    stored = _stored(pg_url, fast=True, upsert=True)
    assert [r[1] for r in stored[3:]] == ["new 1", "new 2", "new 3"]
    assert stored[3][3] == datetime(2026, 11, 30, 17, 5, 0)


def test_no_rows_is_no_statement(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.begin() as conn:
        executemany(conn, insert(_table()), [])  # the table does not even exist


def test_json_columns_round_trip_and_read_rows_older_versions_wrote(db_url):
    # make_engine reads and writes JSON with orjson; rows written by json.dumps (spaces,
    # \\u escapes) must still read back
    from paperwire.store.db import make_engine

    table = _table()
    engine = make_engine(db_url)
    table.metadata.create_all(engine)
    values = [["Jürgen Groß", 'A "B" \\ C', "名前", ""], [], None, ["\u2028"]]
    with engine.begin() as conn:
        executemany(conn, insert(table), [{**ROWS[0], "id": i, "tags": v} for i, v in
                                          enumerate(values)])  # fmt: skip
        conn.execute(
            text("INSERT INTO things (id, tags) VALUES (99, :raw)"),
            {"raw": '["J\\u00fcrgen Gro\\u00df", "A \\"B\\""]'},
        )
    with engine.connect() as conn:
        got = dict(conn.execute(select(table.c.id, table.c.tags)).all())
    engine.dispose()
    assert [got[i] for i in range(len(values))] == values
    assert got[99] == ["Jürgen Groß", 'A "B"']


def test_ids_in_selects_what_a_plain_in_does(db_url):
    table = _table()
    engine = create_engine(db_url)
    table.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(table), [{"id": i, "name": f"n{i}"} for i in range(1, 3001)])
    stmt = select(table.c.id).where(ids_in(table.c.id)).order_by(table.c.id)
    asked = [
        [],
        [7],
        [3, 1, 3, 2_999, 10**9],  # duplicates, and an id no row has
        list(range(2, 3001, 2)),  # more than SQLite's old limit of 999 parameters
    ]
    sent: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, sql, *_: sent.append(sql))
    with engine.connect() as conn:
        got = [conn.scalars(stmt, {"ids": ids}).all() for ids in asked]
        # the driver got one SQL text for every length: the point of a single parameter
        ours = list(sent)
        plain = [
            conn.scalars(select(table.c.id).where(table.c.id.in_(ids)).order_by(table.c.id)).all()
            for ids in asked
        ]
    engine.dispose()
    assert got == plain
    assert got[2] == [1, 3, 2_999] and len(got[3]) == 1500
    assert len(ours) == len(asked) and len(set(ours)) == 1
