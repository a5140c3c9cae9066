"""What a person approves is what goes out: the card shows the whole draft, the draft links
nowhere but the invoice's payment page, and an approval applies to the version on the card.

Signed clicks and modal submissions into the real Bolt app, the real outbox and a real SMTP
server; each test checks what the clicker sees (the modal's error, the ephemeral note, the
redrawn card) and what reaches the AP contact's inbox.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.blocks.ids import ActionId, ViewId
from tests.approvals import ledger
from tests.approvals.conftest import APPROVER, COLLECTOR, SlackEnv
from tests.approvals.ledger import day
from tests.approvals.test_slack_approvals import (
    click,
    ephemeral,
    last_card,
    opened_view,
    propose_reminder,
    shown_value,
)
from tests.fakes.signing import view_submission
from tests.fakes.smtp_server import FakeSmtp
from tests.ledger_files import customer, invoice, write_csvs
from tools import actions
from tools.actions import ActionInfo
from tools.csv_import import import_directory
from tools.deps import ToolDeps
from tools.dunning import MAX_BODY, DunningError, DunningInput, propose_dunning_email

PAY_PAGE = "https://invoice.stripe.com/i/acct_1Test/test_YWNjdF9BMQ"
FACTS = "INV-A1 for USD 1,200.00 is still open."


def edit(env: SlackEnv, a: ActionInfo, ts: str, subject: str, body: str) -> str:
    """Open Edit on the card and save `subject`/`body`; the response body ("" when saved)."""
    before = len(env.slack.calls("views.open"))
    click(env, ActionId.EDIT, a, ts, COLLECTOR)
    opened = env.slack.wait_for("views.open", count=before + 1)[-1].params["view"]
    view = json.loads(opened) if isinstance(opened, str) else dict(opened)
    values = {
        "subject": {"subject": {"type": "plain_text_input", "value": subject}},
        "body": {"body": {"type": "plain_text_input", "value": body}},
    }
    status, answer = env.sender.interaction(
        view_submission(
            ViewId.EDIT_DRAFT,
            user=COLLECTOR,
            values=values,
            private_metadata=view["private_metadata"],
        )
    )
    assert status == 200
    return answer


def test_a_body_longer_than_the_card_shows_whole_is_refused(slack_env: SlackEnv) -> None:
    a, ts = propose_reminder(slack_env, invoice="INV-A1")
    click(slack_env, ActionId.EDIT, a, ts, COLLECTOR)
    body_input = opened_view(slack_env)["blocks"][2]["element"]
    assert body_input["max_length"] == MAX_BODY == 2_500
    padding = "Thank you for your business. "
    too_long = (FACTS + "\n" + padding * 100)[: MAX_BODY + 1] + "END"
    answer = edit(slack_env, a, ts, "INV-A1", too_long)
    assert f"the body is {len(too_long):,} characters" in answer
    assert "the most an approval card shows whole is 2,500" in answer
    assert actions.load(slack_env.deps, a.id).payload["body"] == a.payload["body"]
    assert slack_env.slack.calls("chat.update") == []
    whole = (FACTS + "\n" + padding * 100)[: MAX_BODY - 3] + "END"
    assert edit(slack_env, a, ts, "INV-A1", whole) == ""
    card = last_card(slack_env, 1)
    assert whole[-200:] in card and "more characters" not in card, "the card shows it whole"


def test_no_link_but_the_invoices_payment_page(slack_env: SlackEnv) -> None:
    with slack_env.deps.engine.begin() as conn:
        conn.execute(
            text("UPDATE invoices SET payment_url = :u WHERE number = 'INV-A1'"), {"u": PAY_PAGE}
        )
    a, ts = propose_reminder(slack_env, invoice="INV-A1")
    assert f"Pay online: {PAY_PAGE}" in a.payload["body"]
    for link in ("https://invoice.stripe.com.evil.example/pay", "www.acme-payments.example/x"):
        answer = edit(slack_env, a, ts, "INV-A1", f"{FACTS} Pay here: {link}.")
        assert "may link only to the invoice's own payment page" in answer and link in answer
    answer = edit(slack_env, a, ts, "INV-A1 <http://evil.example|your invoice>", FACTS)
    assert "http://evil.example" in answer
    assert actions.load(slack_env.deps, a.id).payload["body"] == a.payload["body"]
    assert edit(slack_env, a, ts, "INV-A1", f"{FACTS} Pay online ({PAY_PAGE}).") == ""
    assert PAY_PAGE in last_card(slack_env, 1)


def test_a_link_without_a_scheme_is_a_link(slack_env: SlackEnv) -> None:
    a, ts = propose_reminder(slack_env, invoice="INV-A1")
    for link in ("evil-pay.com/inv/1", "bit.ly/3xYz", "PAY.EVIL.CO.UK", "mailto:ap@evil.example"):
        answer = edit(slack_env, a, ts, "INV-A1", f"{FACTS} Pay at {link}.")
        assert "may link only to the invoice's own payment page" in answer and link in answer
    assert actions.load(slack_env.deps, a.id).payload["body"] == a.payload["body"]
    plain = (
        f"{FACTS} As agreed (e.g. on INV-0001.5), reply to {ledger.ACME_AP} with the "
        "remittance; the invoice.pdf is attached."
    )
    assert edit(slack_env, a, ts, "INV-A1", plain) == ""
    assert actions.load(slack_env.deps, a.id).payload["body"] == plain


def test_approving_a_card_drawn_before_an_edit_is_refused_and_the_card_redrawn(
    slack_env: SlackEnv, smtp: FakeSmtp
) -> None:
    a, ts = propose_reminder(slack_env, invoice="INV-A1")
    old_card = shown_value(slack_env, ActionId.APPROVE, a)
    edited = f"Hello,\n\n{FACTS} Could you look into it?\n\nAR"
    assert edit(slack_env, a, ts, "About INV-A1", edited) == ""
    assert "Could you look into it?" in last_card(slack_env, 1)
    # The approver's Slack still shows the first draft: they approve what they read there.
    click(slack_env, ActionId.APPROVE, a, ts, APPROVER, value=old_card)
    [told] = ephemeral(slack_env)
    assert "edited after the card you clicked was drawn; nothing was approved" in told
    redrawn = last_card(slack_env, 2)
    assert "Could you look into it?" in redrawn and "Waiting for approval" in redrawn
    assert actions.load(slack_env.deps, a.id).status == "proposed"
    slack_env.outbox().run_once()
    assert smtp.messages == []
    # The current card approves, and the email that arrives is the one it showed.
    click(slack_env, ActionId.APPROVE, a, ts, APPROVER)
    assert f"Approved by <@{APPROVER}>" in last_card(slack_env, 3)
    slack_env.outbox().run_once()
    [msg] = smtp.wait_for(1)
    assert msg.rcpt_tos == [ledger.ACME_AP] and msg["Subject"] == "About INV-A1"
    assert msg.body.replace("\r\n", "\n").strip() == edited


def test_a_reminder_too_long_for_the_card_is_not_proposed(
    ap_deps: ToolDeps, tmp_path: Path
) -> None:
    """Forty overdue invoices make a template longer than the card shows whole: no card, and
    the refusal says why (a reminder per invoice, or fewer at once, fits)."""
    rows = [invoice(f"M{n:02d}", "100.00", day(-60), day(-30), customer_id="MANY")
            for n in range(40)]  # fmt: skip
    write_csvs(tmp_path / "many", customers=[customer("MANY", name="Many Inc")], invoices=rows)
    import_directory(ap_deps.engine, tmp_path / "many", tz=ap_deps.settings.tz)
    with pytest.raises(DunningError) as refused:
        propose_dunning_email(ap_deps, DunningInput(customer="Many Inc", requested_by=COLLECTOR))
    assert str(refused.value).startswith("no reminder for Many Inc: the body is ")
    assert str(refused.value).endswith(
        "the most an approval card shows whole is 2,500; name one invoice at a time"
    )
    one = propose_dunning_email(ap_deps, DunningInput(invoice="INV-M07", requested_by=COLLECTOR))
    assert len(one.payload["body"]) <= MAX_BODY
