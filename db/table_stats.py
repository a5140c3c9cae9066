"""Planner statistics after an import: refreshed for the tables it changed by a good share."""

from __future__ import annotations

from sqlalchemy import Connection, text

ANALYZE_SHARE_PCT = 10  # of a table's rows, as its statistics last counted them


def analyze_changed(conn: Connection, written: dict[str, int]) -> list[str]:
    """Refresh planner statistics of the tables an import changed by a good share, so metrics
    queries pick the right index; the tables analyzed.

    A whole-database ANALYZE reads every index of a million-invoice ledger (seconds on
    SQLite), which a one-row back-dated payment does not need: the statistics still describe
    the table. Tables without statistics (a first import) are always analyzed, like the
    dated sums whenever invoices are.
    """
    stale = [t for t, n in written.items() if n and _needs_analyze(conn, t, n)]
    if "invoices" in stale:
        stale += ["ar_terms", "ar_sums"]
    if conn.dialect.name == "sqlite":
        for table in stale:
            conn.execute(text(f"ANALYZE {table}"))
    elif stale:
        conn.execute(text(f"ANALYZE {', '.join(stale)}"))
    return stale


def _needs_analyze(conn: Connection, table: str, written: int) -> bool:
    counted = _counted_rows(conn, table)
    return counted is None or written * 100 >= ANALYZE_SHARE_PCT * max(counted, 1)


def _counted_rows(conn: Connection, table: str) -> int | None:
    """The table's row count as its planner statistics have it; None without statistics."""
    if conn.dialect.name == "sqlite":
        has_stats = conn.execute(
            text("SELECT 1 FROM main.sqlite_master WHERE name = 'sqlite_stat1'")
        ).first()
        if not has_stats:
            return None
        stat = conn.execute(
            text("SELECT stat FROM main.sqlite_stat1 WHERE tbl = :t AND stat IS NOT NULL LIMIT 1"),
            {"t": table},
        ).scalar()
        return None if not stat else int(str(stat).split()[0])
    tuples = conn.execute(
        text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:t)"), {"t": table}
    ).scalar()
    return None if tuples is None or tuples < 0 else int(tuples)
