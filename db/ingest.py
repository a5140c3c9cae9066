"""Idempotent bulk upserts of outside rows (CSV exports, Stripe) into the ledger.

Rows are first loaded into temporary staging tables, then checked and upserted with one
`INSERT ... SELECT ... ON CONFLICT` per table. Everything happens on one connection inside
one transaction, so a caller that finds a problem rolls back and nothing is half-applied;
memory stays flat however big the file is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    text,
)
from sqlalchemy.schema import CreateTable

from db.bulk import Deferred, defer_secondary, write_rows
from db.settlement import (
    OverApplied,
    refresh_selected,
    settle_staged,
    staged_over_applied,
    terms_selected,
)
from db.stages import STAGES

# Target column -> SQL expression over the staging row `s` and the joined rows `c`
# (customer) and `i` (invoice). Joins resolve outside ids to ledger ids.
_CUSTOMER_JOIN = "JOIN customers c ON c.source = :source AND c.external_id = s.customer_ext"
_INVOICE_JOIN = "JOIN invoices i ON i.source = :source AND i.external_id = s.invoice_ext"
_UPSERTS: dict[str, tuple[str, dict[str, str]]] = {
    "customers": (
        "",
        {
            col: f"s.{col}"
            for col in [
                "name",
                "email",
                "ap_email",
                "segment",
                "payment_terms_days",
                "currency",
                "credit_limit_minor",
                "owner_slack_id",
            ]
        },
    ),
    "invoices": (
        _CUSTOMER_JOIN,
        {"customer_id": "c.id"}
        | {
            col: f"s.{col}"
            for col in [
                "number",
                "currency",
                "total_minor",
                "issued_at",
                "due_on",
                "voided_at",
                "written_off_at",
                "payment_url",
            ]
        },
    ),
    "payments": (
        _CUSTOMER_JOIN
        + " LEFT JOIN invoices i ON i.source = :source AND i.external_id = s.invoice_ext",
        {"customer_id": "c.id", "invoice_id": "i.id"}
        | {
            col: f"s.{col}"
            for col in ["amount_minor", "currency", "paid_at", "status", "method", "failure_reason"]
        },
    ),
    "credit_notes": (
        _INVOICE_JOIN,
        {"invoice_id": "i.id", "amount_minor": "s.amount_minor", "currency": "s.currency"}
        | {"issued_at": "s.issued_at"},
    ),
    "disputes": (
        _CUSTOMER_JOIN
        + " LEFT JOIN invoices i ON i.source = :source AND i.external_id = s.invoice_ext",
        {"customer_id": "c.id", "invoice_id": "i.id"}
        | {
            col: f"s.{col}"
            for col in [
                "amount_minor",
                "currency",
                "kind",
                "reason",
                "opened_at",
                "resolved_at",
                "outcome",
                "evidence_due_at",
            ]
        },
    ),
}


_DERIVED = ("settled_at", "applied_minor")


@dataclass(frozen=True)
class UpsertCounts:
    new: int
    changed: int
    unchanged: int


def create_stages(conn: Connection) -> None:
    """Empty staging tables, without their indexes: `index_stage` adds those once the rows are
    in, which costs a third of indexing them row by row."""
    for table in STAGES.values():
        table.drop(conn, checkfirst=True)
        conn.execute(CreateTable(table))


def index_stage(conn: Connection, entity: str) -> None:
    for index in STAGES[entity].indexes:
        index.create(conn)


def drop_stages(conn: Connection) -> None:
    for table in STAGES.values():
        table.drop(conn, checkfirst=True)


def stage_rows(conn: Connection, entity: str, rows: Sequence[Mapping[str, Any]]) -> None:
    columns = [c.name for c in STAGES[entity].columns]
    stage_tuples(conn, entity, [tuple(row.get(c) for c in columns) for row in rows])


def stage_tuples(conn: Connection, entity: str, rows: Sequence[Sequence[Any]]) -> None:
    """Stage rows given as values in the staging table's column order (`line` first)."""
    if not rows:
        return
    write_rows(conn, STAGES[entity], rows)


