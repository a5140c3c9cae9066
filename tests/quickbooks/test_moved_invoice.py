"""An invoice moved to another customer in QuickBooks (its CustomerRef changed) leaves the link
it had: the incremental sync derives that link again, so the Stripe invoice it stood for
counts again, as relinking everything would have it; moved back, it stands for it again.
SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from bot.cli import main
from db.models import Invoice
from tests.fakes.quickbooks_api import FakeQuickBooks
from tests.fakes.stripe_api import FakeStripe
from tests.quickbooks.conftest import sync
from tests.quickbooks.test_ledger_of_record import both, stripe_fake  # noqa: F401
from tests.stripe.conftest import at
from tests.stripe.conftest import sync as stripe_sync
from tools.deps import ToolDeps
from tools.ledger_record import relink


def _ar(capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert main(["report", "--as-of", "2026-01-31", "--json"]) == 0
    return str(json.loads(capsys.readouterr().out)["ar_total"])


def _stripe_counts(deps: ToolDeps) -> bool:
    with deps.sessions() as s:
        return not s.scalars(select(Invoice.shadowed).where(Invoice.source == "stripe")).one()


def test_an_invoice_moved_to_another_customer_leaves_its_link(
    both: ToolDeps,  # noqa: F811
    fake: FakeQuickBooks,
    stripe_fake: FakeStripe,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    cus = stripe_fake.add_customer("Acme Corp", at=at(0))["id"]
    stripe_fake.add_invoice(cus, 100_000, at=at(4), number="INV-7")
    acme = fake.add_customer("Acme Corp")
    holdings = fake.add_customer("Acme Holdings")
    booked = fake.add_invoice(acme, "1000.00", txn_date=date(2026, 1, 5), number="INV-7")
    stripe_sync(both)
    sync(both)
    assert _ar(capsys) == "1000.00" and not _stripe_counts(both)  # one invoice, the books'

    # The books move it to the parent company: Stripe still bills Acme Corp for it.
    fake.update("Invoice", booked, CustomerRef={"value": holdings, "name": "Acme Holdings"})
    sync(both)
    assert _ar(capsys) == "2000.00" and _stripe_counts(both)
    assert relink(both.engine, both.settings) == 0  # where deriving every link lands

    fake.update("Invoice", booked, CustomerRef={"value": acme, "name": "Acme Corp"})
    sync(both)
    assert _ar(capsys) == "1000.00" and not _stripe_counts(both)
    assert relink(both.engine, both.settings) == 0
