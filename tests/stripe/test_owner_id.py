"""An account owner from Stripe metadata that is not a Slack user id is ignored and logged.

Alerts are DMed to an account's owner; a channel id there would post a customer's figures to
that channel. The real sync reads the customers from the fake Stripe, then the real dispute
watch posts to the fake Slack: the valid owner gets the alert, the channel never does.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr

from bot.slack_client import make_web_client
from jobs.runner import run_job
from tests.fakes.slack_api import FakeSlack
from tests.fakes.stripe_api import FakeStripe
from tests.stripe.conftest import at, sync
from tools.deps import ToolDeps

ALERTS = "CALERTS01"
CHANNEL_AS_OWNER = "C0123ABCD"
OWNER = "U0123ABCD"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def test_channel_id_as_owner_is_ignored_logged_and_never_alerted(
    sdeps: ToolDeps, fake: FakeStripe, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    settings = sdeps.settings.model_copy(
        update={
            "slack_bot_token": SecretStr("xoxb-test-token"),
            "slack_api_url": slack.base_url,
            "alerts_channel": ALERTS,
        }
    )
    deps = ToolDeps(settings=settings, engine=sdeps.engine, sessions=sdeps.sessions)
    leaky = fake.add_customer("Leaky Ltd", metadata={"owner_slack_id": CHANNEL_AS_OWNER}, at=at(0))
    owned = fake.add_customer("Owned Inc", metadata={"owner_slack_id": OWNER}, at=at(0))
    for customer in (leaky, owned):
        invoice = fake.add_invoice(customer["id"], 50_000, at=at(1))
        charge = fake.pay_invoice(invoice["id"], at=at(2))
        fake.open_dispute(charge["id"], at=at(3))
    fake.now = at(3.5)

    with caplog.at_level(logging.WARNING):
        sync(deps)

    ignored = [r.getMessage() for r in caplog.records if "stripe_owner_ignored" in r.getMessage()]
    assert len(ignored) == 1
    assert f"customer={leaky['id']}" in ignored[0] and CHANNEL_AS_OWNER in ignored[0]
    assert sdeps.settings.stripe_api_key.get_secret_value() not in caplog.text  # type: ignore[union-attr]

    run_job(deps, "dispute-watch", now=datetime.fromtimestamp(at(3.5), UTC),
            client=make_web_client(settings))  # fmt: skip

    posts = slack.calls("chat.postMessage")
    to_channel = [p.all_text for p in posts if p.params["channel"] == ALERTS]
    assert any("Leaky Ltd" in t for t in to_channel) and any("Owned Inc" in t for t in to_channel)
    assert [p.all_text for p in posts if p.params["channel"] == OWNER] != []
    assert all("Owned Inc" in p.all_text for p in posts if p.params["channel"] == OWNER)
    assert [p for p in posts if p.params["channel"] == CHANNEL_AS_OWNER] == []
