"""Fixtures for the job tests: the fixed-date ledger, a fake Slack and a Web API client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_sdk import WebClient

from bot.slack_client import make_web_client
from tests.fakes.slack_api import FakeSlack
from tests.jobs import ledger
from tools.deps import ToolDeps, connect
from tools.settings import Settings

DIGEST = "CDIGEST01"
ALERTS = "CALERTS01"
APPROVALS = "CAPPROVE1"
APPROVER = "UAPPROVE1"


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def job_settings(db_url: str, slack_url: str, **extra: object) -> Settings:
    values: dict[str, object] = {
        "database_url": db_url,
        "timezone": "UTC",
        "reporting_currency": "USD",
        "company_name": "Initrode",
        "slack_bot_token": "xoxb-test-token",
        "slack_signing_secret": "test-secret",
        "slack_api_url": slack_url,
        "digest_channel": DIGEST,
        "alerts_channel": ALERTS,
        "approvals_channel": APPROVALS,
        "approvers": [APPROVER],
        "finance_users": [APPROVER],
    }
    return Settings(**(values | extra))  # type: ignore[arg-type]


@pytest.fixture
def jdeps(db_url: str, fake_slack: FakeSlack, tmp_path: Path) -> Iterator[ToolDeps]:
    d = connect(job_settings(db_url, fake_slack.base_url))
    ledger.build(d, tmp_path / "csv")
    yield d
    d.engine.dispose()


@pytest.fixture
def client(jdeps: ToolDeps) -> WebClient:
    return make_web_client(jdeps.settings)
