"""Fixtures for the QuickBooks tests: a fake QuickBooks Online on loopback, and a ledger
whose settings point at it (environment too, for the CLI)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from tests.fakes.quickbooks_api import (
    CLIENT_ID,
    CLIENT_SECRET,
    FIRST_REFRESH_TOKEN,
    REALM,
    FakeQuickBooks,
)
from tools.books_sync import SyncStats
from tools.deps import ToolDeps
from tools.quickbooks_sync import run_quickbooks_sync
from tools.stripe_sync import RetryPolicy

FAST = RetryPolicy(attempts=3, first_delay=0.01)
TOKEN_KEY = Fernet.generate_key().decode()


@pytest.fixture
def fake() -> Iterator[FakeQuickBooks]:
    with FakeQuickBooks() as f:
        yield f


@pytest.fixture
def qdeps(deps: ToolDeps, fake: FakeQuickBooks, monkeypatch: pytest.MonkeyPatch) -> ToolDeps:
    values = {
        "token_key": TOKEN_KEY,
        "quickbooks_client_id": CLIENT_ID,
        "quickbooks_client_secret": CLIENT_SECRET,
        "quickbooks_realm_id": REALM,
        "quickbooks_refresh_token": FIRST_REFRESH_TOKEN,
        "quickbooks_api_base": fake.api_base,
        "quickbooks_discovery_url": fake.discovery_url,
    }
    for name, value in values.items():
        monkeypatch.setenv(f"ARBOT_{name.upper()}", value)
    # requests-oauthlib refuses plain http unless told it is a local test server.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    secret = {"token_key", "quickbooks_client_secret", "quickbooks_refresh_token"}
    update = {k: SecretStr(v) if k in secret else v for k, v in values.items()}
    settings = deps.settings.model_copy(update=update)
    return ToolDeps(settings=settings, engine=deps.engine, sessions=deps.sessions)


def sync(deps: ToolDeps, **kwargs: object) -> SyncStats:
    kwargs.setdefault("retry", FAST)
    return run_quickbooks_sync(deps, progress=False, **kwargs)  # type: ignore[arg-type]


@dataclass
class World:
    acme: str
    globex: str
    paid: str  # fully paid by cash
    part: str  # half paid, rest open
    credited: str  # settled by a credit memo applied through a payment
    voided: str
    open_: str
    memo: str


def build_world(fake: FakeQuickBooks) -> World:
    """Two customers, five invoices in each state QuickBooks can leave them in."""
    d = date(2026, 1, 5)
    acme = fake.add_customer("Acme Corp", email="ap@acme.test")
    globex = fake.add_customer("Globex", email="billing@globex.test")
    paid = fake.add_invoice(acme, "1200.00", txn_date=d, number="1001")
    part = fake.add_invoice(acme, "800.50", txn_date=d, number="1002")
    credited = fake.add_invoice(globex, "300.00", txn_date=d, number="1003")
    voided = fake.add_invoice(globex, "99.99", txn_date=d, number="1004")
    open_ = fake.add_invoice(globex, "4500.10", txn_date=d, number="1005")
    fake.add_payment(acme, "1600.25", txn_date=date(2026, 1, 20), invoices={paid: "1200.00"})
    fake.add_payment(acme, "400.25", txn_date=date(2026, 1, 21), invoices={part: "400.25"})
    memo = fake.add_credit_memo(globex, "350.00", txn_date=date(2026, 1, 22))
    fake.add_payment(
        globex, "0", txn_date=date(2026, 1, 23), invoices={credited: "300"}, credits={memo: "300"}
    )
    fake.void_invoice(voided)
    return World(acme, globex, paid, part, credited, voided, open_, memo)


def balance(fake: FakeQuickBooks, invoice: str) -> int:
    """An invoice's Balance as QuickBooks reports it, in cents."""
    return int(Decimal(str(fake.objects["Invoice"][invoice]["Balance"])) * 100)
