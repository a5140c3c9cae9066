"""Fixtures for approvals: a ledger, approver settings, real SMTP and a fake Stripe."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.app import create_app
from bot.cards import card_notifier
from bot.listeners import approvals
from bot.server import default_routes, serve, serve_in_thread
from bot.slack_client import make_web_client
from tests.approvals import ledger
from tests.bot.conftest import ListenerPool
from tests.fakes.signing import SlackSender
from tests.fakes.slack_api import FakeSlack
from tests.fakes.smtp_server import FakeSmtp
from tests.fakes.stripe_api import API_KEY, FakeStripe
from tools.deps import ToolDeps, connect
from tools.outbox import Outbox
from tools.settings import Settings

SECRET = "test-signing-secret"
APPROVALS_CHANNEL = "CAPPROVAL1"
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
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def ap_settings(
    db_url: str, smtp: FakeSmtp, fake_stripe: FakeStripe, fake_slack: FakeSlack
) -> Settings:
    return approval_settings(
        db_url,
        smtp_url=smtp.url,
        stripe_api_base=fake_stripe.url,
        slack_bot_token="xoxb-test-token",
        slack_signing_secret=SECRET,
        slack_api_url=fake_slack.base_url,
        approvals_channel=APPROVALS_CHANNEL,
        allowed_channels=[APPROVALS_CHANNEL],
    )


@pytest.fixture
def ap_deps(ap_settings: Settings, tmp_path: Path) -> Iterator[ToolDeps]:
    d = connect(ap_settings)
    ledger.build(d, tmp_path / "csv")
    yield d
    d.engine.dispose()


@dataclass
class SlackEnv:
    """The real Bolt app behind the real WSGI server, a signed sender and a Web API client."""

    deps: ToolDeps
    slack: FakeSlack
    sender: SlackSender
    client: WebClient
    listeners: ListenerPool

    def outbox(self, **kw: Any) -> Outbox:
        return Outbox(
            self.deps, notify=card_notifier(self.client, self.deps), backoff_seconds=0, **kw
        )


@pytest.fixture
def slack_env(
    ap_settings: Settings, ap_deps: ToolDeps, fake_slack: FakeSlack
) -> Iterator[SlackEnv]:
    from bot.listeners import LISTENERS

    pool = ListenerPool()
    app = create_app(ap_settings, ap_deps, listener_executor=pool)
    if approvals not in LISTENERS:
        approvals.register(app, ap_deps)
    server = serve(default_routes(app, ap_deps), host="127.0.0.1", port=0)
    serve_in_thread(server)
    url = f"http://127.0.0.1:{server.server_address[1]}/slack/events"
    client = make_web_client(ap_settings)
    yield SlackEnv(ap_deps, fake_slack, SlackSender(url, SECRET), client, pool)
    server.shutdown()
    server.server_close()
    pool.shutdown(wait=True, cancel_futures=True)
