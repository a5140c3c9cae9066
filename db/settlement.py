"""Keeps `invoices.settled_at` true to the dated rows it is derived from.

An invoice is open from `issued_at` until the first of: voided, written off, or the moment
its succeeded payments plus credit notes cover its total. Storing that moment lets AR(D)
read only the invoices open around D instead of the whole history (see db.metrics_sql).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    column,
    text,
)

from db.types import UTCDateTime

_meta = MetaData()
_targets = Table(
    "settle_targets", _meta, Column("invoice_id", Integer, primary_key=True), prefixes=["TEMPORARY"]
)

_STAMPS = ("issued_at", "voided_at", "written_off_at", "settled_at", "covered_at")

_SETTLEMENT_SQL = """
WITH ev AS (
    SELECT p.invoice_id, p.paid_at AS at, p.amount_minor AS amt
      FROM payments p JOIN settle_targets t ON t.invoice_id = p.invoice_id
     WHERE p.status = 'succeeded'
    UNION ALL
    SELECT c.invoice_id, c.issued_at, c.amount_minor
      FROM credit_notes c JOIN settle_targets t ON t.invoice_id = c.invoice_id
), run AS (
    SELECT invoice_id, at, SUM(amt) OVER (
        PARTITION BY invoice_id ORDER BY at ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS cum FROM ev
), cov AS (
    SELECT run.invoice_id,
           MIN(CASE WHEN run.cum >= i.total_minor THEN run.at END) AS covered_at,
           MAX(run.cum) AS applied
      FROM run JOIN invoices i ON i.id = run.invoice_id
     GROUP BY run.invoice_id
)
SELECT i.id, i.external_id, i.currency, i.total_minor, i.issued_at, i.voided_at,
       i.written_off_at, i.settled_at, cov.covered_at, COALESCE(cov.applied, 0) AS applied
  FROM invoices i JOIN settle_targets t ON t.invoice_id = i.id
  LEFT JOIN cov ON cov.invoice_id = i.id
"""


@dataclass(frozen=True)
class OverApplied:
    invoice_id: int
    external_id: str
    currency: str
    total_minor: int
    applied_minor: int


def refresh_settlement(conn: Connection, invoice_ids: Iterable[int]) -> list[OverApplied]:
    """Recompute settled_at for these invoices; return those paid or credited beyond total."""
    _targets.drop(conn, checkfirst=True)
    _targets.create(conn)
    ids = [{"invoice_id": i} for i in set(invoice_ids)]
    if not ids:
        _targets.drop(conn)
        return []
    conn.execute(_targets.insert(), ids)
    query = text(_SETTLEMENT_SQL).columns(
        column("id", Integer),
        column("external_id", String),
        column("currency", String),
        column("total_minor", BigInteger),
        *(column(c, UTCDateTime()) for c in _STAMPS),
        column("applied", BigInteger),
    )
    over: list[OverApplied] = []
    updates = []
    for row in conn.execute(query).mappings():
        if row["applied"] > row["total_minor"]:
            over.append(
                OverApplied(
                    row["id"],
                    row["external_id"],
                    row["currency"],
                    row["total_minor"],
                    row["applied"],
                )
            )
        stamps = [row["voided_at"], row["written_off_at"], row["covered_at"]]
        if row["total_minor"] == 0:
            stamps.append(row["issued_at"])
        new = min((s for s in stamps if s is not None), default=None)
        if new != row["settled_at"]:
            updates.append({"i": row["id"], "s": new})
    if updates:
        conn.execute(
            text("UPDATE invoices SET settled_at = :s WHERE id = :i").bindparams(
                bindparam("s", type_=UTCDateTime())
            ),
            updates,
        )
    _targets.drop(conn)
    return over
