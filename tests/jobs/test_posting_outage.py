"""A Slack outage delays a job's post, never loses it: a claim is done only after Slack took
the post; the next run posts what the failed one did not, once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import text

from jobs.runner import run_job
from tests.fakes.slack_api import FakeSlack
from tests.jobs import ledger
from tests.jobs.conftest import ALERTS, APPROVALS
from tests.jobs.ledger import MONDAY, OWNER
from tools.deps import ToolDeps


def _texts(fake: FakeSlack, channel: str) -> list[str]:
    return [c.all_text for c in fake.calls("chat.postMessage") if c.params["channel"] == channel]


def test_new_dispute_alert_survives_an_outage(
    jdeps: ToolDeps, fake_slack: FakeSlack, client: WebClient
) -> None:
    ledger.add_dispute(jdeps, "G3", opened_at=MONDAY - timedelta(hours=2), external_id="dp-new")
    fake_slack.fail_next("chat.postMessage", status=500, retry_after=None, error="internal_error")
    with pytest.raises(SlackApiError):
        run_job(jdeps, "dispute-watch", now=MONDAY, client=client)
    assert not [t for t in _texts(fake_slack, ALERTS) if "New dispute" in t]
    out = run_job(jdeps, "dispute-watch", now=MONDAY + timedelta(minutes=5), client=client)
    assert len(out["new"]) == 1
    run_job(jdeps, "dispute-watch", now=MONDAY + timedelta(minutes=10), client=client)
    new = [t for t in _texts(fake_slack, ALERTS) if "New dispute" in t]
    assert len(new) == 1 and new[0].startswith("New dispute: Goodpay Ltd")


def test_dispute_reminders_survive_an_outage(
    jdeps: ToolDeps, fake_slack: FakeSlack, client: WebClient
) -> None:
    # the fixture's 5-day-old dispute is reminded once a day
    fake_slack.fail_next("chat.postMessage", status=500, retry_after=None, error="internal_error")
    with pytest.raises(SlackApiError):
        run_job(jdeps, "dispute-watch", now=MONDAY, client=client)
    assert _texts(fake_slack, ALERTS) == []
    run_job(jdeps, "dispute-watch", now=MONDAY + timedelta(minutes=5), client=client)
    run_job(jdeps, "dispute-watch", now=MONDAY + timedelta(minutes=10), client=client)
    assert len(_texts(fake_slack, ALERTS)) == 1


def test_dunning_cards_survive_an_outage(
    jdeps: ToolDeps, fake_slack: FakeSlack, client: WebClient
) -> None:
    fake_slack.fail_next("chat.postMessage", status=500, retry_after=None, error="internal_error")
    with pytest.raises(SlackApiError):
        run_job(jdeps, "dunning", now=MONDAY, client=client)
    assert _texts(fake_slack, APPROVALS) == []
    second = run_job(jdeps, "dunning", now=MONDAY + timedelta(minutes=5), client=client)
    assert len(second) == 3
    assert run_job(jdeps, "dunning", now=MONDAY + timedelta(minutes=10), client=client) == []
    cards = _texts(fake_slack, APPROVALS)
    assert len(cards) == 3, "each reminder's card once, none lost"
    for number in ("INV-D1", "INV-D2", "INV-R1"):
        assert sum(number in c for c in cards) == 1
    with jdeps.sessions() as session:
        n = session.execute(text("SELECT count(*) FROM actions")).scalar_one()
    assert n == 3, "the retry posts the reminder drafted before the outage, no second draft"


def test_at_risk_alert_survives_an_outage(
    jdeps: ToolDeps, fake_slack: FakeSlack, client: WebClient
) -> None:
    tuesday = MONDAY + timedelta(days=1)
    ledger.failed_payment(jdeps, "R1", tuesday - timedelta(hours=3), "fail-1")
    fake_slack.fail_next("chat.postMessage", status=500, retry_after=None, error="internal_error")
    with pytest.raises(SlackApiError):
        run_job(jdeps, "at-risk-scan", now=tuesday, client=client)
    assert _texts(fake_slack, ALERTS) == []
    wednesday = tuesday + timedelta(days=1)
    assert run_job(jdeps, "at-risk-scan", now=wednesday, client=client) == [
        ledger.customer_id(jdeps, "RISKY")
    ]
    assert run_job(jdeps, "at-risk-scan", now=wednesday + timedelta(days=1), client=client) == []
    for target in (ALERTS, OWNER):
        texts = _texts(fake_slack, target)
        assert len(texts) == 1 and "Risky Inc" in texts[0] and "high risk" in texts[0]


def test_an_owner_who_cannot_be_reached_does_not_repeat_the_channel_alert(
    jdeps: ToolDeps, fake_slack: FakeSlack, client: WebClient
) -> None:
    fake_slack.refuse_channel(OWNER)
    ledger.add_dispute(jdeps, "R1", opened_at=MONDAY - timedelta(hours=2), external_id="dp-r")
    for minutes in (0, 15, 30):
        run_job(jdeps, "dispute-watch", now=MONDAY + timedelta(minutes=minutes), client=client)
    new = [t for t in _texts(fake_slack, ALERTS) if t.startswith("New dispute: Risky Inc")]
    assert len(new) == 1, "the channel's alert once, though the owner's DM keeps failing"
