"""QuickBooks while people work: an invoice and its payment entered after the sync read
invoices. The payment is kept until its invoice is read, then applied; nothing is lost."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from tests.fakes.quickbooks_api import FakeQuickBooks
from tests.quickbooks.conftest import build_world, sync
from tests.quickbooks.test_sync import ar
from tools.deps import ToolDeps


class BusyQuickBooks(FakeQuickBooks):
    """Runs `on_payments` when the sync first asks for payments (invoices are read by then)."""

    on_payments: Any = None

    def _query(self, body: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        if "FROM Payment" in body and self.on_payments is not None:
            hook, self.on_payments = self.on_payments, None
            hook()
        return super()._query(body)


@pytest.fixture
def fake() -> Iterator[FakeQuickBooks]:
    with BusyQuickBooks() as f:
        yield f


def test_payment_of_an_invoice_made_during_the_sync_is_not_lost(
    qdeps: ToolDeps, fake: BusyQuickBooks
) -> None:
    w = build_world(fake)
    made: dict[str, str] = {}

    def work() -> None:
        made["inv"] = fake.add_invoice(w.acme, "250.00", txn_date=date(2026, 1, 26))
        made["pay"] = fake.add_payment(
            w.acme, "100.00", txn_date=date(2026, 1, 26), invoices={made["inv"]: "100.00"}
        )

    fake.on_payments = work
    first = sync(qdeps)
    assert [(p.entity, p.object_id) for p in first.problems] == [("Payment", made["pay"])]
    second = sync(qdeps)
    assert second.problems == [] and second.applied_later == 1
    third = sync(qdeps)
    assert third.applied_later == 0
    # The new invoice owes 150.00 on top of the world's 4,900.35.
    assert ar(qdeps)[0] == 490035 + 15000
