"""`arbot reconcile` between QuickBooks (synced from the fake) and a CSV export of the same
invoices with every kind of disagreement, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest

from bot.cli import main
from tests.fakes.quickbooks_api import FakeQuickBooks
from tests.ledger_files import customer, invoice, payment, write_csvs
from tests.quickbooks.conftest import build_world, sync
from tools.csv_import import import_directory
from tools.deps import ToolDeps


def test_reconcile_finds_each_kind_of_difference(
    qdeps: ToolDeps, fake: FakeQuickBooks, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    w = build_world(fake)
    q1006 = fake.add_invoice(w.globex, "250.00", txn_date=date(2026, 1, 5), number="1006")
    q77 = fake.add_invoice(w.globex, "55.00", txn_date=date(2026, 1, 7), number="Q-77")
    sync(qdeps)
    d, due = "2026-01-05", "2026-02-04"
    files = write_csvs(
        tmp_path / "export",
        customers=[customer("A", name="Acme Corp."), customer("G", name="GLOBEX")],
        invoices=[
            invoice("c1", "1200.00", d, due, customer_id="A", number="1001"),
            invoice("c2", "800.50", d, due, customer_id="A", number="1002"),
            invoice("c3", "300.00", d, due, customer_id="G", number="1003"),
            invoice("c4", "99.99", d, due, customer_id="G", number="1004"),
            invoice("c5", "4500.01", d, due, customer_id="G", number="1005"),
            invoice(
                "c6", "250.00", d, due, customer_id="G", number="1006", written_off_on="2026-01-25"
            ),
            invoice("c7", "55.00", "2026-01-07", due, customer_id="G", number=""),
            invoice("c8", "10.00", d, due, customer_id="A", number="2001"),
        ],
        payments=[payment("p1", "c1", "1200.00", "2026-01-20", customer_id="A")],
    )
    import_directory(qdeps.engine, files, tz=qdeps.settings.tz)

    out_csv = tmp_path / "diff.csv"
    assert main(["reconcile", "--as-of", "2026-01-31", "--json", "--csv", str(out_csv)]) == 0
    got = json.loads(capsys.readouterr().out)

    def side(sid: str, total: str, open_: str, status: str) -> dict[str, str]:
        return {"id": sid, "total": total, "open": open_, "status": status}

    assert got == {
        "as_of": "2026-01-31",
        "currency": "USD",
        "sources": {"csv": {"ar_total": "5765.50"}, "quickbooks": {"ar_total": "5205.35"}},
        "differences": [
            {
                "kind": "amount_differs",
                "number": "1002",
                "sources": {
                    "csv": side("c2", "800.50", "800.50", "open"),
                    "quickbooks": side(w.part, "800.50", "400.25", "open"),
                },
            },
            {
                "kind": "status_differs",
                "number": "1003",
                "sources": {
                    "csv": side("c3", "300.00", "300.00", "open"),
                    "quickbooks": side(w.credited, "300.00", "0.00", "paid"),
                },
            },
            {
                "kind": "status_differs",
                "number": "1004",
                "sources": {
                    "csv": side("c4", "99.99", "99.99", "open"),
                    "quickbooks": side(w.voided, "0.00", "0.00", "void"),
                },
            },
            {
                "kind": "amount_differs",
                "number": "1005",
                "sources": {
                    "csv": side("c5", "4500.01", "4500.01", "open"),
                    "quickbooks": side(w.open_, "4500.10", "4500.10", "open"),
                },
            },
            {
                "kind": "status_differs",
                "number": "1006",
                "sources": {
                    "csv": side("c6", "250.00", "0.00", "written_off"),
                    "quickbooks": side(q1006, "250.00", "250.00", "open"),
                },
            },
            {
                "kind": "missing",
                "number": "2001",
                "sources": {"csv": side("c8", "10.00", "10.00", "open"), "quickbooks": None},
            },
        ],
        "totals": {"missing": 1, "amount_differs": 2, "status_differs": 3, "bank_not_in_books": 0},
    }
    assert q77  # matched to the number-less CSV row by customer + amount + date: no difference
    rows = list(csv.reader(out_csv.open()))
    assert rows[0] == ["kind", "number", "source", "id", "total", "open", "status"]
    assert ["missing", "2001", "quickbooks", "", "", "", "missing"] in rows
    assert len(rows) == 1 + 2 * 6


def test_reconcile_says_in_balance_when_sources_agree(
    qdeps: ToolDeps, fake: FakeQuickBooks, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    acme = fake.add_customer("Acme")
    fake.add_invoice(acme, "100.00", txn_date=date(2026, 1, 5), number="7")
    sync(qdeps)
    files = write_csvs(
        tmp_path / "x",
        customers=[customer("A", name="Acme")],
        invoices=[invoice("i7", "100.00", "2026-01-05", "2026-02-04", customer_id="A", number="7")],
    )
    import_directory(qdeps.engine, files, tz=qdeps.settings.tz)
    assert main(["reconcile", "--as-of", "2026-01-31"]) == 0
    out = capsys.readouterr().out
    assert "In balance" in out
    assert "AR in csv" in out and "USD 100.00" in out


def test_bot_answers_whether_the_sources_match(
    qdeps: ToolDeps, fake: FakeQuickBooks, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    acme = fake.add_customer("Acme")
    fake.add_invoice(acme, "100.00", txn_date=date(2026, 1, 5), number="7")
    fake.add_invoice(acme, "40.00", txn_date=date(2026, 1, 6), number="8")
    sync(qdeps)
    files = write_csvs(
        tmp_path / "x",
        customers=[customer("A", name="Acme")],
        invoices=[invoice("i7", "100.00", "2026-01-05", "2026-02-04", customer_id="A", number="7")],
    )
    import_directory(qdeps.engine, files, tz=qdeps.settings.tz)
    question = "does QuickBooks match the CSV as of Jan 31 2026?"
    assert main(["ask", "--json", question]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["answered_by"] == "router" and answer["tool"] == "reconcile"
    assert answer["data"]["totals"] == {
        "missing": 1,
        "amount_differs": 0,
        "status_differs": 0,
        "bank_not_in_books": 0,
    }
    lines = answer["text"].splitlines()
    assert lines[0] == "quickbooks and csv differ as of 2026-01-31: 1 missing on one side"
    assert lines[1] == "AR in quickbooks USD 140.00   AR in csv USD 100.00"
    assert (
        "• 8 missing on one side: quickbooks: open, USD 40.00 open of USD 40.00; csv: missing"
        in lines
    )

    assert main(["ask", "does stripe match quickbooks?"]) == 0
    assert "the ledger holds no invoices from stripe" in capsys.readouterr().out


def test_syncing_beside_another_source_says_which_source_the_figures_count(
    qdeps: ToolDeps, fake: FakeQuickBooks, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    acme = fake.add_customer("Acme")
    fake.add_invoice(acme, "100.00", txn_date=date(2026, 1, 5), number="7")
    assert main(["quickbooks", "sync"]) == 0
    assert "Source: QuickBooks" in capsys.readouterr().out
    files = write_csvs(
        tmp_path / "x",
        customers=[customer("A", name="Acme")],
        invoices=[invoice("i7", "100.00", "2026-01-05", "2026-02-04", customer_id="A", number="7")],
    )
    import_directory(qdeps.engine, files, tz=qdeps.settings.tz)
    assert main(["quickbooks", "sync"]) == 0
    out = capsys.readouterr().out
    assert "figures count one row per invoice; Source: QuickBooks" in out
    assert main(["report", "--as-of", "2026-01-31", "--json"]) == 0
    assert '"100.00"' in capsys.readouterr().out
