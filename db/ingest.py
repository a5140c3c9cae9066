"""Idempotent bulk upserts of outside rows (CSV exports, Stripe) into the ledger.

Rows are first loaded into temporary staging tables, then checked, and upserted by db.upserts
with one set-based statement per table. Everything happens on one connection inside
one transaction, so a caller that finds a problem rolls back and nothing is half-applied;
memory stays flat however big the file is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    text,
)
from sqlalchemy.schema import CreateTable

from db.ar_sums import driven_join
from db.bulk import Deferred, defer_secondary, write_rows
from db.settlement import (
    OverApplied,
    refresh_selected,
    staged_over_applied,
    terms_selected,
)
from db.stages import STAGES, analyze_stage, forget_stages
from db.upserts import staged_count


def create_stages(conn: Connection) -> None:
    """Empty staging tables, without their indexes: `index_stage` adds those once the rows are
    in, which costs a third of indexing them row by row."""
    forget_stages(conn.connection.info)
    for table in STAGES.values():
        table.drop(conn, checkfirst=True)
        conn.execute(CreateTable(table))


def index_stage(conn: Connection, entity: str) -> None:
    for index in STAGES[entity].indexes:
        index.create(conn)


def drop_stages(conn: Connection) -> None:
    forget_stages(conn.connection.info)
    for table in STAGES.values():
        table.drop(conn, checkfirst=True)


def stage_rows(conn: Connection, entity: str, rows: Sequence[Mapping[str, Any]]) -> None:
    columns = [c.name for c in STAGES[entity].columns]
    stage_tuples(conn, entity, [tuple(row.get(c) for c in columns) for row in rows])


def stage_numbered(conn: Connection, entity: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """Stage rows numbered from 1 as their `line` (a page's positions), keys the row lacks
    staged as NULL."""
    columns = [c.name for c in STAGES[entity].columns][1:]  # `line` is first
    stage_tuples(conn, entity, [(n, *map(row.get, columns)) for n, row in enumerate(rows, 1)])


def stage_page(conn: Connection, entity: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """Stage one page of a sync (numbered as `stage_numbered`) and give PostgreSQL's planner
    its statistics (`analyze_stage`): the step every sync's page takes before its checks
    and upserts."""
    stage_numbered(conn, entity, rows)
    analyze_stage(conn, entity)


def stage_tuples(conn: Connection, entity: str, rows: Sequence[Sequence[Any]]) -> None:
    """Stage rows given as values in the staging table's column order (`line` first)."""
    if not rows:
        return
    write_rows(conn, STAGES[entity], rows)


def duplicate_lines(conn: Connection, entity: str) -> list[tuple[int, str]]:
    """Lines whose id already appeared earlier in the same file."""
    rows = conn.execute(
        text(
            f"SELECT s.line, s.external_id, first.line FROM stage_{entity} s "
            f"JOIN (SELECT external_id, min(line) AS line FROM stage_{entity} "
            f"GROUP BY external_id HAVING count(*) > 1) first "
            "ON first.external_id = s.external_id AND s.line > first.line ORDER BY s.line"
        )
    )
    return [(line, f"duplicate id {ext!r} (first on line {first})") for line, ext, first in rows]


def discard_lines(conn: Connection, entity: str, lines: Sequence[int]) -> None:
    """Drop staged rows already reported as bad, so later checks don't trip over them."""
    if lines:
        conn.execute(
            text(f"DELETE FROM stage_{entity} WHERE line = :line"), [{"line": n} for n in lines]
        )


def unknown_references(conn: Connection, entity: str, *, source: str) -> list[tuple[int, str]]:
    """Lines that point at a customer or invoice the ledger does not have, or disagree with it."""
    checks: list[tuple[str, str]] = []
    cols = STAGES[entity].c
    if "customer_ext" in cols:
        checks.append(
            (
                "LEFT JOIN customers c ON c.source = :source AND c.external_id = s.customer_ext "
                "WHERE c.id IS NULL",
                "'unknown customer ' || s.customer_ext",
            )
        )
    if "invoice_ext" in cols:
        join = "LEFT JOIN invoices i ON i.source = :source AND i.external_id = s.invoice_ext "
        checks.append(
            (
                join + "WHERE s.invoice_ext IS NOT NULL AND i.id IS NULL",
                "'unknown invoice ' || s.invoice_ext",
            )
        )
        checks.append(
            (
                f"{driven_join(conn.dialect.name)} invoices i "
                "ON i.source = :source AND i.external_id = s.invoice_ext "
                "WHERE i.currency <> s.currency",
                "'currency ' || s.currency || ' differs from invoice ' || s.invoice_ext "
                "|| ' in ' || i.currency",
            )
        )
        if "customer_ext" in cols:
            # Staged rows first: SQLite has no statistics on the staging table and would
            # otherwise loop over every customer's invoices, a cost growing with the ledger.
            driven = driven_join(conn.dialect.name)
            checks.append(
                (
                    f"{driven} invoices i ON i.source = :source AND i.external_id = s.invoice_ext "
                    f"{driven} customers ic ON ic.id = i.customer_id "
                    "WHERE ic.external_id <> s.customer_ext",
                    "'invoice ' || s.invoice_ext || ' belongs to customer ' || ic.external_id",
                )
            )
    problems: list[tuple[int, str]] = []
    for where, message in checks:
        sql = f"SELECT s.line, {message} FROM stage_{entity} s {where}"
        problems.extend(
            (int(line), str(msg)) for line, msg in conn.execute(text(sql), {"source": source})
        )
    return problems


# The invoices the staged rows name, read from the stage into the ledger: SQLite (no
# statistics on either) would otherwise take `source = :source` for a few rows and read every
# invoice of the source to probe the stage, a cost growing with the ledger on every page.
_STAGED_SQL = """
    SELECT i.id FROM stage_invoices s {j} invoices i
      ON i.source = :source AND i.external_id = s.external_id
"""

_TOUCHED_SQL = (
    _STAGED_SQL
    + """
    UNION SELECT i.id FROM stage_payments s {j} invoices i
      ON i.source = :source AND i.external_id = s.invoice_ext
    UNION SELECT i.id FROM stage_credit_notes s {j} invoices i
      ON i.source = :source AND i.external_id = s.invoice_ext
"""
)


# The same without the staged invoices, dropped by their outside id before the ledger is
# read: on a first import that leaves nothing to look up.
_NOT_STAGED_SQL = """
    SELECT i.id FROM stage_payments s {j} invoices i
      ON i.source = :source AND i.external_id = s.invoice_ext
     WHERE NOT EXISTS (SELECT 1 FROM stage_invoices si WHERE si.external_id = s.invoice_ext)
    UNION SELECT i.id FROM stage_credit_notes s {j} invoices i
      ON i.source = :source AND i.external_id = s.invoice_ext
     WHERE NOT EXISTS (SELECT 1 FROM stage_invoices si WHERE si.external_id = s.invoice_ext)
"""


def refresh_touched(conn: Connection, *, source: str, settled: bool = False) -> list[OverApplied]:
    """Refresh settlement of the invoices the staged rows may have changed.

    `settled`: the staged invoices were written with `upsert(..., settle=True)` after all
    their payments and credit notes were staged, so only the others need the refresh; the
    staged ones still need their dated sums."""
    j = driven_join(conn.dialect.name)
    params: dict[str, object] = {"source": source}
    if not settled:
        return refresh_selected(conn, _TOUCHED_SQL.format(j=j), params)
    found = refresh_selected(conn, _NOT_STAGED_SQL.format(j=j), params)
    terms_selected(conn, _STAGED_SQL.format(j=j), params)
    return sorted([*found, *staged_over_applied(conn, source=source)], key=lambda o: o.invoice_id)


# Tables a big import fills, whose secondary indexes it may rebuild instead of maintaining,
# and the fewest staged rows for which that pays.
BULK_TABLES = ("invoices", "payments", "credit_notes")
BULK_MIN_ROWS = 10_000


def defer_indexes(conn: Connection) -> list[Deferred]:
    """Drop the ledger's secondary indexes (and PostgreSQL's foreign keys and unique
    constraints) when the staged rows outnumber the rows already there, for `db.bulk.restore`
    to build again after; the tables in BULK_TABLES are then locked until the import ends,
    so it upserts them `alone` (db.upserts).

    Maintaining six B-trees row by row, and a foreign-key trigger per row and key on
    PostgreSQL, is most of a big import's database time; building each index once from
    sorted rows, and checking each key with one join, costs a fraction. When the ledger is
    already large the rebuild would cost more than it saves, so small imports keep them. The
    drop locks the tables until the import commits, which only an import of more rows than
    the ledger holds pays."""
    staged = sum(staged_count(conn, e) for e in BULK_TABLES)
    held = sum(
        int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in BULK_TABLES
    )
    if staged < max(held, BULK_MIN_ROWS):
        return []
    # The per-invoice dated terms (db.ar_sums) grow three rows an invoice with them.
    return defer_secondary(conn, [*BULK_TABLES, "ar_terms"], unique=True)


def blame_line(conn: Connection, invoice_id: int) -> tuple[str, int]:
    """The staged file and line to blame for an over-applied invoice: its last payment or
    credit note in this import, else the invoice's own line."""
    for entity, ref in (
        ("payments", "invoice_ext"),
        ("credit_notes", "invoice_ext"),
        ("invoices", "external_id"),
    ):
        line = conn.execute(
            text(
                f"SELECT max(s.line) FROM stage_{entity} s JOIN invoices i "
                f"ON i.external_id = s.{ref} WHERE i.id = :id"
            ),
            {"id": invoice_id},
        ).scalar_one()
        if line is not None:
            return entity, int(line)
    return "invoices", 0


def analyze_written(conn: Connection, entity: str) -> None:
    """After a bulk write PostgreSQL's statistics still describe the table as it was (empty,
    on a first import), and the next statements join the staged rows against it as if it
    held a handful of rows."""
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"ANALYZE {entity}"))
