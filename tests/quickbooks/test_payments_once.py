"""The same invoice and payment held by Stripe and QuickBooks, and the same cash on account held
by QuickBooks and a CSV export: every answer that shows payments shows each once, from the
source whose rows count. SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest

from bot.blocks.digest import digest_csv
from bot.blocks.ids import RowsRequest
from bot.cli import main
from bot.rows import rows_csv
from tests.fakes.quickbooks_api import FakeQuickBooks
from tests.fakes.stripe_api import FakeStripe
from tests.ledger_files import customer, invoice, payment, write_csvs
from tests.quickbooks.conftest import sync
from tests.quickbooks.test_ledger_of_record import both, stripe_fake  # noqa: F401
from tests.stripe.conftest import at
from tests.stripe.conftest import sync as stripe_sync
from tools.csv_import import import_directory
from tools.customer_detail import CustomerDetailInput, customer_detail
from tools.deps import ToolDeps
from tools.digest import DigestInput, weekly_digest

AS_OF = date(2026, 1, 31)


def test_a_payment_two_sources_hold_is_shown_once(
    both: ToolDeps,  # noqa: F811
    fake: FakeQuickBooks,
    stripe_fake: FakeStripe,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cus = stripe_fake.add_customer("Acme Corp", at=at(0))["id"]
    billed = stripe_fake.add_invoice(cus, 100_000, at=at(4), number="INV-1")
    stripe_fake.pay_invoice(billed["id"], 40_000, at=at(20))
    acme = fake.add_customer("Acme Corp")
    booked = fake.add_invoice(acme, "1000.00", txn_date=date(2026, 1, 5), number="INV-1")
    fake.add_payment(acme, "400.00", txn_date=date(2026, 1, 21), invoices={booked: "400.00"})
    fake.add_payment(acme, "300.00", txn_date=date(2026, 1, 22))  # on account
    files = write_csvs(
        tmp_path / "export",
        customers=[customer("A", name="ACME CORP.")],
        invoices=[
            invoice("c1", "1000.00", "2026-01-05", "2026-02-04", customer_id="A", number="INV-1")
        ],
        payments=[payment("p1", None, "300.00", "2026-01-22", customer_id="A")],
    )
    import_directory(both.engine, files, tz=both.settings.tz)
    stripe_sync(both)
    sync(both)

    # The customer's answer: one Acme Corp (the books'), its payments once each.
    detail = customer_detail(both, CustomerDetailInput(customer="Acme Corp", as_of=AS_OF))
    assert sorted(p.amount_minor for p in detail.recent_payments) == [30_000, 40_000]
    assert detail.balance_by_currency == {"USD": 60_000}
    capsys.readouterr()
    assert main(["ask", "what's Acme Corp's balance?"]) == 0
    answer = capsys.readouterr().out
    assert "Acme Corp owes USD 600.00" in answer  # not "which one do you mean?"

    # Unapplied cash: the answer, its CSV and the digest line show 300.00 once.
    assert main(["ask", f"unapplied cash as of {AS_OF}"]) == 0
    answer = capsys.readouterr().out
    assert "USD 300.00 in 1 payment not applied" in answer
    _, data, count = rows_csv(both, RowsRequest(kind="unapplied", as_of=AS_OF))
    listed = list(csv.DictReader(io.StringIO(data.decode())))
    assert count == 1 and [r["amount"] for r in listed] == ["300.00"]
    digest = weekly_digest(both, DigestInput(as_of=AS_OF))
    rows = list(csv.reader(io.StringIO(digest_csv(digest).decode())))
    assert ["metrics", "unapplied_cash", "300.00", "USD"] in rows
    assert ["ar", "ar_total", "600.00", "USD"] in rows
