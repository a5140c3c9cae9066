"""An email whose SMTP answer never came may have been delivered: it is never sent again, and
the card says "delivery unknown" instead of "sent to" or a retry.

Signed clicks into the real Bolt app, the real outbox and mailer, a real SMTP server (aiosmtpd)
that drops the connection after taking the message, or holds its answer while a second worker
takes the action over.
"""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import text

from bot.blocks.ids import ActionId
from tests.approvals.conftest import APPROVER, SlackEnv
from tests.approvals.test_slack_approvals import click, last_card, propose_reminder
from tests.fakes.smtp_server import FakeSmtp
from tools import actions
from tools.deps import ToolDeps


def _sent_records(deps: ToolDeps) -> int:
    with deps.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM sent_emails")).scalar_one())


def test_connection_dropped_before_the_data_answer_sends_one_copy_and_says_unknown(
    slack_env: SlackEnv, smtp: FakeSmtp
) -> None:
    a, ts = propose_reminder(slack_env, invoice="INV-A1")
    click(slack_env, ActionId.APPROVE, a, ts, APPROVER)
    last_card(slack_env, 1)
    smtp.drop_after_data()

    slack_env.outbox().run_once()

    assert len(smtp.wait_for(1)) == 1
    after = actions.load(slack_env.deps, a.id)
    assert after.status == "done"
    card = slack_env.slack.calls("chat.update")[-1].all_text
    assert "delivery unknown: check the outbox" in card
    assert f"arbot-action-{a.id}@initrode.example.com" in card
    assert "sent to" not in card
    later = actions.now_utc() + timedelta(days=1)  # past every retry delay and lease
    slack_env.outbox(clock=lambda: later).run_once()
    slack_env.outbox(clock=lambda: later).run_once()
    assert len(smtp.messages) == 1
    assert _sent_records(slack_env.deps) == 1


def test_refusal_after_another_worker_took_over_keeps_the_sent_record(
    slack_env: SlackEnv, smtp: FakeSmtp
) -> None:
    a, ts = propose_reminder(slack_env, invoice="INV-A1")
    click(slack_env, ActionId.APPROVE, a, ts, APPROVER)
    last_card(slack_env, 1)
    smtp.hold_data()
    slow = threading.Thread(target=slack_env.outbox().run_once)
    slow.start()
    try:
        assert smtp.data_arrived.wait(30), "the first worker never reached SMTP DATA"
        later = actions.now_utc() + timedelta(hours=1)  # the first worker's lease has run out
        slack_env.outbox(clock=lambda: later).run_once()  # takes over: delivery unknown
    finally:
        smtp.release()  # the first worker now hears "421" for a message the card calls unknown
        slow.join(30)
    assert not slow.is_alive()

    after = actions.load(slack_env.deps, a.id)
    assert after.status == "done"
    assert (after.last_error or "").startswith("delivery unknown: check the outbox")
    assert _sent_records(slack_env.deps) == 1, "the record the card points at must stay"
    card = slack_env.slack.calls("chat.update")[-1].all_text
    assert "delivery unknown: check the outbox" in card and "sent to" not in card
