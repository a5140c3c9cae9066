"""Big imports (more staged rows than the ledger holds) take the bulk path: indexes, foreign keys
and unique constraints rebuilt once, rows upserted without ON CONFLICT. The result must be the
one the row-by-row path gives: right counts, right rows, exact dated sums, nothing on error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from db.ingest import BULK_MIN_ROWS
from db.settlement import rebuild_all
from tests.cli_helpers import arbot
from tests.ledger_files import customer, invoice, payment, write_csvs
from tools.deps import ToolDeps

TABLES = ("invoices", "payments", "credit_notes", "ar_terms")


def schema(deps: ToolDeps) -> dict[str, Any]:
    """Every index, unique constraint and foreign key of the tables a bulk import rebuilds."""
    with deps.engine.connect() as conn:
        seen = sa.inspect(conn)
        return {
            t: (
                sorted((ix["name"], tuple(ix["column_names"])) for ix in seen.get_indexes(t)),
                sorted(
                    (uq["name"], tuple(uq["column_names"])) for uq in seen.get_unique_constraints(t)
                ),
                sorted(
                    (fk["name"] or "", tuple(fk["constrained_columns"]), fk["referred_table"])
                    for fk in seen.get_foreign_keys(t)
                ),
            )
            for t in TABLES
        }


def ledger(deps: ToolDeps) -> dict[str, list[tuple[Any, ...]]]:
    """The rows a person would compare: invoices and payments by outside id, and the sums."""
    with deps.engine.connect() as conn:
        return {
            "invoices": list(
                conn.execute(
                    sa.text(
                        "SELECT external_id, total_minor, voided_at, settled_at, applied_minor "
                        "FROM invoices ORDER BY external_id"
                    )
                )
            ),
            "payments": list(
                conn.execute(
                    sa.text(
                        "SELECT p.external_id, i.external_id, p.amount_minor, p.paid_at "
                        "FROM payments p LEFT JOIN invoices i ON i.id = p.invoice_id "
                        "ORDER BY p.external_id"
                    )
                )
            ),
            "sums": sums(deps),
        }


def sums(deps: ToolDeps) -> list[tuple[Any, ...]]:
    with deps.engine.connect() as conn:
        return list(
            conn.execute(
                sa.text(
                    "SELECT kind, currency, key_on, at, since_at, until_at, amount_minor, n "
                    "FROM ar_sums WHERE kind <> 'ver' AND (amount_minor <> 0 OR n <> 0) "
                    "ORDER BY kind, currency, key_on, at, since_at, until_at"
                )
            )
        )


def recomputed_sums(deps: ToolDeps) -> list[tuple[Any, ...]]:
    """The dated sums rebuilt from every invoice, in a transaction rolled back after."""
    with deps.engine.connect() as conn, conn.begin() as tx:
        rebuild_all(conn)
        rows = list(
            conn.execute(
                sa.text(
                    "SELECT kind, currency, key_on, at, since_at, until_at, amount_minor, n "
                    "FROM ar_sums WHERE kind <> 'ver' AND (amount_minor <> 0 OR n <> 0) "
                    "ORDER BY kind, currency, key_on, at, since_at, until_at"
                )
            )
        )
        tx.rollback()
    return rows


def big(directory: Path, *, changed: bool = False, bad: bool = False) -> Path:
    """BULK_MIN_ROWS invoices, half of them paid. `changed`: invoice I1's total is 20.00,
    I3 is voided and payment P0 pays I0 in full. `bad`: one payment over-applies I0."""
    rows = [invoice(f"I{n}", "10.00", "2026-06-01", "2026-07-01") for n in range(BULK_MIN_ROWS)]
    pays = [payment(f"P{n}", f"I{n}", "10.00", "2026-06-05") for n in range(2, BULK_MIN_ROWS, 2)]
    pays.append(payment("P0", "I0", "10.00" if changed else "4.00", "2026-06-03"))
    if changed:
        rows[1] = invoice("I1", "20.00", "2026-06-01", "2026-07-01")
        rows[3] = invoice("I3", "10.00", "2026-06-01", "2026-07-01", voided_on="2026-06-20")
    if bad:
        pays.append(payment("PX", "I0", "9.00", "2026-06-06"))
    return write_csvs(directory, customers=[customer("C1")], invoices=rows, payments=pays)


def small(directory: Path) -> Path:
    return write_csvs(
        directory,
        customers=[customer("C1")],
        invoices=[invoice(f"I{n}", "10.00", "2026-06-01", "2026-07-01") for n in range(5)],
        payments=[payment("P0", "I0", "4.00", "2026-06-03")],
    )


def test_a_big_import_updates_changed_rows_and_inserts_new_ones_from_one_file(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = schema(deps)
    assert arbot(capsys, "import", str(small(tmp_path / "small"))).code == 0

    run = arbot(capsys, "import", str(big(tmp_path / "big", changed=True)))

    assert run.code == 0, run.err
    assert f"invoices.csv: {BULK_MIN_ROWS - 5} new, 2 changed, 3 unchanged" in run.out
    assert f"payments.csv: {BULK_MIN_ROWS // 2 - 1} new, 1 changed, 0 unchanged" in run.out
    assert schema(deps) == before
    rows = {r[0]: r for r in ledger(deps)["invoices"]}
    assert len(rows) == BULK_MIN_ROWS
    assert rows["I0"][4] == 1000 and str(rows["I0"][3]).startswith("2026-06-03")
    assert rows["I1"][1] == 2000 and rows["I1"][3] is None
    assert str(rows["I3"][2]).startswith("2026-06-20") and rows["I3"][3] == rows["I3"][2]
    assert rows["I2"][4] == 1000 and rows["I4"][4] == 1000
    assert sums(deps) == recomputed_sums(deps)


def test_a_big_reimport_adds_and_changes_nothing(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = big(tmp_path / "big", changed=True)
    assert arbot(capsys, "import", str(files)).code == 0
    first = ledger(deps)

    run = arbot(capsys, "import", str(files))

    assert run.code == 0, run.err
    assert f"invoices.csv: 0 new, 0 changed, {BULK_MIN_ROWS} unchanged" in run.out
    assert f"payments.csv: 0 new, 0 changed, {BULK_MIN_ROWS // 2} unchanged" in run.out
    assert ledger(deps) == first
    assert sums(deps) == recomputed_sums(deps)


def test_a_malformed_big_import_over_a_ledger_writes_nothing_and_keeps_its_constraints(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert arbot(capsys, "import", str(small(tmp_path / "small"))).code == 0
    before, rows = schema(deps), ledger(deps)

    run = arbot(capsys, "import", str(big(tmp_path / "big", changed=True, bad=True)))

    assert run.code == 2
    assert "payments.csv:5002: payments and credit notes on invoice I0 add up to 19.00" in run.err
    assert schema(deps) == before
    assert ledger(deps) == rows
    # The unique constraints are back: the same rows again are recognised, not duplicated.
    again = arbot(capsys, "import", str(small(tmp_path / "small")))
    assert "invoices.csv: 0 new, 0 changed, 5 unchanged" in again.out
    assert ledger(deps) == rows
