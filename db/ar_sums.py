"""AR, credit sales and dunning attempts kept as dated sums, so a metric at any as-of date reads
a few thousand rows instead of a million invoices.

Every invoice adds a few signed terms to `ar_sums` (kind, currency, key date, instants, amount,
count); a metric at cut-off c sums the terms whose instants fall on the right side of c:

- `open`: key = due date. +total when issued, -what is applied (payments, credit notes) when
  applied, -what is left when settled (void, write-off, fully covered), +1/-1 invoice at
  issue/settlement. AR at c per currency and due date = the sum of terms with `at < c`: the
  open-amount formula of db.open_amounts, written as a running sum.
- `sale`: +total at issue until voided (`until_at`), -amount of each credit note at its date.
  Credit sales in [start, c) = terms with `start <= at < c` and `until_at >= c`.
- `dun`: one term per failed payment attempt f on an invoice, with the previous attempt as
  `since_at` and the moment payments and credits covered the invoice as `until_at`. Invoices
  with an attempt in [start, c) = terms with `since_at < start <= at < c` (each invoice's
  attempts cut time into intervals, so it counts once); recovered ones have `until_at < c`.

Instants are floored to 15 minutes: every cut-off is a midnight in some time zone, and every
zone's offset is a whole number of quarter hours, so `floor(t) < c` exactly when `t < c`, and
the sums hold for any company time zone without knowing it.

An invoice shadowed by its row in a source of higher rank (tools.ledger_record) has no terms:
which rows count is decided when links are derived, so no read filters sources.

The terms of each invoice are also kept per invoice in `ar_terms`. `refresh_terms` runs inside
db.settlement's refresh, the one step every write to invoices, payments and credit notes goes
through, in the same transaction: it takes the refreshed invoices' old terms out of the sums and
puts their new ones in, so a back-dated payment, void or credit note changes every affected date
at once. The same step bumps the ledger version (a row of kind `ver`) that whole answers are
cached against.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    case,
    func,
    select,
    text,
)
from sqlalchemy.orm import Session

from db.models import ArSum
from db.open_amounts import OpenGroup, position
from db.types import UTCDateTime

KEY = "kind, currency, key_on, at, since_at, until_at"
_SENTINELS = {
    "sqlite": ("'0001-01-01 00:00:00.000000'", "'9999-12-31 00:00:00.000000'", "'0001-01-01'"),
    "postgresql": (
        "TIMESTAMPTZ '0001-01-01 00:00:00+00'",
        "TIMESTAMPTZ '9999-12-31 00:00:00+00'",
        "DATE '0001-01-01'",
    ),
}


def _floor(dialect: str, col: str) -> str:
    """The column's instant floored to a quarter hour (NULL stays NULL)."""
    if dialect == "sqlite":  # stored as 'YYYY-MM-DD HH:MM:SS[.ffffff]', naive UTC
        return (
            f"(substr({col}, 1, 14) || printf('%02d', CAST(substr({col}, 15, 2) AS INTEGER)"
            f" / 15 * 15) || '\\:00.000000')"  # backslash: a colon, not a text() parameter
        )
    return f"to_timestamp(floor(extract(epoch FROM {col}) / 900) * 900)"


def driven_join(dialect: str) -> str:
    """A join that reads the refreshed invoices first: SQLite has no statistics on the temporary
    table of targets and would otherwise scan a million payments to refresh one invoice."""
    return "CROSS JOIN" if dialect == "sqlite" else "JOIN"


