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

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    Table,
    event,
    text,
)
from sqlalchemy.schema import CreateTable

from db.ar_sums import SCRATCH, driven_join, refresh_terms
from db.bulk import empty
from db.types import UTCDateTime

# Temporary tables live as long as the database connection and are emptied after each use:
# creating and dropping them per refresh writes the catalogue every time, which a backfill
# refreshing settlement once per page of 100 objects pays thousands of times.
_meta = MetaData()
_targets = Table(
    "settle_targets", _meta, Column("invoice_id", Integer, primary_key=True), prefixes=["TEMPORARY"]
)
_results = Table(
    "settle_results",
    _meta,
    Column("invoice_id", Integer, primary_key=True),
    Column("total_minor", BigInteger),
    Column("applied_minor", BigInteger),
    Column("old_applied_minor", BigInteger),
    Column("old_settled_at", UTCDateTime()),
    Column("settled_at", UTCDateTime()),
    prefixes=["TEMPORARY"],
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
INSERT INTO settle_results
      (invoice_id, total_minor, applied_minor, old_applied_minor, old_settled_at, settled_at)
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

_CHANGED = (
    "r.settled_at IS DISTINCT FROM r.old_settled_at OR r.applied_minor <> r.old_applied_minor"
)
# SQLite plans UPDATE ... FROM as a scan of every invoice probing the results, a cost that grows
# with the ledger on every write; there the invoices are reached by id from the changed results.
_UPDATE_SQL = {
    "postgresql": f"""
UPDATE invoices SET settled_at = r.settled_at, applied_minor = r.applied_minor
  FROM settle_results r
 WHERE r.invoice_id = invoices.id AND ({_CHANGED})
""",
    "sqlite": f"""
UPDATE invoices SET (settled_at, applied_minor) = (
       SELECT r.settled_at, r.applied_minor FROM settle_results r WHERE r.invoice_id = invoices.id)
 WHERE id IN (SELECT r.invoice_id FROM settle_results r WHERE {_CHANGED})
""",
}


_STAGED_SQL = f"""
CREATE TEMPORARY TABLE settle_staged AS
WITH ev AS (
    SELECT s.invoice_ext AS ext, s.paid_at AS at, s.amount_minor AS amt
      FROM stage_payments s WHERE s.status = 'succeeded' AND s.invoice_ext IS NOT NULL
    UNION ALL
    SELECT s.invoice_ext, s.issued_at, s.amount_minor FROM stage_credit_notes s
    UNION ALL
    SELECT i.external_id, p.paid_at, p.amount_minor
      FROM stage_invoices si
      JOIN invoices i ON i.source = :source AND i.external_id = si.external_id
      JOIN payments p ON p.invoice_id = i.id
     WHERE p.status = 'succeeded' AND NOT (p.source = :source AND EXISTS (
           SELECT 1 FROM stage_payments sp WHERE sp.external_id = p.external_id))
    UNION ALL
    SELECT i.external_id, c.issued_at, c.amount_minor
      FROM stage_invoices si
      JOIN invoices i ON i.source = :source AND i.external_id = si.external_id
      JOIN credit_notes c ON c.invoice_id = i.id
     WHERE NOT (c.source = :source AND EXISTS (
           SELECT 1 FROM stage_credit_notes sc WHERE sc.external_id = c.external_id))
), mine AS (
    SELECT ev.ext, ev.at, ev.amt, si.total_minor
      FROM ev JOIN stage_invoices si ON si.external_id = ev.ext
), run AS (
    SELECT ext, at, total_minor, SUM(amt) OVER (
        PARTITION BY ext ORDER BY at ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS cum FROM mine
), cov AS (
    SELECT ext, MIN(CASE WHEN cum >= total_minor THEN at END) AS covered_at,
           MAX(cum) AS applied
      FROM run GROUP BY ext
)
SELECT si.external_id AS invoice_ext, COALESCE(cov.applied, 0) AS applied_minor,
       {
    _least(
        "si.voided_at",
        "si.written_off_at",
        "cov.covered_at",
        "CASE WHEN si.total_minor = 0 THEN si.issued_at END",
    )
} AS settled_at
  FROM stage_invoices si LEFT JOIN cov ON cov.ext = si.external_id
"""


def settle_staged(conn: Connection, *, source: str) -> None:
    """Compute settled_at and applied_minor of the staged invoices before they are written,
    into `settle_staged`, from the staged payments and credit notes plus those the ledger
    keeps (minus the ones being restaged). The invoice upsert writes them with the rest of
    the row: rewriting a million new invoices afterwards costs as much as inserting them.
    `refresh_selected` still runs after every write, as the check and for invoices whose own
    row is not staged, and then finds nothing to change here."""
    conn.execute(text("DROP TABLE IF EXISTS settle_staged"))
    conn.execute(text(_STAGED_SQL), {"source": source})


def staged_over_applied(conn: Connection, *, source: str) -> list[OverApplied]:
    """The staged invoices `settle_staged` found paid or credited beyond their total."""
    rows = conn.execute(
        text(
            "SELECT i.id, i.external_id, i.currency, i.total_minor, p.applied_minor "
            "FROM settle_staged p JOIN invoices i "
            "ON i.source = :source AND i.external_id = p.invoice_ext "
            "WHERE p.applied_minor > i.total_minor ORDER BY i.id"
        ),
        {"source": source},
    )
    found = [OverApplied(int(a), str(b), str(c), int(d), int(e)) for a, b, c, d, e in rows]
    conn.execute(text("DROP TABLE settle_staged"))
    return found


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
    _prepare(conn)
    conn.execute(_targets.insert(), ids)
    return _refresh_targets(conn)


def refresh_selected(
    conn: Connection, select_ids: str, params: dict[str, object]
) -> list[OverApplied]:
    """Like refresh_settlement, for the invoice ids a SQL query selects (no ids in Python)."""
    _prepare(conn)
    conn.execute(text(f"INSERT INTO settle_targets (invoice_id) {select_ids}"), params)
    return _refresh_targets(conn)


def rebuild_all(conn: Connection) -> None:
    """Settlement, terms and sums of every invoice from scratch (a new schema, or a check)."""
    conn.execute(text("DELETE FROM ar_terms"))
    conn.execute(text("DELETE FROM ar_sums WHERE kind <> 'ver'"))
    refresh_selected(conn, "SELECT id FROM invoices", {})


_READY = "arbot_settle_tables"
_SCRATCH = [t.name for t in (_targets, _results, *SCRATCH)]


def _prepare(conn: Connection) -> None:
    """Create the temporary tables once per database connection. A rollback may take them
    with it (they may have been created in that transaction), so it also drops the mark."""
    info = conn.connection.info
    if info.get(_READY):
        return
    for table in (_targets, _results, *SCRATCH):
        conn.execute(CreateTable(table, if_not_exists=True))
    if event.contains(conn.engine, "rollback", _forget):  # else ask the database every time
        info[_READY] = True


def watch_rollbacks(engine: Engine) -> None:
    """Called by db.engine for every engine before its first connection: a Connection only
    reports rollbacks to listeners that existed when it was made."""
    for name in ("rollback", "rollback_savepoint"):
        event.listen(engine, name, _forget)


def _forget(conn: Connection, *_args: object) -> None:
    conn.connection.info.pop(_READY, None)


def terms_selected(conn: Connection, select_ids: str, params: dict[str, object]) -> None:
    """Only the dated sums (db.ar_sums) of the invoices a SQL query selects: for invoices
    written with their settlement already computed (`settle_staged`)."""
    _prepare(conn)
    conn.execute(text(f"INSERT INTO settle_targets (invoice_id) {select_ids}"), params)
    _analyze_targets(conn)
    refresh_terms(conn)
    empty(conn, _SCRATCH)


def _analyze_targets(conn: Connection) -> None:
    # Statistics on the targets: without them the planners expect a big table and read every
    # payment (SQLite builds a Bloom filter over them) to refresh one invoice.
    sqlite = conn.dialect.name == "sqlite"
    conn.execute(text("ANALYZE temp.settle_targets" if sqlite else "ANALYZE settle_targets"))


def _refresh_targets(conn: Connection) -> list[OverApplied]:
    _analyze_targets(conn)
    conn.execute(text(_RESULTS_SQL.format(join=driven_join(conn.dialect.name))))
    conn.execute(text(_UPDATE_SQL[conn.dialect.name]))
    refresh_terms(conn)
    over = conn.execute(
        text(
            "SELECT i.id, i.external_id, i.currency, i.total_minor, r.applied_minor "
            f"FROM settle_results r {driven_join(conn.dialect.name)} invoices i "
            "ON i.id = r.invoice_id "
            "WHERE r.applied_minor > r.total_minor ORDER BY i.id"
        )
    )
    found = [OverApplied(int(a), str(b), str(c), int(d), int(e)) for a, b, c, d, e in over]
    empty(conn, _SCRATCH)
    return found
