"""Keeps `invoices.settled_at` and `applied_minor` true to the dated rows they derive from.

Every write to invoices, payments and credit notes ends here, in its own transaction, so this
is also where the dated sums of db.ar_sums and the ledger version are kept current.

An invoice is open from `issued_at` until the first of: voided, written off, or the moment
its succeeded payments plus credit notes cover its total. Storing that moment lets AR(D)
read only the invoices open around D instead of the whole history (see db.open_amounts).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Column, Connection, Integer, MetaData, Table, text

from db.ar_sums import driven_join, refresh_terms

_meta = MetaData()
_targets = Table(
    "settle_targets", _meta, Column("invoice_id", Integer, primary_key=True), prefixes=["TEMPORARY"]
)


def _least(*exprs: str) -> str:
    """Smallest non-NULL of the SQL expressions (LEAST/MIN differ on NULLs across dialects)."""
    out = exprs[0]
    for e in exprs[1:]:
        out = (
            f"CASE WHEN {out} IS NULL THEN {e} "
            f"WHEN {e} IS NULL OR {out} <= {e} THEN {out} ELSE {e} END"
        )
    return out


_RESULTS_SQL = f"""
CREATE TEMPORARY TABLE settle_results AS
WITH ev AS (
    SELECT p.invoice_id, p.paid_at AS at, p.amount_minor AS amt
      FROM settle_targets t {{join}} payments p ON p.invoice_id = t.invoice_id
     WHERE p.status = 'succeeded'
    UNION ALL
    SELECT c.invoice_id, c.issued_at, c.amount_minor
      FROM settle_targets t {{join}} credit_notes c ON c.invoice_id = t.invoice_id
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
), base AS (
    SELECT i.id AS invoice_id, i.total_minor, i.settled_at AS old_settled_at,
           i.applied_minor AS old_applied_minor, COALESCE(cov.applied, 0) AS applied_minor,
           i.voided_at, i.written_off_at, cov.covered_at,
           CASE WHEN i.total_minor = 0 THEN i.issued_at END AS empty_at
      FROM settle_targets t {{join}} invoices i ON i.id = t.invoice_id
      LEFT JOIN cov ON cov.invoice_id = i.id
)
SELECT invoice_id, total_minor, applied_minor, old_applied_minor, old_settled_at,
       {_least("voided_at", "written_off_at", "covered_at", "empty_at")} AS settled_at
  FROM base
"""

_UPDATE_SQL = """
UPDATE invoices SET settled_at = r.settled_at, applied_minor = r.applied_minor
  FROM settle_results r
 WHERE r.invoice_id = invoices.id
   AND (r.settled_at IS DISTINCT FROM r.old_settled_at OR r.applied_minor <> r.old_applied_minor)
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
    ids = [{"invoice_id": i} for i in set(invoice_ids)]
    if not ids:
        return []
    _targets.drop(conn, checkfirst=True)
    _targets.create(conn)
    conn.execute(_targets.insert(), ids)
    return _refresh_targets(conn)


def refresh_selected(
    conn: Connection, select_ids: str, params: dict[str, object]
) -> list[OverApplied]:
    """Like refresh_settlement, for the invoice ids a SQL query selects (no ids in Python)."""
    _targets.drop(conn, checkfirst=True)
    _targets.create(conn)
    conn.execute(text(f"INSERT INTO settle_targets (invoice_id) {select_ids}"), params)
    return _refresh_targets(conn)


def rebuild_all(conn: Connection) -> None:
    """Settlement, terms and sums of every invoice from scratch (a new schema, or a check)."""
    conn.execute(text("DELETE FROM ar_terms"))
    conn.execute(text("DELETE FROM ar_sums WHERE kind <> 'ver'"))
    refresh_selected(conn, "SELECT id FROM invoices", {})


def _refresh_targets(conn: Connection) -> list[OverApplied]:
    # Statistics on the targets: without them the planners expect a big table and read every
    # payment (SQLite builds a Bloom filter over them) to refresh one invoice.
    sqlite = conn.dialect.name == "sqlite"
    conn.execute(text("ANALYZE temp.settle_targets" if sqlite else "ANALYZE settle_targets"))
    conn.execute(text("DROP TABLE IF EXISTS settle_results"))
    conn.execute(text(_RESULTS_SQL.format(join=driven_join(conn.dialect.name))))
    conn.execute(text(_UPDATE_SQL))
    refresh_terms(conn)
    over = conn.execute(
        text(
            "SELECT i.id, i.external_id, i.currency, i.total_minor, r.applied_minor "
            "FROM settle_results r JOIN invoices i ON i.id = r.invoice_id "
            "WHERE r.applied_minor > r.total_minor ORDER BY i.id"
        )
    )
    found = [OverApplied(int(a), str(b), str(c), int(d), int(e)) for a, b, c, d, e in over]
    conn.execute(text("DROP TABLE settle_results"))
    _targets.drop(conn)
    return found
