"""Bad debt as QuickBooks records it, a credit memo applied to the invoice by a payment: the
ledger writes the invoice off only while such a memo covers all it owed, and reopens it when
the payment applying it is deleted."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from db.models import Invoice
from tests.fakes.quickbooks_api import FakeQuickBooks
from tests.quickbooks.conftest import build_world, sync
from tools.deps import ToolDeps
from tools.metrics import MetricsInput
from tools.report import ar_report

REASON = "Bad debt write-off: closed account"


def figures(deps: ToolDeps) -> tuple[int, int]:
    got = ar_report(deps, MetricsInput(as_of=date(2026, 1, 31), period_days=90))
    return got.ar_total_minor, got.written_off_minor


def written_off_at(deps: ToolDeps, external_id: str) -> object:
    with deps.sessions() as s:
        q = select(Invoice.written_off_at).where(Invoice.external_id == external_id)
        return s.scalars(q).one()


def bad_debt_memo(fake: FakeQuickBooks, customer: str, amount: str) -> str:
    memo = fake.add_credit_memo(customer, amount, txn_date=date(2026, 1, 25))
    fake.update("CreditMemo", memo, PrivateNote=REASON)
    return memo


def test_deleted_payment_applying_a_bad_debt_memo_reopens_the_invoice(
    qdeps: ToolDeps, fake: FakeQuickBooks
) -> None:
    w = build_world(fake)
    memo = bad_debt_memo(fake, w.globex, "4500.10")
    pid = fake.add_payment(w.globex, "0", txn_date=date(2026, 1, 26),
                           invoices={w.open_: "4500.10"}, credits={memo: "4500.10"})  # fmt: skip
    sync(qdeps)
    assert figures(qdeps) == (40025, 450010)
    fake.delete("Payment", pid)
    sync(qdeps)
    assert written_off_at(qdeps, w.open_) is None
    assert figures(qdeps) == (40025 + 450010, 0)


def test_partial_bad_debt_memo_writes_off_only_its_amount(
    qdeps: ToolDeps, fake: FakeQuickBooks
) -> None:
    w = build_world(fake)
    memo = bad_debt_memo(fake, w.globex, "1000.00")
    fake.add_payment(w.globex, "0", txn_date=date(2026, 1, 26),
                     invoices={w.open_: "1000.00"}, credits={memo: "1000.00"})  # fmt: skip
    sync(qdeps)
    assert written_off_at(qdeps, w.open_) is None
    assert figures(qdeps) == (40025 + 350010, 0)