def _terms_sql(dialect: str, into: str = "terms_new") -> str:
    """The new terms of the invoices in `settle_targets`, one row per invoice and key."""
    low, high, no_day = _SENTINELS[dialect]

    def f(col: str) -> str:
        return _floor(dialect, col)

    j = driven_join(dialect)

    return f"""
INSERT INTO {into} (invoice_id, kind, currency, key_on, since_at, at, until_at, amount_minor, n)
WITH inv AS (
    SELECT i.id, i.currency, i.due_on, i.total_minor AS total,
           {f("i.issued_at")} AS born, {f("i.settled_at")} AS gone, {f("i.voided_at")} AS voided
      FROM settle_targets t {j} invoices i ON i.id = t.invoice_id
     WHERE NOT i.shadowed
), app AS (
    SELECT p.invoice_id, {f("p.paid_at")} AS at, p.amount_minor AS amt
      FROM settle_targets t {j} payments p ON p.invoice_id = t.invoice_id
     WHERE p.status = 'succeeded'
    UNION ALL
    SELECT c.invoice_id, {f("c.issued_at")}, c.amount_minor
      FROM settle_targets t {j} credit_notes c ON c.invoice_id = t.invoice_id
), live AS (
    SELECT * FROM inv WHERE gone IS NULL OR gone > born
), paid AS (
    SELECT l.id, l.currency, l.due_on, l.born, l.gone, a.at, a.amt
      FROM live l JOIN app a ON a.invoice_id = l.id WHERE l.gone IS NULL OR a.at < l.gone
), opens AS (
    SELECT id, currency, due_on, born AS at, total AS amount, 1 AS n FROM live
    UNION ALL
    SELECT id, currency, due_on, gone, -total, -1 FROM live WHERE gone IS NOT NULL
    UNION ALL
    SELECT id, currency, due_on, CASE WHEN at > born THEN at ELSE born END, -amt, 0 FROM paid
    UNION ALL
    SELECT id, currency, due_on, gone, amt, 0 FROM paid WHERE gone IS NOT NULL
), failed AS (
    SELECT p.invoice_id, {f("p.paid_at")} AS at
      FROM settle_targets t {j} payments p ON p.invoice_id = t.invoice_id
     WHERE p.status = 'failed'
), attempts AS (
    SELECT invoice_id, at,
           LAG(at) OVER (PARTITION BY invoice_id ORDER BY at) AS prev
      FROM (SELECT DISTINCT invoice_id, at FROM failed) x
), running AS (
    SELECT a.invoice_id, a.at, SUM(a.amt) OVER (PARTITION BY a.invoice_id ORDER BY a.at) AS cum
      FROM app a WHERE a.invoice_id IN (SELECT invoice_id FROM failed)
), covered AS (
    SELECT i.id, CASE WHEN i.total <= 0 THEN {low} ELSE MIN(r.at) END AS at
      FROM inv i LEFT JOIN running r ON r.invoice_id = i.id AND r.cum >= i.total
     WHERE i.id IN (SELECT invoice_id FROM failed)
     GROUP BY i.id, i.total
)
SELECT id AS invoice_id, 'open' AS kind, currency, due_on AS key_on, {low} AS since_at, at,
       {high} AS until_at, amount AS amount_minor, n
  FROM opens
UNION ALL
SELECT id, 'sale', currency, {no_day}, {low}, born, COALESCE(voided, {high}), total, 1
  FROM inv
UNION ALL
SELECT c.invoice_id, 'sale', c.currency, {no_day}, {low}, {f("c.issued_at")}, {high},
       -SUM(c.amount_minor), 0
  FROM inv {j} credit_notes c ON c.invoice_id = inv.id
 GROUP BY c.invoice_id, c.currency, {f("c.issued_at")}
UNION ALL
SELECT a.invoice_id, 'dun', i.currency, {no_day}, COALESCE(a.prev, {low}), a.at,
       COALESCE(c.at, {high}), 0, 1
  FROM attempts a JOIN inv i ON i.id = a.invoice_id JOIN covered c ON c.id = a.invoice_id
"""


def _scratch(name: str, *columns: Column[Any]) -> Table:
    cells: list[Column[Any]] = [
        Column("kind", String),
        Column("currency", String),
        Column("key_on", Date),
        Column("at", UTCDateTime()),
        Column("since_at", UTCDateTime()),
        Column("until_at", UTCDateTime()),
        Column("amount_minor", BigInteger),
        Column("n", Integer),
    ]
    return Table(name, _meta, *columns, *cells, prefixes=["TEMPORARY"])


# Scratch tables of `refresh_terms`, created once per database connection by db.settlement
# with its own (a page of a Stripe backfill would otherwise write the catalogue four times).
_meta = MetaData()
SCRATCH = (
    _scratch("terms_new", Column("invoice_id", Integer)),
    _scratch("terms_delta"),
)


