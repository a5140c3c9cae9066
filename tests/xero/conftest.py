"""Fixtures for the Xero tests: a fake Xero on loopback, and a ledger whose settings point at
it (environment too, for the CLI)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from tests.fakes.xero_api import CLIENT_ID, CLIENT_SECRET, FIRST_REFRESH_TOKEN, TENANT, FakeXero
from tools.books_sync import SyncStats
from tools.deps import ToolDeps
from tools.stripe_sync import RetryPolicy
from tools.xero_sync import run_xero_sync

FAST = RetryPolicy(attempts=3, first_delay=0.01)
TOKEN_KEY = Fernet.generate_key().decode()


@pytest.fixture
def fake() -> Iterator[FakeXero]:
    with FakeXero() as f:
        yield f


@pytest.fixture
def xdeps(deps: ToolDeps, fake: FakeXero, monkeypatch: pytest.MonkeyPatch) -> ToolDeps:
    values = {
        "token_key": TOKEN_KEY,
        "xero_client_id": CLIENT_ID,
        "xero_client_secret": CLIENT_SECRET,
        "xero_tenant_id": TENANT,
        "xero_refresh_token": FIRST_REFRESH_TOKEN,
        "xero_api_base": fake.api_base,
        "xero_identity_url": fake.identity_url,
    }
    for name, value in values.items():
        monkeypatch.setenv(f"ARBOT_{name.upper()}", value)
    secret = {"token_key", "xero_client_secret", "xero_refresh_token"}
    update = {k: SecretStr(v) if k in secret else v for k, v in values.items()}
    settings = deps.settings.model_copy(update=update)
    return ToolDeps(settings=settings, engine=deps.engine, sessions=deps.sessions)


def sync(deps: ToolDeps, **kwargs: object) -> SyncStats:
    kwargs.setdefault("retry", FAST)
    return run_xero_sync(deps, progress=False, **kwargs)  # type: ignore[arg-type]


@dataclass
class World:
    acme: str
    globex: str
    paid: str  # fully paid by cash
    part: str  # half paid, rest open
    credited: str  # settled by a credit note allocated to it
    voided: str
    open_: str
    draft: str  # not posted: no receivable yet
    note: str
    over: str  # an overpayment, part allocated, part unapplied
    pre: str  # a prepayment allocated in full


def build_world(fake: FakeXero) -> World:
    """Two contacts, invoices in each state Xero can leave them in, every kind of credit."""
    d = date(2026, 1, 5)
    acme = fake.add_contact("Acme Corp", email="ap@acme.test")
    globex = fake.add_contact("Globex", email="billing@globex.test")
    fake.add_contact("Paper Supplies Ltd")  # a supplier only: not a customer
    fake.update("Contacts", list(fake.objects["Contacts"])[-1], IsSupplier=True, IsCustomer=False)
    paid = fake.add_invoice(acme, "1200.00", on=d, number="INV-1001")
    part = fake.add_invoice(acme, "800.50", on=d, number="INV-1002")
    credited = fake.add_invoice(globex, "300.00", on=d, number="INV-1003")
    voided = fake.add_invoice(globex, "99.99", on=d, number="INV-1004")
    open_ = fake.add_invoice(globex, "4500.10", on=d, number="INV-1005")
    draft = fake.add_invoice(globex, "10.00", on=d, number="INV-1006", status="DRAFT")
    fake.add_payment(paid, "1100.00", on=date(2026, 1, 20))
    fake.add_payment(part, "400.25", on=date(2026, 1, 21))
    note = fake.add_credit(
        "CreditNotes", globex, "350.00", on=date(2026, 1, 22), allocate={credited: "300"}
    )
    over = fake.add_credit(
        "Overpayments", acme, "150.00", on=date(2026, 1, 23), allocate={paid: "100"}
    )
    pre = fake.add_credit("Prepayments", globex, "60.00", on=date(2026, 1, 24))
    fake.set_status("Invoices", voided, "VOIDED")
    return World(acme, globex, paid, part, credited, voided, open_, draft, note, over, pre)
