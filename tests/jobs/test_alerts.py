"""At-risk alerts once on entering high risk; dispute reminders at 49 h, not at 47 h."""

from __future__ import annotations

from datetime import timedelta

import pytest
from slack_sdk import WebClient
from sqlalchemy import text

from bot.answer import answer
from jobs.runner import run_job
from tests.fakes.slack_api import FakeSlack
from tests.jobs import ledger
from tests.jobs.conftest import ALERTS
from tests.jobs.ledger import MONDAY, OWNER
from tools.deps import ToolDeps


def _to(fake: FakeSlack, channel: str) -> list[str]:
    return [c.all_text for c in fake.calls("chat.postMessage") if c.params["channel"] == channel]


def test_account_entering_high_risk_alerts_once_to_channel_and_owner(
    jdeps: ToolDeps, fake_slack: FakeSlack, client: WebClient
) -> None:
    assert run_job(jdeps, "at-risk-scan", now=MONDAY, client=client) == []
    assert _to(fake_slack, ALERTS) == []
    tuesday = MONDAY + timedelta(days=1)
    ledger.failed_payment(jdeps, "R1", tuesday - timedelta(hours=3), "fail-1")
    alerted = run_job(jdeps, "at-risk-scan", now=tuesday, client=client)
    assert alerted == [ledger.customer_id(jdeps, "RISKY")]
    for target in (ALERTS, OWNER):
        texts = _to(fake_slack, target)
        assert len(texts) == 1
        assert "Risky Inc" in texts[0] and "high risk" in texts[0]
        assert "1 failed payment attempt" in texts[0] and "weighted days past due rose" in texts[0]
    buttons = [
        e["action_id"]
        for c in fake_slack.calls("chat.postMessage")
        for b in c.blocks
        if b["type"] == "actions"
        for e in b["elements"]
    ]
    assert "arbot_alert_draft_reminder" in buttons and "arbot_alert_snooze" in buttons
    # same day again, and the next day while still high: nothing more
    assert run_job(jdeps, "at-risk-scan", now=tuesday + timedelta(hours=1), client=client) is None
    assert run_job(jdeps, "at-risk-scan", now=tuesday + timedelta(days=1), client=client) == []
    assert len(_to(fake_slack, ALERTS)) == 1 and len(_to(fake_slack, OWNER)) == 1


def test_dispute_open_49_hours_reminds_47_hours_does_not(
    jdeps: ToolDeps, fake_slack: FakeSlack, client: WebClient
) -> None:
    # the fixture's 5-day-old dispute on D3 reminds too; count only these two
    ledger.add_dispute(jdeps, "D1", opened_at=MONDAY - timedelta(hours=49), external_id="dp-49")
    ledger.add_dispute(jdeps, "G3", opened_at=MONDAY - timedelta(hours=47), external_id="dp-47")
    out = run_job(jdeps, "dispute-watch", now=MONDAY, client=client)
    texts = "\n".join(_to(fake_slack, ALERTS))
    assert "open 49 hours" in texts
    assert "open 47 hours" not in texts
    assert len(out["reminded"]) == 2  # dp-49 and the 5-day-old one
    # the 47-hour one is young: alerted as new, at once, once
    assert len(out["new"]) == 1 and "New dispute: Goodpay Ltd" in texts
    again = run_job(jdeps, "dispute-watch", now=MONDAY + timedelta(hours=1), client=client)
    assert again == {"new": [], "reminded": []}
    # the next day both are over 48 hours: one reminder each
    nxt = run_job(jdeps, "dispute-watch", now=MONDAY + timedelta(days=1), client=client)
    assert len(nxt["reminded"]) == 3


