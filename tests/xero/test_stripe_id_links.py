"""A Xero invoice whose Reference names a Stripe invoice id is that Stripe invoice, whatever
number each gives it and whatever each calls the customer: AR counts it once. SQLite and
PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import pytest
from pydantic import SecretStr

from bot.cli import main
from tests.fakes.stripe_api import API_KEY, FakeStripe
from tests.fakes.xero_api import FakeXero
from tests.stripe.conftest import at
from tests.stripe.conftest import sync as stripe_sync
from tests.xero.conftest import sync
from tools.deps import ToolDeps


@pytest.fixture
def stripe_fake() -> Iterator[FakeStripe]:
    with FakeStripe() as f:
        yield f


@pytest.fixture
def both(xdeps: ToolDeps, stripe_fake: FakeStripe, monkeypatch: pytest.MonkeyPatch) -> ToolDeps:
    monkeypatch.setenv("STRIPE_API_KEY", API_KEY)
    monkeypatch.setenv("ARBOT_STRIPE_API_BASE", stripe_fake.url)
    update = {"stripe_api_key": SecretStr(API_KEY), "stripe_api_base": stripe_fake.url}
    return ToolDeps(
        settings=xdeps.settings.model_copy(update=update),
        engine=xdeps.engine,
        sessions=xdeps.sessions,
    )


@pytest.mark.parametrize("contact", ["Acme Corp", "ACME Corporation Ltd"])
def test_a_xero_invoice_referencing_its_stripe_invoice_counts_once(
    both: ToolDeps,
    fake: FakeXero,
    stripe_fake: FakeStripe,
    capsys: pytest.CaptureFixture[str],
    contact: str,
) -> None:
    cus = stripe_fake.add_customer("Acme Corp", at=at(0))["id"]
    billed = stripe_fake.add_invoice(cus, 100_000, at=at(4), number="ACME-0001")
    acme = fake.add_contact(contact)  # the Stripe id links whatever Xero calls the customer
    booked = fake.add_invoice(acme, "1000.00", on=date(2026, 1, 7), number="INV-0042")
    fake.objects["Invoices"][booked]["Reference"] = f"Stripe {billed['id']}"
    stripe_sync(both)
    sync(both)

    capsys.readouterr()
    assert main(["report", "--as-of", "2026-01-31", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ar_total"] == "1000.00"
