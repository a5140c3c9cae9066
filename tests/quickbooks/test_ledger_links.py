"""Which rows of one invoice count when several sources hold it: two customers' invoices
sharing a number stay two, a webhook linking an invoice the books hold counts it once, cash on
account counts once, and bank receipts on a row that stops counting stay received. SQLite and
PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot.cli import main
from db.bank_models import BankTxn
from db.models import (
    Action,
    Customer,
    Dispute,
    Invoice,
    Payment,
    PromiseStatus,
    PromiseToPay,
)
from tests.cash.statements import Line, csv_text
from tests.fakes.quickbooks_api import FakeQuickBooks
from tests.fakes.stripe_api import FakeStripe
from tests.ledger_files import customer, invoice, payment, write_csvs
from tests.quickbooks.conftest import sync
from tests.quickbooks.test_ledger_of_record import both, stripe_fake  # noqa: F401
from tests.stripe.conftest import at
from tests.stripe.conftest import sync as stripe_sync
from tools.cash_apply import apply
from tools.cash_match import Allocation
from tools.csv_import import import_directory
from tools.deps import ToolDeps
from tools.dunning.eligibility import candidates
from tools.ledger_record import relink
from tools.metrics import MetricsInput
from tools.outbox import Outbox
from tools.reconcile import ReconcileInput, reconcile
from tools.report import ar_report
from tools.stripe_sync import apply_webhook_event


def _report(capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    capsys.readouterr()
    assert main(["report", "--as-of", "2026-01-31", "--json"]) == 0
    got: dict[str, str] = json.loads(capsys.readouterr().out)
    return got


def test_two_customers_invoices_of_one_number_both_count(
    qdeps: ToolDeps, fake: FakeQuickBooks, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    acme = fake.add_customer("Acme Corp")
    fake.add_invoice(acme, "1000.00", txn_date=date(2026, 1, 5), number="1001")
    files = write_csvs(
        tmp_path / "export",
        customers=[customer("B", name="Beta LLC"), customer("A", name="ACME corp.")],
        invoices=[
            invoice("c1", "700.00", "2026-01-07", "2026-02-06", customer_id="B", number="1001"),
            invoice("c2", "1000.00", "2026-01-05", "2026-02-04", customer_id="A", number="1001"),
        ],
        payments=[],
    )
    import_directory(qdeps.engine, files, tz=qdeps.settings.tz)
    sync(qdeps)
    relink(qdeps.engine, qdeps.settings)

    # Acme's invoice counts once (QuickBooks'), Beta's is another invoice and counts too
    assert _report(capsys)["ar_total"] == "1700.00"
    found = reconcile(qdeps, ReconcileInput(as_of=date(2026, 1, 31)))
    missing = [d for d in found.differences if d.kind == "missing"]
    assert [(d.number[:4], d.sides["quickbooks"]) for d in missing] == [("1001", None)]
    assert [s.total_minor for d in missing if (s := d.sides["csv"])] == [70_000]


def test_a_webhook_invoice_the_books_hold_counts_once(
    both: ToolDeps,  # noqa: F811
    fake: FakeQuickBooks,
    stripe_fake: FakeStripe,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    acme = fake.add_customer("Acme Corp")
    fake.add_invoice(acme, "1000.00", txn_date=date(2026, 1, 5), number="INV-1")
    fake.add_invoice(acme, "50.00", txn_date=date(2026, 1, 6), number="INV-2")
    sync(both)
    assert _report(capsys)["ar_total"] == "1050.00"
    cus = stripe_fake.add_customer("Acme Corp", at=at(0))["id"]
    stripe_fake.add_invoice(cus, 100_000, at=at(4), number="INV-1")
    stripe_fake.add_invoice(cus, 20_000, at=at(5), number="INV-7")
    for event in stripe_fake.events():
        apply_webhook_event(both, event)

    # INV-1 arrives from Stripe too: it counts once; INV-7 only Stripe holds, and counts
    assert _report(capsys)["ar_total"] == "1250.00"
    sync(both)  # a full relink agrees with the webhook's
    assert _report(capsys)["ar_total"] == "1250.00"


def test_cash_on_account_in_two_sources_counts_once(
    qdeps: ToolDeps, fake: FakeQuickBooks, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    acme = fake.add_customer("Acme Corp")
    fake.add_invoice(acme, "1000.00", txn_date=date(2026, 1, 5), number="INV-1")
    fake.add_payment(acme, "300.00", txn_date=date(2026, 1, 20))  # on account
    files = write_csvs(
        tmp_path / "export",
        customers=[customer("A", name="Acme Corp"), customer("B", name="Beta LLC")],
        invoices=[
            invoice("c1", "1000.00", "2026-01-05", "2026-02-04", customer_id="A", number="INV-1")
        ],
        payments=[
            payment("p1", None, "300.00", "2026-01-20", customer_id="A"),
            payment("p2", None, "40.00", "2026-01-21", customer_id="B"),  # only the CSV has
        ],
    )
    import_directory(qdeps.engine, files, tz=qdeps.settings.tz)
    sync(qdeps)

    got = _report(capsys)
    assert got["ar_total"] == "1000.00"
    assert [v for k, v in got.items() if "unapplied" in k] == ["340.00"]


def test_a_bank_receipt_stays_received_when_the_books_catch_up(
    both: ToolDeps,  # noqa: F811
    fake: FakeQuickBooks,
    stripe_fake: FakeStripe,  # noqa: F811
    tmp_path: Path,
) -> None:
    acme = fake.add_customer("Acme Corp")
    fake.add_invoice(acme, "200.00", txn_date=date(2026, 1, 5), number="INV-0")
    cus = stripe_fake.add_customer("Acme Corp", at=at(0))["id"]
    stripe_fake.add_invoice(cus, 100_000, at=at(4), number="INV-9")
    stripe_sync(both)
    sync(both)
    as_of = date(2026, 1, 31)
    assert ar_report(both, MetricsInput(as_of=as_of)).ar_total_minor == 120_000
    statement = tmp_path / "stmt.csv"
    statement.write_text(
        csv_text([Line("W1", date(2026, 1, 28), "1000.00", payer="Acme Corp", remittance="INV-9")])
    )
    assert main(["bank", "import", str(statement)]) == 0
    with both.sessions() as s:
        txn_id = s.scalars(select(BankTxn.id)).one()
        inv = s.scalars(select(Invoice).where(Invoice.source == "stripe")).one()
        invoice_id, customer_id = inv.id, inv.customer_id
    apply(both, txn_id, "U_FIN", allocations=[Allocation(invoice_id, 100_000)],
          customer_id=customer_id)  # fmt: skip
    assert ar_report(both, MetricsInput(as_of=as_of)).ar_total_minor == 20_000

    # the books catch up: QuickBooks now holds INV-9, unpaid there
    books_id = fake.add_invoice(acme, "1000.00", txn_date=date(2026, 1, 5), number="INV-9")
    sync(both)

    # the 1,000.00 received is still received, on the row that counts
    assert ar_report(both, MetricsInput(as_of=as_of)).ar_total_minor == 20_000
    with both.sessions() as s:
        paid = s.execute(
            select(Invoice.source, Payment.amount_minor)
            .join(Invoice, Invoice.id == Payment.invoice_id)
            .where(Payment.source == "bank")
        ).all()
        queued = [
            a.payload for a in s.scalars(select(Action).where(Action.kind == "books_payment"))
        ]
    assert paid == [("quickbooks", 100_000)]
    # and it is queued to be written back to QuickBooks, against the books' invoice
    assert [(q["invoice"]["external_id"], q["amount_minor"]) for q in queued] == [
        (books_id, 100_000)
    ]
    Outbox(both, backoff_seconds=0).run_once()
    assert fake.objects["Invoice"][books_id]["Balance"] == 0


@pytest.mark.parametrize("block", ["invoice_dispute", "customer_promise", "do_not_dun"])
def test_a_block_on_another_sources_copy_stops_dunning(
    both: ToolDeps,  # noqa: F811
    fake: FakeQuickBooks,
    stripe_fake: FakeStripe,  # noqa: F811
    block: str,
) -> None:
    acme = fake.add_customer("Acme Corp")
    fake.add_invoice(acme, "1000.00", txn_date=date(2026, 1, 5), number="INV-1")
    cus = stripe_fake.add_customer("Acme Corp", at=at(0))["id"]
    stripe_fake.add_invoice(cus, 100_000, at=at(4), number="INV-1")
    stripe_sync(both)
    sync(both)
    as_of = date(2026, 3, 15)
    got = candidates(both, as_of=as_of)
    assert [c.blocked for c in got] == [None]  # the books' row, due and open
    with both.sessions() as s:
        copy = s.execute(select(Invoice).where(Invoice.source == "stripe")).scalar_one()
        assert copy.shadowed
        if block == "invoice_dispute":
            s.add(
                Dispute(
                    source="stripe",
                    external_id="dp_1",
                    customer_id=copy.customer_id,
                    invoice_id=copy.id,
                    amount_minor=100_000,
                    currency="USD",
                    kind="chargeback",
                    reason="fraudulent",
                    opened_at=datetime(2026, 2, 1, tzinfo=UTC),
                    resolved_at=None,
                )
            )
        elif block == "customer_promise":
            s.add(
                PromiseToPay(
                    customer_id=copy.customer_id,
                    invoice_id=None,
                    promised_on=date(2026, 3, 20),
                    status=PromiseStatus.OPEN,
                    amount_minor=100_000,
                    currency="USD",
                    recorded_by="U_FIN",
                )
            )
        else:
            s.execute(
                update(Customer).where(Customer.id == copy.customer_id).values(do_not_dun=True)
            )
        s.commit()

    got = candidates(both, as_of=as_of)
    assert len(got) == 1 and got[0].blocked is not None
