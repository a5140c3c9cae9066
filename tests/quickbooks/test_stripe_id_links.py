"""The Stripe invoice id a QuickBooks invoice carries (private note or custom field) links it to
that Stripe invoice before its number does, so AR counts it once and reconciliation sees one
invoice; the same number in two currencies links nothing and reconciliation shows both sides.
SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli import main
from db.bank_models import BankTxn
from db.models import Invoice, Payment
from tests.cash.statements import Line, csv_text
from tests.fakes.quickbooks_api import FakeQuickBooks
from tests.fakes.stripe_api import FakeStripe
from tests.quickbooks.conftest import sync
from tests.quickbooks.test_ledger_of_record import both, stripe_fake  # noqa: F401
from tests.stripe.conftest import at
from tests.stripe.conftest import sync as stripe_sync
from tools.cash_apply import apply
from tools.cash_match import Allocation
from tools.deps import ToolDeps
from tools.metrics import MetricsInput
from tools.reconcile import ReconcileInput, reconcile
from tools.report import ar_report

AS_OF = date(2026, 1, 31)


def _ar(capsys: pytest.CaptureFixture[str], currency: str = "USD") -> str:
    capsys.readouterr()
    args = ["report", "--as-of", AS_OF.isoformat(), "--json", "--currency", currency]
    assert main(args) == 0
    return str(json.loads(capsys.readouterr().out)["ar_total"])


@pytest.mark.parametrize("where", ["note", "custom field"])
def test_a_books_invoice_naming_its_stripe_invoice_counts_once(
    both: ToolDeps,  # noqa: F811
    fake: FakeQuickBooks,
    stripe_fake: FakeStripe,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    where: str,
) -> None:
    cus = stripe_fake.add_customer("Acme Corp", at=at(0))["id"]
    billed = stripe_fake.add_invoice(cus, 100_000, at=at(4), number="ACME-0001")
    stripe_fake.add_invoice(cus, 30_000, at=at(6), number="ACME-0002")
    acme = fake.add_customer("Acme Corp")
    # Booked two days later under the books' own number: neither the number nor
    # customer + amount + date finds the Stripe invoice; the id it names does.
    note = f"Stripe {billed['id']}" if where == "note" else None
    booked = fake.add_invoice(
        acme, "1000.00", txn_date=date(2026, 1, 7), number="1001", private_note=note
    )
    if where == "custom field":
        obj = fake.objects["Invoice"][booked]
        obj["CustomField"] = [
            {"DefinitionId": "1", "Name": "Crew #", "Type": "StringType", "StringValue": "7"},
            {"DefinitionId": "2", "Name": "Stripe", "Type": "StringType",
             "StringValue": billed["id"]},
        ]  # fmt: skip
    stripe_sync(both)
    sync(both)

    assert _ar(capsys) == "1300.00"  # 1,000.00 once (QuickBooks'), and ACME-0002 only Stripe has
    found = reconcile(both, ReconcileInput(as_of=AS_OF))
    assert [(d.kind, d.number) for d in found.differences] == [("missing", "ACME-0002")]


def test_one_number_in_two_currencies_links_nothing_and_reconcile_shows_both(
    both: ToolDeps,  # noqa: F811
    fake: FakeQuickBooks,
    stripe_fake: FakeStripe,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    cus = stripe_fake.add_customer("Acme Corp", at=at(0))["id"]
    billed = stripe_fake.add_invoice(cus, 100_000, at=at(4), number="INV-1")
    acme = fake.add_customer("Acme Corp")
    fake.add_invoice(
        acme,
        "1000.00",
        txn_date=date(2026, 1, 5),
        number="INV-1",
        currency="EUR",
        private_note=f"Stripe {billed['id']}",
    )
    stripe_sync(both)
    sync(both)

    # Neither row stands for the other: each currency's AR keeps its own row.
    assert _ar(capsys, "USD") == "1000.00"
    assert _ar(capsys, "EUR") == "1000.00"
    for currency, own, other in (("USD", "stripe", "quickbooks"), ("EUR", "quickbooks", "stripe")):
        found = reconcile(both, ReconcileInput(as_of=AS_OF, currency=currency)).as_json()
        assert found["differences"] == [
            {
                "kind": "amount_differs",
                "number": f"INV-1 ({other} in {'EUR' if other == 'quickbooks' else 'USD'})",
                "sources": {
                    own: {
                        "id": found["differences"][0]["sources"][own]["id"],
                        "total": "1000.00",
                        "open": "1000.00",
                        "status": "open",
                    },
                    other: {
                        "id": found["differences"][0]["sources"][other]["id"],
                        "total": "1000.00",
                        "open": "1000.00",
                        "status": "open",
                    },
                },
            }
        ]
        assert found["totals"]["amount_differs"] == 1
        assert found["totals"]["missing"] == 0


@pytest.mark.parametrize("books_name", ["Acme Corp", "ACME Corporation Ltd"])
def test_a_bank_receipt_follows_the_stripe_id_to_the_books_row(
    both: ToolDeps,  # noqa: F811
    fake: FakeQuickBooks,
    stripe_fake: FakeStripe,  # noqa: F811
    tmp_path: Path,
    books_name: str,
) -> None:
    acme = fake.add_customer(books_name)
    cus = stripe_fake.add_customer("Acme Corp", at=at(0))["id"]
    billed = stripe_fake.add_invoice(cus, 100_000, at=at(4), number="ACME-0009")
    stripe_sync(both)
    statement = tmp_path / "stmt.csv"
    statement.write_text(
        csv_text([Line("W1", date(2026, 1, 28), "1000.00", payer="Acme Corp",
                       remittance="ACME-0009")])
    )  # fmt: skip
    assert main(["bank", "import", str(statement)]) == 0
    with both.sessions() as s:
        txn_id = s.scalars(select(BankTxn.id)).one()
        inv = s.scalars(select(Invoice).where(Invoice.source == "stripe")).one()
        invoice_id, customer_id = inv.id, inv.customer_id
    apply(both, txn_id, "U_FIN", allocations=[Allocation(invoice_id, 100_000)],
          customer_id=customer_id)  # fmt: skip

    # the books book it later, under their own number, naming the Stripe invoice
    booked = fake.add_invoice(
        acme, "1000.00", txn_date=date(2026, 1, 9), number="1042",
        private_note=f"Stripe {billed['id']}",
    )  # fmt: skip
    sync(both)

    assert ar_report(both, MetricsInput(as_of=AS_OF)).ar_total_minor == 0  # received, once
    with both.sessions() as s:
        paid = s.execute(
            select(Invoice.external_id, Payment.amount_minor)
            .join(Invoice, Invoice.id == Payment.invoice_id)
            .where(Payment.source == "bank")
        ).all()
    assert paid == [(booked, 100_000)]


def test_a_stripe_id_links_whatever_each_system_calls_the_customer(
    both: ToolDeps,  # noqa: F811
    fake: FakeQuickBooks,
    stripe_fake: FakeStripe,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    cus = stripe_fake.add_customer("Acme Corp", at=at(0))["id"]
    stripe_fake.add_invoice(cus, 30_000, at=at(2), number="ACME-0001")
    stripe_sync(both)
    acme = fake.add_customer("ACME Corporation Ltd")  # the books' legal name
    fake.add_invoice(acme, "250.00", txn_date=date(2026, 1, 3), number="1001")
    sync(both)
    assert _ar(capsys) == "550.00"

    # Billed in Stripe, booked two days later under the books' own number and customer name,
    # naming the Stripe invoice; the books are read first, Stripe's invoice next.
    billed = stripe_fake.add_invoice(cus, 100_000, at=at(4), number="ACME-0002")
    booked = fake.add_invoice(
        acme, "1000.00", txn_date=date(2026, 1, 7), number="1002",
        private_note=f"Stripe {billed['id']}",
    )  # fmt: skip
    sync(both)
    stripe_sync(both)

    assert _ar(capsys) == "1550.00"  # 1,000.00 once, QuickBooks' row counting
    with both.sessions() as s:
        shadowed = {e: b for e, b in s.execute(select(Invoice.external_id, Invoice.shadowed))}
    assert shadowed[billed["id"]] and not shadowed[booked]
    found = reconcile(both, ReconcileInput(as_of=AS_OF))
    assert sorted((d.kind, d.number) for d in found.differences) == [
        ("missing", "1001"),
        ("missing", "ACME-0001"),
    ]

    fake.add_payment(acme, "400.00", txn_date=date(2026, 1, 20), invoices={booked: "400.00"})
    sync(both)  # paid in part in the books only: one invoice whose open amounts differ
    assert _ar(capsys) == "1150.00"
    found = reconcile(both, ReconcileInput(as_of=AS_OF))
    assert [d.kind for d in found.differences if d.number == "ACME-0002"] == ["amount_differs"]