def test_evidence_due_within_three_days_reminds_a_young_dispute(
    jdeps: ToolDeps, fake_slack: FakeSlack, client: WebClient
) -> None:
    ledger.add_dispute(
        jdeps,
        "G3",
        opened_at=MONDAY - timedelta(hours=60),
        external_id="dp-ev",
        evidence_due_at=MONDAY + timedelta(days=2),
    )
    ledger.add_dispute(
        jdeps,
        "D1",
        opened_at=MONDAY - timedelta(hours=10),
        external_id="dp-young",
        evidence_due_at=MONDAY + timedelta(days=2),
    )
    out = run_job(jdeps, "dispute-watch", now=MONDAY, client=client)
    texts = "\n".join(_to(fake_slack, ALERTS))
    assert "evidence due in 48 hours" in texts
    assert len(out["new"]) == 1  # dp-young: new now (reminders start with the next run)
    nxt = run_job(jdeps, "dispute-watch", now=MONDAY + timedelta(hours=2), client=client)
    assert len(nxt["reminded"]) == 1  # dp-young's evidence is due soon: reminded today


def test_stripe_webhook_hook_alerts_a_new_dispute_at_once_and_once(
    jdeps: ToolDeps, fake_slack: FakeSlack, client: WebClient
) -> None:
    from datetime import UTC, datetime

    from jobs.dispute_watch import webhook_hook
    from tools.stripe_apply import NewDispute

    did = ledger.add_dispute(
        jdeps, "G3", opened_at=datetime.now(UTC) - timedelta(minutes=1), external_id="dp_stripe"
    )
    new = NewDispute(
        dispute_id=did,
        external_id="dp_stripe",
        customer_external_id="GOOD",
        invoice_external_id="G3",
        amount_minor=10000,
        currency="USD",
        reason="fraudulent",
        evidence_due_at=None,
    )
    hook = webhook_hook(jdeps, client)
    hook(new)
    hook(new)  # a redelivery, or the scheduled watch, changes nothing
    texts = _to(fake_slack, ALERTS)
    assert len(texts) == 1 and texts[0].startswith("New dispute: Goodpay Ltd")
    out = run_job(jdeps, "dispute-watch", now=datetime.now(UTC), client=client)
    assert did not in out["new"]


def test_an_owner_stored_as_a_channel_id_gets_no_copy(
    jdeps: ToolDeps, fake_slack: FakeSlack, client: WebClient, caplog: pytest.LogCaptureFixture
) -> None:
    channel = "C0123ABCD"  # written before owner ids were checked: a channel, not a person
    with jdeps.engine.begin() as conn:
        conn.execute(
            text("UPDATE customers SET owner_slack_id = :o WHERE external_id = 'RISKY'"),
            {"o": channel},
        )
    tuesday = MONDAY + timedelta(days=1)
    ledger.failed_payment(jdeps, "R1", tuesday - timedelta(hours=3), "fail-1")

    alerted = run_job(jdeps, "at-risk-scan", now=tuesday, client=client)

    assert alerted == [ledger.customer_id(jdeps, "RISKY")]
    [alert] = _to(fake_slack, ALERTS)
    assert "Risky Inc" in alert and "high risk" in alert
    assert _to(fake_slack, channel) == []
    assert {c.params["channel"] for c in fake_slack.calls("chat.postMessage")} == {ALERTS}
    assert "event=owner_dm_skipped" in caplog.text and channel in caplog.text


def test_reminders_and_the_disputes_answer_count_hours_and_days_in_english(
    jdeps: ToolDeps, fake_slack: FakeSlack, client: WebClient
) -> None:
    ledger.add_dispute(
        jdeps,
        "D1",
        opened_at=MONDAY - timedelta(hours=49),
        external_id="dp-1h",
        evidence_due_at=MONDAY + timedelta(hours=1, minutes=30),
    )
    run_job(jdeps, "dispute-watch", now=MONDAY, client=client)
    texts = "\n".join(_to(fake_slack, ALERTS))
    assert "open 49 hours (target: resolved within 48 hours)" in texts
    assert "evidence due in 1 hour (" in texts
    reply = answer(jdeps, f"open disputes as of {MONDAY.date()}")
    assert "chargeback, open 2 days" in reply.text, reply.text  # opened Saturday
    ledger.add_dispute(jdeps, "G3", opened_at=MONDAY - timedelta(hours=9), external_id="dp-1d")
    reply = answer(jdeps, f"open disputes as of {MONDAY.date()}")
    assert "chargeback, open 1 day" in reply.text and "open 1 days" not in reply.text, reply.text