def staged_count(conn: Connection, entity: str) -> int:
    return int(conn.execute(text(f"SELECT count(*) FROM stage_{entity}")).scalar_one())


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
                join + "WHERE i.currency <> s.currency",
                "'currency ' || s.currency || ' differs from invoice ' || s.invoice_ext "
                "|| ' in ' || i.currency",
            )
        )
        if "customer_ext" in cols:
            checks.append(
                (
                    join + "JOIN customers ic ON ic.id = i.customer_id "
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


def upsert(conn: Connection, entity: str, *, source: str, settle: bool = False) -> UpsertCounts:
    """Insert new rows and update changed ones; unchanged rows are not rewritten.

    `settle` (invoices, once every payment and credit note is staged): write each invoice with
    its settlement computed from the staged and stored rows, see `settle_staged`."""
    if entity == "fx_rates":
        return _upsert_fx(conn)
    joins, exprs = _UPSERTS[entity]
    if entity == "invoices" and settle:
        settle_staged(conn, source=source)
        joins += " LEFT JOIN settle_staged pre ON pre.invoice_ext = s.external_id"
        exprs = exprs | {c: f"pre.{c}" for c in _DERIVED}
    cols = list(exprs)
    select = (
        "SELECT :source AS source, s.external_id, "
        + ", ".join(f"{e} AS {c}" for c, e in exprs.items())
        + f" FROM stage_{entity} s {joins}"
    )
    params = {"source": source}
    join_target = (
        f"FROM ({select}) x LEFT JOIN {entity} t "
        "ON t.source = x.source AND t.external_id = x.external_id"
    )
    new = conn.execute(text(f"SELECT count(*) {join_target} WHERE t.id IS NULL"), params)
    new_rows = int(new.scalar_one())
    own = [c for c in cols if c not in _DERIVED]
    own_differs = " OR ".join(f"t.{c} IS DISTINCT FROM x.{c}" for c in own)
    total = staged_count(conn, entity)
    changed_own = None
    if len(own) < len(cols) and new_rows == total:
        changed_own = 0  # all new (a first import): nothing to compare
    elif len(own) < len(cols):
        # Settlement is written whenever it differs, but a row counts as changed only when
        # its own fields do: a new payment does not change the invoice's line in the file.
        changed_own = conn.execute(
            text(f"SELECT count(*) {join_target} WHERE t.id IS NOT NULL AND ({own_differs})"),
            params,
        ).scalar_one()
    differs = " OR ".join(f"{entity}.{c} IS DISTINCT FROM excluded.{c}" for c in cols)
    result = conn.execute(
        text(
            f"INSERT INTO {entity} (source, external_id, {', '.join(cols)}) {select} WHERE true "
            f"ON CONFLICT (source, external_id) DO UPDATE SET "
            f"{', '.join(f'{c} = excluded.{c}' for c in cols)} WHERE {differs}"
        ),
        params,
    )
    written = max(result.rowcount, 0)
    changed = written - new_rows if changed_own is None else int(changed_own)
    return UpsertCounts(new=new_rows, changed=changed, unchanged=total - new_rows - changed)


def _upsert_fx(conn: Connection) -> UpsertCounts:
    new = conn.execute(
        text(
            "SELECT count(*) FROM stage_fx_rates s LEFT JOIN fx_rates t "
            "ON t.currency = s.currency AND t.rate_on = s.rate_on WHERE t.id IS NULL"
        )
    ).scalar_one()
    result = conn.execute(
        text(
            "INSERT INTO fx_rates (currency, rate_on, rate) "
            "SELECT currency, rate_on, rate FROM stage_fx_rates WHERE true "
            "ON CONFLICT (currency, rate_on) DO UPDATE SET rate = excluded.rate "
            "WHERE fx_rates.rate <> excluded.rate"
        )
    )
    written = max(result.rowcount, 0)
    total = staged_count(conn, "fx_rates")
    return UpsertCounts(new=int(new), changed=written - int(new), unchanged=total - written)


_STAGED_SQL = """
    SELECT i.id FROM invoices i JOIN stage_invoices s
      ON i.source = :source AND i.external_id = s.external_id
"""

_TOUCHED_SQL = (
    _STAGED_SQL
    + """
    UNION SELECT i.id FROM invoices i JOIN stage_payments s
      ON i.source = :source AND i.external_id = s.invoice_ext
    UNION SELECT i.id FROM invoices i JOIN stage_credit_notes s
      ON i.source = :source AND i.external_id = s.invoice_ext
"""
)


# The same without the staged invoices, dropped by their outside id before the ledger is
# read: on a first import that leaves nothing to look up.
_NOT_STAGED_SQL = """
    SELECT i.id FROM invoices i JOIN stage_payments s
      ON i.source = :source AND i.external_id = s.invoice_ext
     WHERE NOT EXISTS (SELECT 1 FROM stage_invoices si WHERE si.external_id = s.invoice_ext)
    UNION SELECT i.id FROM invoices i JOIN stage_credit_notes s
      ON i.source = :source AND i.external_id = s.invoice_ext
     WHERE NOT EXISTS (SELECT 1 FROM stage_invoices si WHERE si.external_id = s.invoice_ext)
"""


def refresh_touched(conn: Connection, *, source: str, settled: bool = False) -> list[OverApplied]:
    """Refresh settlement of the invoices the staged rows may have changed.

    `settled`: the staged invoices were written with `upsert(..., settle=True)` after all
    their payments and credit notes were staged, so only the others need the refresh; the
    staged ones still need their dated sums."""
    if not settled:
        return refresh_selected(conn, _TOUCHED_SQL, {"source": source})
    found = refresh_selected(conn, _NOT_STAGED_SQL, {"source": source})
    terms_selected(conn, _STAGED_SQL, {"source": source})
    return sorted([*found, *staged_over_applied(conn, source=source)], key=lambda o: o.invoice_id)


# Tables a big import fills, whose secondary indexes it may rebuild instead of maintaining,
# and the fewest staged rows for which that pays.
_BULK_TABLES = ("invoices", "payments", "credit_notes")
BULK_MIN_ROWS = 10_000


def defer_indexes(conn: Connection) -> list[Deferred]:
    """Drop the ledger's secondary indexes (and PostgreSQL's foreign keys) when the staged
    rows outnumber the rows already there, for `db.bulk.restore` to build again after.

    Maintaining six B-trees row by row, and a foreign-key trigger per row and key on
    PostgreSQL, is most of a big import's database time; building each index once from
    sorted rows, and checking each key with one join, costs a fraction. When the ledger is
    already large the rebuild would cost more than it saves, so small imports keep them. The
    drop locks the tables until the import commits, which only an import of more rows than
    the ledger holds pays."""
    staged = sum(staged_count(conn, e) for e in _BULK_TABLES)
    held = sum(
        int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in _BULK_TABLES
    )
    if staged < max(held, BULK_MIN_ROWS):
        return []
    return defer_secondary(conn, _BULK_TABLES)


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
