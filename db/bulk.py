"""Many rows into one table at the speed of the database, not of the driver's helpers.

PostgreSQL gets COPY; SQLite gets the driver's executemany with values already in the text
form SQLAlchemy would have stored, because SQLAlchemy's per-row parameter processing costs
more than SQLite's own insert. Values must already be typed and checked by the caller.
For writes bigger than the table, `defer_secondary` and `restore` build its secondary
indexes once afterwards instead of row by row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import BigInteger, Connection, Date, Integer, String, Table, Text, inspect, text

from db.types import UTCDateTime


def write_rows(conn: Connection, table: Table, rows: Sequence[Sequence[Any]]) -> None:
    """Insert rows given as values in the table's column order, in the caller's transaction."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        _copy_rows(conn, table, rows)
    elif all(type(c.type) in _SQLITE_TEXT for c in table.columns):
        _insert_sqlite(conn, table, rows)
    else:
        names = [c.name for c in table.columns]
        conn.execute(table.insert(), [dict(zip(names, row, strict=True)) for row in rows])


def _copy_rows(conn: Connection, table: Table, rows: Sequence[Sequence[Any]]) -> None:
    """COPY in the caller's transaction: about four times faster than batched INSERTs."""
    raw: Any = conn.connection.driver_connection
    columns = ", ".join(c.name for c in table.columns)
    with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _sqlite_instant(value: datetime) -> str:
    # The text SQLAlchemy stores for a UTCDateTime on SQLite (naive UTC, microseconds always),
    # so these values compare and copy exactly like those written through the ORM.
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: arbot stores aware UTC timestamps")
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


_SQLITE_TEXT: dict[type[Any], Any] = {
    Integer: None,
    BigInteger: None,
    String: None,
    Text: None,
    Date: date.isoformat,
    UTCDateTime: _sqlite_instant,
}


class _Memo(dict[Any, Any]):
    """value -> its stored text, each distinct value converted once: a file has few distinct
    days and many rows per day. Looked up through `map`, so no Python runs per known value."""

    def __init__(self, convert: Any) -> None:
        super().__init__()
        self.convert = convert

    def __missing__(self, value: Any) -> Any:
        found = self[value] = None if value is None else self.convert(value)
        return found


def _insert_sqlite(conn: Connection, table: Table, rows: Sequence[Sequence[Any]]) -> None:
    """The driver's executemany with values already in SQLite's stored form."""
    convert = [_SQLITE_TEXT[type(c.type)] for c in table.columns]
    out: Any = rows
    if any(fn is not None for fn in convert):
        columns: list[Any] = list(zip(*rows, strict=True))
        for i, fn in enumerate(convert):
            if fn is not None:
                columns[i] = map(_Memo(fn).__getitem__, columns[i])
        out = list(zip(*columns, strict=True))
    marks = ", ".join("?" * len(convert))
    names = ", ".join(c.name for c in table.columns)
    raw: Any = conn.connection.driver_connection
    raw.executemany(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", out)


def empty(conn: Connection, tables: Sequence[str]) -> None:
    """Empty scratch tables kept per connection. PostgreSQL never vacuums temporary tables, so
    rows deleted page after page stay in the heap, every later scan reads them and a backfill
    slows down page by page; TRUNCATE gives them fresh storage, all in one statement. SQLite
    truncates on a DELETE without WHERE."""
    if not tables:
        return
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"TRUNCATE {', '.join(tables)}"))
        return
    for table in tables:
        conn.execute(text(f"DELETE FROM {table}"))


@dataclass(frozen=True)
class Deferred:
    """An index, or on PostgreSQL a foreign key, dropped for a bulk write; `sql` rebuilds it."""

    drop: str
    sql: str


def defer_secondary(
    conn: Connection, tables: Sequence[str], *, unique: bool = False
) -> list[Deferred]:
    """Drop the tables' non-unique indexes and, on PostgreSQL, their foreign keys; `restore`
    builds them again, in the same transaction. `unique` (PostgreSQL): their unique
    constraints too, for writers that upsert without ON CONFLICT (db.upserts, `alone`); the
    rebuild fails, and the transaction with it, if the rows broke one."""
    found: list[Deferred] = []
    reflect = inspect(conn)
    for table in tables:
        if unique and conn.dialect.name == "postgresql":
            for uq in reflect.get_unique_constraints(table):
                found.append(
                    Deferred(
                        f"ALTER TABLE {table} DROP CONSTRAINT {uq['name']}",
                        f"ALTER TABLE {table} ADD CONSTRAINT {uq['name']} "
                        f"UNIQUE ({', '.join(str(c) for c in uq['column_names'])})",
                    )
                )
        for ix in reflect.get_indexes(table):
            if not ix["unique"] and ix["name"]:
                columns = ", ".join(str(c) for c in ix["column_names"])
                found.append(
                    Deferred(
                        f"DROP INDEX {ix['name']}",
                        f"CREATE INDEX {ix['name']} ON {table} ({columns})",
                    )
                )
        if conn.dialect.name != "postgresql":
            continue  # SQLite cannot drop a foreign key; its checks are cheap index probes
        for fk in reflect.get_foreign_keys(table):
            if fk["name"] and not fk["options"]:
                found.append(
                    Deferred(
                        f"ALTER TABLE {table} DROP CONSTRAINT {fk['name']}",
                        f"ALTER TABLE {table} ADD CONSTRAINT {fk['name']} FOREIGN KEY "
                        f"({', '.join(fk['constrained_columns'])}) REFERENCES "
                        f"{fk['referred_table']} ({', '.join(fk['referred_columns'])})",
                    )
                )
    for item in found:
        conn.execute(text(item.drop))
    return found


def restore(conn: Connection, deferred: Sequence[Deferred]) -> None:
    if deferred and conn.dialect.name == "postgresql":
        conn.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
    for item in deferred:
        conn.execute(text(item.sql))
