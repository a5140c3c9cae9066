"""An email that cannot be built is never recorded as sent, and a worker that died between the
sent record and SMTP's answer leaves "delivery unknown" on the card, never "sent to".

Signed clicks into the real Bolt app, the real outbox, a real SMTP server (aiosmtpd) and, for
the crash, a real worker process killed while SMTP holds its DATA unanswered.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.blocks.ids import ActionId
from bot.cards import post_card
from tests.approvals import ledger
from tests.approvals.conftest import APPROVALS_CHANNEL, APPROVER, COLLECTOR, SlackEnv
from tests.approvals.test_slack_approvals import click, last_card, propose_reminder
from tests.fakes.smtp_server import FakeSmtp
from tools import actions
from tools.deps import ToolDeps
from tools.dunning import DunningError, DunningInput, edit_draft, propose_dunning_email

ROOT = Path(__file__).resolve().parents[2]
BREAKS = {"CR": "\r", "LINE SEPARATOR": "\u2028", "NEXT LINE": "\u0085"}


def _sent_records(deps: ToolDeps) -> int:
    with deps.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM sent_emails")).scalar_one())


def _write_payload(deps: ToolDeps, action_id: int, **changes: str) -> None:
    """A draft stored before headers were checked at proposal time (an older release)."""
    a = actions.load(deps, action_id)
    with deps.sessions() as session, session.begin():
        from db.models import Action

        row = session.get(Action, action_id)
        assert row is not None
        row.payload = a.payload | changes


@pytest.mark.parametrize("char", BREAKS.values(), ids=BREAKS.keys())
@pytest.mark.parametrize("field", ["subject", "recipient"])
def test_a_header_that_breaks_the_email_fails_the_action_and_nothing_is_sent(
    slack_env: SlackEnv, smtp: FakeSmtp, field: str, char: str
) -> None:
    a = propose_dunning_email(
        slack_env.deps, DunningInput(invoice="INV-A1", requested_by=COLLECTOR)
    )
    if field == "subject":
        _write_payload(slack_env.deps, a.id, subject=f"Overdue{char}Bcc: x@evil.example.com")
    else:
        bad = f"{ledger.ACME_AP}{char}Bcc: x@evil.example.com"
        _write_payload(slack_env.deps, a.id, recipient=bad)
        with slack_env.deps.engine.begin() as conn:  # the ledger holds the same contact
            conn.execute(
                text("UPDATE customers SET ap_email = :e WHERE external_id = 'ACME'"), {"e": bad}
            )
    a = actions.load(slack_env.deps, a.id)
    ts = post_card(slack_env.client, slack_env.deps, a, channel=APPROVALS_CHANNEL)
    click(slack_env, ActionId.APPROVE, a, ts, APPROVER)
    last_card(slack_env, 1)
    slack_env.outbox().run_once()
    later = actions.now_utc() + timedelta(hours=1)  # past any lease: a restarted worker
    slack_env.outbox(clock=lambda: later).run_once()
    after = actions.load(slack_env.deps, a.id)
    assert after.status == "failed"
    assert f"the {field} holds a line break or control character" in (after.last_error or "")
    card = slack_env.slack.calls("chat.update")[-1].all_text
    assert "but it failed: email not sent: the " + field in card
    assert "sent to" not in card
    assert smtp.messages == [] and _sent_records(slack_env.deps) == 0


@pytest.mark.parametrize("char", BREAKS.values(), ids=BREAKS.keys())
def test_such_headers_are_refused_when_drafted_or_edited(ap_deps: ToolDeps, char: str) -> None:
    a = propose_dunning_email(ap_deps, DunningInput(invoice="INV-A1", requested_by=COLLECTOR))
    with pytest.raises(DunningError, match="the subject holds a line break"):
        edit_draft(ap_deps, a.id, COLLECTOR, f"INV-A1{char}Bcc: x@y.z", a.payload["body"])
    with ap_deps.engine.begin() as conn:
        conn.execute(
            text("UPDATE customers SET ap_email = :e WHERE external_id = 'ACME'"),
            {"e": f"ap@acme.example.com{char}"},
        )
    with pytest.raises(DunningError, match="the recipient holds a line break"):
        propose_dunning_email(ap_deps, DunningInput(invoice="INV-A2", requested_by=COLLECTOR))


_WORKER = (
    "from tools.deps import connect; from tools.outbox import Outbox; "
    "from tools.settings import load_settings; Outbox(connect(load_settings())).run_once()"
)


def test_worker_killed_while_smtp_holds_the_message_shows_delivery_unknown(
    slack_env: SlackEnv, smtp: FakeSmtp, tmp_path: Path
) -> None:
    a, ts = propose_reminder(slack_env, invoice="INV-A1")
    click(slack_env, ActionId.APPROVE, a, ts, APPROVER)
    last_card(slack_env, 1)
    smtp.hold_data()
    s = slack_env.deps.settings
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARBOT_", "SLACK_"))}
    env |= {
        "ARBOT_DATABASE_URL": s.database_url,
        "ARBOT_SMTP_URL": str(s.smtp_url),
        "ARBOT_SMTP_FROM": s.smtp_from,
        "ARBOT_TIMEZONE": "UTC",
        "PYTHONPATH": str(ROOT),
    }
    worker = subprocess.Popen([sys.executable, "-c", _WORKER], cwd=tmp_path, env=env)
    try:
        assert smtp.data_arrived.wait(30), "the worker never reached SMTP DATA"
    finally:
        worker.kill()  # dies after the sent record, before SMTP answered
        worker.wait(10)
    smtp.release()
    assert actions.load(slack_env.deps, a.id).status == "executing"
    later = actions.now_utc() + timedelta(hours=1)  # the dead worker's lease has run out
    slack_env.outbox(clock=lambda: later).run_once()
    after = actions.load(slack_env.deps, a.id)
    assert after.status == "done"  # never sent again: the record stands
    card = slack_env.slack.calls("chat.update")[-1].all_text
    assert "delivery unknown: check the outbox" in card
    assert f"arbot-action-{a.id}@initrode.example.com" in card
    assert "sent to" not in card
    slack_env.outbox(clock=lambda: later).run_once()
    assert smtp.messages == [] and _sent_records(slack_env.deps) == 1
