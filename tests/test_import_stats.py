"""After an import the planner's statistics describe the ledger: a first import gathers them,
a small back-dated payment leaves them as they are (they still describe the table), and an
import that grows a table by a good share refreshes that table's."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import sqlalchemy as sa

from tests.ledger_files import customer, invoice, payment, write_csvs
from tools.csv_import import import_directory
from tools.deps import ToolDeps
from tools.metrics import ar_metrics_and_trend


def counted_rows(deps: ToolDeps, table: str) -> int | None:
    """The row count the planner's statistics give for the table."""
    with deps.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            stat = conn.execute(
                sa.text("SELECT stat FROM main.sqlite_stat1 WHERE tbl = :t LIMIT 1"), {"t": table}
            ).scalar()
            return None if stat is None else int(str(stat).split()[0])
        tuples = conn.execute(
            sa.text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:t)"), {"t": table}
        ).scalar()
        return None if tuples is None else int(tuples)


def ar_total(deps: ToolDeps) -> int:
    with deps.sessions() as session:
        (report,), _ = ar_metrics_and_trend(
            session,
            [date(2026, 9, 30)],
            [],
            period_days=90,
            tz=deps.settings.tz,
            reporting_currency="USD",
        )
    return report.ar_total_minor


def test_statistics_follow_the_size_of_each_import(deps: ToolDeps, tmp_path: Path) -> None:
    invoices = [invoice(f"I{k}", "100.00", "2026-06-01", "2026-07-01") for k in range(20)]
    payments = [payment(f"P{k}", f"I{k}", "10.00", "2026-06-10") for k in range(20)]
    base = write_csvs(
        tmp_path / "base", customers=[customer("C1")], invoices=invoices, payments=payments
    )
    import_directory(deps.engine, base, tz=deps.settings.tz)
    assert counted_rows(deps, "invoices") == 20
    assert counted_rows(deps, "payments") == 20
    assert ar_total(deps) == 20 * 9000

    one = write_csvs(tmp_path / "one", payments=[payment("LATE", "I3", "5.00", "2026-06-02")])
    import_directory(deps.engine, one, tz=deps.settings.tz)
    assert counted_rows(deps, "payments") == 20  # one row in twenty-one: not worth a re-read
    assert ar_total(deps) == 20 * 9000 - 500  # the back-dated payment counts all the same

    more = [payment(f"Q{k}", f"I{k}", "1.00", "2026-06-20") for k in range(5)]
    import_directory(deps.engine, write_csvs(tmp_path / "more", payments=more), tz=deps.settings.tz)
    assert counted_rows(deps, "payments") == 26
    assert counted_rows(deps, "invoices") == 20