def refresh_terms(conn: Connection) -> None:
    """Replace the terms of the invoices in `settle_targets` (old out, new in) and bump the
    ledger version; called by db.settlement in the writing transaction, which gives the
    SCRATCH tables empty and empties them after."""
    dialect = conn.dialect.name
    rewritten = "SELECT invoice_id FROM settle_targets"
    old = conn.execute(text(f"SELECT 1 FROM ar_terms WHERE invoice_id IN ({rewritten}) LIMIT 1"))
    # New invoices (a first import) have no old terms to take back.
    had_terms = old.first() is not None
    if dialect == "sqlite" and not had_terms:
        _add_terms(conn)
        return
    conn.execute(text(_terms_sql(dialect)))
    terms = f"SELECT {KEY}, amount_minor, n FROM terms_new"
    if had_terms:
        terms += (
            f" UNION ALL SELECT {KEY}, -amount_minor, -n FROM ar_terms "
            f"WHERE invoice_id IN ({rewritten})"
        )
    # The change per cell, summed once: written with one upsert (PostgreSQL refuses to update
    # a row twice in a statement), and the cells it changed are the only ones that can have
    # become zero.
    _sum_delta(conn, terms)
    if had_terms:
        conn.execute(text(f"DELETE FROM ar_terms WHERE invoice_id IN ({rewritten})"))
    _apply_delta(conn)
    conn.execute(
        text(
            f"INSERT INTO ar_terms (invoice_id, {KEY}, amount_minor, n) "
            f"SELECT invoice_id, {KEY}, amount_minor, n FROM terms_new"
        )
    )
    _drop_zero_cells(conn)
    bump_version(conn)


def _add_terms(conn: Connection) -> None:
    """`refresh_terms` for invoices without terms yet, on SQLite: the new terms go straight
    into ar_terms, and the sums are grown from the rows just added there, found as those
    above the highest id before. A first import of a million invoices writes three million
    terms, and passing them through terms_new wrote and read them twice. SQLite admits one
    writer at a time, so no other transaction's rows can be among them."""
    last = int(conn.execute(text("SELECT coalesce(max(id), 0) FROM ar_terms")).scalar_one())
    conn.execute(text(_terms_sql("sqlite", into="ar_terms")))
    _sum_delta(conn, f"SELECT {KEY}, amount_minor, n FROM ar_terms WHERE id > {last}")
    _apply_delta(conn)
    _drop_zero_cells(conn)
    bump_version(conn)


def _sum_delta(conn: Connection, terms: str) -> None:
    conn.execute(
        text(
            f"INSERT INTO terms_delta ({KEY}, amount_minor, n) "
            f"SELECT {KEY}, SUM(amount_minor), SUM(n) FROM ({terms}) t GROUP BY {KEY} "
            "HAVING SUM(amount_minor) <> 0 OR SUM(n) <> 0"
        )
    )


def _apply_delta(conn: Connection) -> None:
    conn.execute(
        text(
            f"INSERT INTO ar_sums ({KEY}, amount_minor, n) "
            f"SELECT {KEY}, amount_minor, n FROM terms_delta WHERE true "
            f"ON CONFLICT ({KEY}) DO UPDATE SET amount_minor = ar_sums.amount_minor + "
            "excluded.amount_minor, n = ar_sums.n + excluded.n"
        )
    )


def _drop_zero_cells(conn: Connection) -> None:
    conn.execute(
        text(
            f"DELETE FROM ar_sums WHERE amount_minor = 0 AND n = 0 AND kind <> 'ver' "
            f"AND ({KEY}) IN (SELECT {KEY} FROM terms_delta)"
        )
    )


def bump_version(conn: Connection) -> None:
    low, _, no_day = _SENTINELS[conn.dialect.name]
    bumped = conn.execute(text("UPDATE ar_sums SET n = n + 1 WHERE kind = 'ver'")).rowcount
    if not bumped:
        conn.execute(
            text(
                f"INSERT INTO ar_sums ({KEY}, amount_minor, n) "
                f"VALUES ('ver', '', {no_day}, {low}, {low}, {low}, 0, 1)"
            )
        )


