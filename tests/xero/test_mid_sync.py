"""Xero while people work: an invoice and its payment entered after the sync read invoices.
The payment is kept until its invoice is read, then applied; nothing is lost."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from tests.fakes.xero_api import FakeXero, Recorded
from tests.xero.conftest import build_world, sync
from tests.xero.test_sync import ar, due, invoices
from tools.deps import ToolDeps


class BusyXero(FakeXero):
    """Runs `on_payments` when the sync first asks for Payments (invoices are read by then)."""

    on_payments: Any = None

    def _list(self, entity: str, rec: Recorded) -> dict[str, Any]:
        if entity == "Payments" and self.on_payments is not None:
            hook, self.on_payments = self.on_payments, None
            hook()
        return super()._list(entity, rec)


@pytest.fixture
def fake() -> Iterator[FakeXero]:
    with BusyXero() as f:
        yield f


def test_payment_of_an_invoice_made_during_the_sync_is_not_lost(
    xdeps: ToolDeps, fake: BusyXero
) -> None:
    w = build_world(fake)
    made: dict[str, str] = {}

    def work() -> None:
        made["inv"] = fake.add_invoice(w.acme, "250.00", on=date(2026, 1, 26), number="INV-2001")
        made["pay"] = fake.add_payment(made["inv"], "250.00", on=date(2026, 1, 26))

    fake.on_payments = work
    first = sync(xdeps)
    assert [(p.entity, p.object_id) for p in first.problems] == [("Payments", made["pay"])]
    assert "kept" in first.problems[0].reason
    second = sync(xdeps)
    assert second.problems == [] and second.applied_later == 1
    assert second.objects["Payments"] == 0  # not read again: applied from what was kept
    assert made["inv"] in invoices(xdeps)
    posted = (w.paid, w.part, w.credited, w.open_, made["inv"])
    assert ar(xdeps)[0] == due(fake, *posted) == 40025 + 450010
    assert sync(xdeps).applied_later == 0
