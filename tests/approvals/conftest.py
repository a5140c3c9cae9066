"""Fixtures for approvals: a ledger, approver settings, real SMTP and a fake Stripe."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.approvals import ledger
from tests.fakes.smtp_server import FakeSmtp
from tests.fakes.stripe_api import API_KEY, FakeStripe
from tools.deps import ToolDeps, connect
from tools.settings import Settings

COLLECTOR = "UCOLLECT01"
APPROVER = "UAPPROVE01"
APPROVER_2 = "UAPPROVE02"
OUTSIDER = "UOUTSIDE01"


@pytest.fixture
def smtp() -> Iterator[FakeSmtp]:
    with FakeSmtp() as server:
        yield server


@pytest.fixture
def fake_stripe() -> Iterator[FakeStripe]:
    with FakeStripe() as fake:
        yield fake


def approval_settings(db_url: str, **extra: object) -> Settings:
    values: dict[str, object] = {
        "database_url": db_url,
        "timezone": "UTC",
        "reporting_currency": "USD",
        "company_name": "Initrode",
        "approvers": [APPROVER, APPROVER_2, COLLECTOR],
        "finance_users": [APPROVER, APPROVER_2, COLLECTOR],
        "dual_approval_minor": 500_000,
        "smtp_from": "ar@initrode.example.com",
        "stripe_api_key": API_KEY,
    }
    return Settings(**(values | extra))  # type: ignore[arg-type]


@pytest.fixture
def ap_settings(db_url: str, smtp: FakeSmtp, fake_stripe: FakeStripe) -> Settings:
    return approval_settings(db_url, smtp_url=smtp.url, stripe_api_base=fake_stripe.url)


@pytest.fixture
def ap_deps(ap_settings: Settings, tmp_path: Path) -> Iterator[ToolDeps]:
    d = connect(ap_settings)
    ledger.build(d, tmp_path / "csv")
    yield d
    d.engine.dispose()
