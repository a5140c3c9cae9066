"""An invoice moved to another contact in Xero (its Contact changed) leaves the link it had:
the incremental sync derives that link again, so the Stripe invoice it stood for counts again,
as relinking everything would have it. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from bot.cli import main
from db.models import Invoice
from tests.fakes.stripe_api import FakeStripe
from tests.fakes.xero_api import FakeXero
from tests.stripe.conftest import at
from tests.stripe.conftest import sync as stripe_sync
from tests.xero.conftest import sync
from tests.xero.test_stripe_id_links import both, stripe_fake  # noqa: F401
from tools.deps import ToolDeps
from tools.ledger_record import relink


def _ar(capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert main(["report", "--as-of", "2026-01-31", "--json"]) == 0
    return str(json.loads(capsys.readouterr().out)["ar_total"])


def test_an_invoice_moved_to_another_contact_leaves_its_link(
    both: ToolDeps,  # noqa: F811
    fake: FakeXero,
    stripe_fake: FakeStripe,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    cus = stripe_fake.add_customer("Acme Corp", at=at(0))["id"]
    billed = stripe_fake.add_invoice(cus, 100_000, at=at(4), number="ACME-0007")
    acme = fake.add_contact("Acme Corp")
    holdings = fake.add_contact("Acme Holdings")
    booked = fake.add_invoice(acme, "1000.00", on=date(2026, 1, 5), number="INV-0007")
    fake.update("Invoices", booked, Reference=f"Stripe {billed['id']}")
    stripe_sync(both)
    sync(both)
    assert _ar(capsys) == "1000.00"

    # Moved to the parent company, no longer naming the Stripe invoice: two invoices now.
    fake.update("Invoices", booked, Contact={"ContactID": holdings, "Name": "Acme Holdings"},
                Reference="")  # fmt: skip
    sync(both)
    assert _ar(capsys) == "2000.00"
    with both.sessions() as s:
        assert not s.scalars(select(Invoice.shadowed).where(Invoice.source == "stripe")).one()
    assert relink(both.engine, both.settings) == 0  # where deriving every link lands