def ledger_version(session: Session) -> int:
    """A number that changes with every write to the ledger (0 for an empty ledger)."""
    found = session.execute(text("SELECT n FROM ar_sums WHERE kind = 'ver'")).scalar()
    return int(found or 0)


def open_sums_at(
    session: Session, cuts: Sequence[datetime], *, currency: str | None = None
) -> list[list[OpenGroup]]:
    """Open amounts and invoice counts per currency and due date at each cut-off, in the order
    given: the `open` terms before it, summed per currency and due date.

    Up to two cut-offs (a report) read the sums once each in key order; more (a trend) read
    them once, grouped by where each term falls among the cut-offs, and add up in Python.
    """
    bounds = sorted(set(cuts))
    per_bound = (
        [_open_before(session, cut, currency) for cut in bounds]
        if len(bounds) <= 2
        else _open_before_each(session, bounds, currency)
    )
    return [per_bound[bounds.index(c)] for c in cuts]


def _open_before(session: Session, cut: datetime, currency: str | None) -> list[OpenGroup]:
    query = (
        select(ArSum.currency, ArSum.key_on, func.sum(ArSum.amount_minor), func.sum(ArSum.n))
        .where(ArSum.kind == "open", ArSum.at < cut)
        .group_by(ArSum.currency, ArSum.key_on)
    )
    if currency is not None:
        query = query.where(ArSum.currency == currency)
    return [
        OpenGroup(cur, due, None, int(amount), int(count))
        for cur, due, amount, count in session.execute(query)
        if amount or count
    ]


def _open_before_each(
    session: Session, bounds: list[datetime], currency: str | None
) -> list[list[OpenGroup]]:
    born = position(ArSum.at, bounds)  # how many cut-offs are <= the term's instant
    query = (
        select(ArSum.currency, ArSum.key_on, born, func.sum(ArSum.amount_minor), func.sum(ArSum.n))
        .where(ArSum.kind == "open", ArSum.at < bounds[-1])
        .group_by(ArSum.currency, ArSum.key_on, born)
    )
    if currency is not None:
        query = query.where(ArSum.currency == currency)
    steps: list[dict[tuple[str, Any], list[int]]] = [{} for _ in bounds]
    for cur, due, k, amount, count in session.execute(query):
        steps[k][(cur, due)] = [int(amount), int(count)]
    running: dict[tuple[str, Any], list[int]] = {}
    per_bound: list[list[OpenGroup]] = []
    for step in steps:  # a term at position k counts at every cut-off from k on
        for key, (amount, count) in step.items():
            acc = running.setdefault(key, [0, 0])
            acc[0] += amount
            acc[1] += count
        per_bound.append(
            [
                OpenGroup(cur, due, None, amount, count)
                for (cur, due), (amount, count) in running.items()
                if amount or count
            ]
        )
    return per_bound


def credit_sales_in(
    session: Session, windows: Sequence[tuple[datetime, datetime]], *, currency: str | None = None
) -> list[dict[str, int]]:
    """Credit sales per currency in each [start, cut) window: invoices issued in it and not voided
    before the cut, minus credit notes dated in it."""
    out = []
    for start, cut in windows:
        query = (
            select(ArSum.currency, func.sum(ArSum.amount_minor))
            .where(ArSum.kind == "sale", ArSum.at >= start, ArSum.at < cut, ArSum.until_at >= cut)
            .group_by(ArSum.currency)
        )
        if currency is not None:
            query = query.where(ArSum.currency == currency)
        out.append({cur: int(total) for cur, total in session.execute(query) if total})
    return out


def dunning_counts(
    session: Session, start: datetime, cut: datetime, *, currency: str | None = None
) -> tuple[int, int]:
    """(invoices with a failed payment attempt in [start, cut), of those covered by the cut)."""
    recovered = case((ArSum.until_at < cut, ArSum.n), else_=0)
    query = select(
        func.coalesce(func.sum(ArSum.n), 0), func.coalesce(func.sum(recovered), 0)
    ).where(ArSum.kind == "dun", ArSum.at >= start, ArSum.at < cut, ArSum.since_at < start)
    if currency is not None:
        query = query.where(ArSum.currency == currency)
    attempted, covered = session.execute(query).one()
    return int(attempted), int(covered)
