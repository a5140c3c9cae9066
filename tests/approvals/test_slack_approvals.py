"""Approval cards end to end: signed Slack interactions into the real app, real SMTP, fake
Stripe and fake Slack Web API on loopback. Each test asserts what a person would see: the card,
the ephemeral refusal, the email in the AP contact's inbox, the ledger and Stripe state."""

from __future__ import annotations

import contextlib
import json
import threading
from datetime import timedelta
from typing import Any

from bot.blocks.ids import ActionId, CardRef, ViewId
from bot.cards import post_card
from tests.approvals import ledger
from tests.approvals.conftest import (
    APPROVALS_CHANNEL,
    APPROVER,
    APPROVER_2,
    COLLECTOR,
    OUTSIDER,
    SlackEnv,
)
from tests.fakes.signing import block_action, view_submission
from tests.fakes.smtp_server import FakeSmtp
from tests.fakes.stripe_api import FakeStripe
from tools import actions
from tools.actions import ActionInfo
from tools.dunning import DunningInput, propose_dunning_email
from tools.metrics import MetricsInput
from tools.report import ar_report
from tools.write_off import WriteOffInput, propose_write_off


def propose_reminder(env: SlackEnv, **kw: Any) -> tuple[ActionInfo, str]:
    args = {"customer": "Acme", "requested_by": COLLECTOR} | kw
    a = propose_dunning_email(env.deps, DunningInput(**args))
    ts = post_card(env.client, env.deps, a, channel=APPROVALS_CHANNEL)
    return a, ts


def propose_write_off_card(env: SlackEnv, invoice: str = "INV-G1") -> tuple[ActionInfo, str]:
    a = propose_write_off(
        env.deps,
        WriteOffInput(invoice=invoice, reason="customer went bankrupt", requested_by=COLLECTOR),
    )
    return a, post_card(env.client, env.deps, a, channel=APPROVALS_CHANNEL)


def shown_value(env: SlackEnv, button: ActionId, a: ActionInfo) -> str:
    """The button's value on the latest drawing of `a`'s card that has it: what a person
    clicks (a stale copy of the card still shows its old buttons)."""
    for call in reversed(env.slack.calls()):
        if call.method not in ("chat.postMessage", "chat.update"):
            continue
        for b in call.blocks:
            for e in b.get("elements", []) if b["type"] == "actions" else []:
                if e["action_id"] == button and CardRef.parse(e["value"]).action_id == a.id:
                    return str(e["value"])
    raise AssertionError(f"no card for action {a.id} shows {button}")


def click(
    env: SlackEnv, button: ActionId, a: ActionInfo, ts: str, user: str, value: str | None = None
) -> None:
    value = value or shown_value(env, button, a)
    status, _ = env.sender.interaction(
        block_action(button, value=value, user=user, channel=APPROVALS_CHANNEL, message_ts=ts)
    )
    assert status == 200


def last_card(env: SlackEnv, count: int) -> str:
    """Text of the card after the `count`-th in-place update."""
    updates = env.slack.wait_for("chat.update", count=count)
    assert all(u.params["ts"] == updates[0].params["ts"] for u in updates)
    return updates[-1].all_text


def opened_view(env: SlackEnv) -> dict[str, Any]:
    [opened] = env.slack.wait_for("views.open")
    view = opened.params["view"]
    return json.loads(view) if isinstance(view, str) else dict(view)


def ephemeral(env: SlackEnv, count: int = 1) -> list[str]:
    return [c.params["text"] for c in env.slack.wait_for("chat.postEphemeral", count=count)]


def test_card_shows_what_will_happen_and_buttons_carry_its_version(slack_env: SlackEnv) -> None:
    a, _ts = propose_reminder(slack_env)
    [post] = slack_env.slack.calls("chat.postMessage")
    assert post.params["channel"] == APPROVALS_CHANNEL
    text = post.all_text
    assert f"To:* {ledger.ACME_AP}" in text
    assert a.payload["subject"] in text
    assert "INV-A1" in text and "USD 1,200.00" in text
    buttons = [e for b in post.blocks if b["type"] == "actions" for e in b["elements"]]
    assert [b["text"]["text"] for b in buttons] == ["Approve", "Edit", "Reject"]
    shown = CardRef(action_id=a.id, version=a.shown_version)
    assert {CardRef.parse(b["value"]) for b in buttons} == {shown}


def test_approve_sends_one_email_and_updates_the_card(slack_env: SlackEnv, smtp: FakeSmtp) -> None:
    a, ts = propose_reminder(slack_env)
    click(slack_env, ActionId.APPROVE, a, ts, APPROVER)
    card = last_card(slack_env, 1)
    assert f"Approved by <@{APPROVER}>" in card
    assert "Approve" not in [
        e["text"]["text"]
        for b in slack_env.slack.calls("chat.update")[-1].blocks
        if b["type"] == "actions"
        for e in b["elements"]
    ]
    slack_env.outbox().run_once()
    [msg] = smtp.wait_for(1)
    assert msg.rcpt_tos == [ledger.ACME_AP] and msg["Subject"] == a.payload["subject"]
    assert f"sent to {ledger.ACME_AP}" in slack_env.slack.calls("chat.update")[-1].all_text
    trail = [(t["actor"], t["event"]) for t in actions.audit_trail(slack_env.deps, a.id)]
    assert trail == [
        (COLLECTOR, "proposed"),
        (APPROVER, "approved"),
        ("outbox", "executing"),
        ("outbox", "done"),
    ]


def test_double_click_from_two_users_sends_one_email(slack_env: SlackEnv, smtp: FakeSmtp) -> None:
    a, ts = propose_reminder(slack_env)
    barrier = threading.Barrier(2)

    def go(user: str) -> None:
        barrier.wait()
        click(slack_env, ActionId.APPROVE, a, ts, user)

    threads = [threading.Thread(target=go, args=(u,)) for u in (APPROVER, APPROVER_2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    [told] = ephemeral(slack_env)
    winner = actions.load(slack_env.deps, a.id).decided_by
    assert winner in (APPROVER, APPROVER_2)
    assert told == f"Already approved by <@{winner}>."
    trail = [t["event"] for t in actions.audit_trail(slack_env.deps, a.id)]
    assert trail.count("approved") == 1
    slack_env.outbox().run_once()
    slack_env.outbox().run_once()
    assert len(smtp.wait_for(1)) == 1


def test_self_approval_and_non_approver_are_refused(slack_env: SlackEnv, smtp: FakeSmtp) -> None:
    a, ts = propose_reminder(slack_env)
    click(slack_env, ActionId.APPROVE, a, ts, COLLECTOR)
    assert "a different approver must approve" in ephemeral(slack_env, 1)[0]
    click(slack_env, ActionId.APPROVE, a, ts, OUTSIDER)
    assert "Only configured approvers" in ephemeral(slack_env, 2)[1]
    assert actions.load(slack_env.deps, a.id).status == "proposed"
    slack_env.outbox().run_once()
    assert smtp.messages == []


def test_an_approver_approves_where_a_non_approver_is_refused(slack_env: SlackEnv) -> None:
    a, ts = propose_reminder(slack_env)
    click(slack_env, ActionId.APPROVE, a, ts, OUTSIDER)
    assert ephemeral(slack_env) == [
        "Only configured approvers (ARBOT_APPROVERS) can approve actions."
    ]
    assert actions.load(slack_env.deps, a.id).status == "proposed"
    click(slack_env, ActionId.APPROVE, a, ts, APPROVER)
    [update] = slack_env.slack.wait_for("chat.update")
    assert update.params["ts"] == ts and f"Approved by <@{APPROVER}>" in update.all_text
    assert actions.load(slack_env.deps, a.id).status == "approved"


def test_edit_is_only_for_approvers_or_the_proposer_and_only_while_proposed(
    slack_env: SlackEnv,
) -> None:
    a, ts = propose_reminder(slack_env)
    click(slack_env, ActionId.EDIT, a, ts, OUTSIDER)
    assert ephemeral(slack_env) == ["Only approvers or the proposer can edit a draft."]
    click(slack_env, ActionId.APPROVE, a, ts, APPROVER)
    last_card(slack_env, 1)
    click(slack_env, ActionId.EDIT, a, ts, COLLECTOR)
    assert ephemeral(slack_env, 2)[1] == "Already approved; it can no longer be edited."
    click(slack_env, ActionId.REJECT, a, ts, APPROVER_2)
    assert ephemeral(slack_env, 3)[2] == "Already approved; nothing to reject."
    assert slack_env.slack.calls("views.open") == []


def test_dual_approval_write_off_marks_stripe_once_and_updates_ledger(
    slack_env: SlackEnv, fake_stripe: FakeStripe
) -> None:
    cus = fake_stripe.add_customer(name="Globex")
    inv = fake_stripe.add_invoice(cus["id"], 900_000)
    ledger.make_stripe_invoice(slack_env.deps, "INV-G1", inv["id"])
    a, ts = propose_write_off_card(slack_env)
    card = slack_env.slack.calls("chat.postMessage")[0].all_text
    assert "Amount:* USD 9,000.00" in card and "Bad debt:" in card and "DSO:" in card
    click(slack_env, ActionId.APPROVE, a, ts, APPROVER)
    assert "second approver" in ephemeral(slack_env)[0]
    assert "1 of 2 approvals" in last_card(slack_env, 1)
    slack_env.outbox().run_once()
    assert fake_stripe.idempotency_keys == []  # nothing happens on one approval
    click(slack_env, ActionId.APPROVE, a, ts, APPROVER_2)
    assert f"Approved by <@{APPROVER}>, <@{APPROVER_2}>" in last_card(slack_env, 2)
    fake_stripe.fail(500, times=1, path=f"/v1/invoices/{inv['id']}/mark_uncollectible")
    box = slack_env.outbox()
    box.run_once()
    assert "retrying" in slack_env.slack.calls("chat.update")[-1].all_text
    box.run_once()
    assert "written off" in slack_env.slack.calls("chat.update")[-1].all_text
    assert fake_stripe.get("invoice", inv["id"])["status"] == "uncollectible"
    posted = [r for r in fake_stripe.requests if r.path.endswith("/mark_uncollectible")]
    assert [r.status for r in posted] == [500, 200]
    assert {r.headers["idempotency-key"] for r in posted} == {f"arbot-write-off-action-{a.id}"}
    metrics = ar_report(slack_env.deps, MetricsInput())
    assert metrics.written_off_minor == 900_000
    events = [t["event"] for t in actions.audit_trail(slack_env.deps, a.id)]
    assert events[:3] == ["proposed", "first_approval", "approved"]
    assert events[-1] == "done"


def test_edit_then_approve_sends_the_edited_email(slack_env: SlackEnv, smtp: FakeSmtp) -> None:
    a, ts = propose_reminder(slack_env, invoice="INV-A1")
    click(slack_env, ActionId.EDIT, a, ts, COLLECTOR)
    view = opened_view(slack_env)
    assert view["title"]["text"] == "Edit reminder"
    assert view["blocks"][1]["element"]["initial_value"] == a.payload["subject"]
    meta = view["private_metadata"]

    def submit(subject: str, body: str) -> tuple[int, str]:
        values = {
            "subject": {"subject": {"type": "plain_text_input", "value": subject}},
            "body": {"body": {"type": "plain_text_input", "value": body}},
        }
        return slack_env.sender.interaction(
            view_submission(ViewId.EDIT_DRAFT, user=COLLECTOR, values=values, private_metadata=meta)
        )

    status, answer = submit("About INV-A1", "Hi, INV-A1 is still open.")
    assert status == 200 and "must state INV-A1's open amount USD 1,200.00" in answer
    body = "Hi there,\n\nINV-A1 for USD 1,200.00 is still open. Could you look into it?\n\nAR"
    status, answer = submit("About INV-A1", body)
    assert status == 200 and "errors" not in answer
    assert "Edited by" in last_card(slack_env, 1)
    click(slack_env, ActionId.APPROVE, a, ts, APPROVER)
    assert f"Approved by <@{APPROVER}>" in last_card(slack_env, 2)
    slack_env.outbox().run_once()
    [msg] = smtp.wait_for(1)
    assert msg["Subject"] == "About INV-A1"
    assert "Could you look into it?" in msg.body
    assert msg.rcpt_tos == [ledger.ACME_AP]


def test_edit_after_an_approval_needs_approval_again(slack_env: SlackEnv) -> None:
    a = propose_write_off(
        slack_env.deps,
        WriteOffInput(invoice="INV-G1", reason="bankrupt", requested_by=COLLECTOR),
    )
    actions.approve(slack_env.deps, a.id, APPROVER)
    r, ts = propose_reminder(slack_env, invoice="INV-A1")
    from tools.dunning import edit_draft

    edited = edit_draft(slack_env.deps, r.id, APPROVER, "INV-A1", "INV-A1 is USD 1,200.00, thanks.")
    assert edited.approved_by == [] and edited.status == "proposed"
    click(slack_env, ActionId.APPROVE, r, ts, APPROVER)  # the editor cannot approve it
    assert "proposed or edited" in ephemeral(slack_env)[0]


def reject(env: SlackEnv, a: ActionInfo, ts: str, reason: str) -> None:
    """Click Reject, then submit the modal with `reason`."""
    click(env, ActionId.REJECT, a, ts, APPROVER)
    meta = opened_view(env)["private_metadata"]
    values = {"reason": {"reason": {"type": "plain_text_input", "value": reason}}}
    status, _ = env.sender.interaction(
        view_submission(ViewId.REJECT, user=APPROVER, values=values, private_metadata=meta)
    )
    assert status == 200


def test_reject_with_a_reason(slack_env: SlackEnv, smtp: FakeSmtp) -> None:
    a, ts = propose_reminder(slack_env)
    reject(slack_env, a, ts, "they paid by wire")
    assert f"Rejected by <@{APPROVER}>: they paid by wire" in last_card(slack_env, 1)
    slack_env.outbox().run_once()
    assert smtp.messages == []
    click(slack_env, ActionId.APPROVE, a, ts, APPROVER_2)
    assert f"Already rejected by <@{APPROVER}>" in ephemeral(slack_env)[0]


def test_a_reason_in_slack_markup_is_shown_escaped_exactly_once(slack_env: SlackEnv) -> None:
    """A reason is the approver's words, never a mention or a broken "&amp;lt;"."""
    a, ts = propose_reminder(slack_env)
    reject(slack_env, a, ts, "amount < invoice, ask <@U1> & <!channel>")
    [update] = slack_env.slack.wait_for("chat.update")
    once = "amount &lt; invoice, ask &lt;@U1&gt; &amp; &lt;!channel&gt;"
    assert update.params["text"].endswith(f"Rejected by {APPROVER}: {once}")
    [footer] = [b["elements"][0]["text"] for b in update.blocks if b["type"] == "context"]
    assert footer == f":x: Rejected by <@{APPROVER}>: {once}"
    assert "&amp;lt;" not in update.all_text and "<@U1>" not in update.all_text


def test_expired_proposal(slack_env: SlackEnv, smtp: FakeSmtp) -> None:
    long_ago = actions.now_utc() - timedelta(hours=slack_env.deps.settings.action_expiry_hours + 1)
    a = propose_dunning_email(
        slack_env.deps, DunningInput(customer="Acme", requested_by=COLLECTOR), now=long_ago
    )
    ts = post_card(slack_env.client, slack_env.deps, a, channel=APPROVALS_CHANNEL)
    click(slack_env, ActionId.APPROVE, a, ts, APPROVER)
    assert "expired" in ephemeral(slack_env)[0]
    assert "Expired" in last_card(slack_env, 1)
    slack_env.outbox().run_once()
    assert smtp.messages == []


def test_outbox_expires_stale_proposals_and_redraws(slack_env: SlackEnv) -> None:
    long_ago = actions.now_utc() - timedelta(hours=slack_env.deps.settings.action_expiry_hours + 1)
    a = propose_dunning_email(
        slack_env.deps, DunningInput(customer="Acme", requested_by=COLLECTOR), now=long_ago
    )
    post_card(slack_env.client, slack_env.deps, a, channel=APPROVALS_CHANNEL)
    assert slack_env.outbox().run_once() == [a.id]
    assert "Expired" in last_card(slack_env, 1)


def test_paid_meanwhile_is_cancelled_with_a_note(slack_env: SlackEnv, smtp: FakeSmtp) -> None:
    a, ts = propose_reminder(slack_env)
    click(slack_env, ActionId.APPROVE, a, ts, APPROVER)
    last_card(slack_env, 1)
    ledger.pay_in_full(slack_env.deps, "INV-A1")
    slack_env.outbox().run_once()
    assert "INV-A1 was paid since the draft" in slack_env.slack.calls("chat.update")[-1].all_text
    assert smtp.messages == []


def test_disputed_since_approval_is_never_dunned(slack_env: SlackEnv, smtp: FakeSmtp) -> None:
    a, ts = propose_reminder(slack_env)
    click(slack_env, ActionId.APPROVE, a, ts, APPROVER)
    last_card(slack_env, 1)
    ledger.open_dispute(slack_env.deps, "INV-A2")
    slack_env.outbox().run_once()
    assert "INV-A2 is disputed" in slack_env.slack.calls("chat.update")[-1].all_text
    assert actions.load(slack_env.deps, a.id).status == "cancelled"
    assert smtp.messages == []


def test_smtp_down_then_up_sends_once_and_card_shows_the_retry(
    slack_env: SlackEnv, smtp: FakeSmtp
) -> None:
    a, ts = propose_reminder(slack_env)
    click(slack_env, ActionId.APPROVE, a, ts, APPROVER)
    last_card(slack_env, 1)
    smtp.stop()
    box = slack_env.outbox()
    box.run_once()
    assert "retrying: email not sent" in slack_env.slack.calls("chat.update")[-1].all_text
    smtp.start()
    box.run_once()
    box.run_once()
    assert len(smtp.wait_for(1)) == 1
    assert "sent to" in slack_env.slack.calls("chat.update")[-1].all_text


def test_crash_between_send_and_mark_sends_no_second_email(
    slack_env: SlackEnv, smtp: FakeSmtp
) -> None:
    a, ts = propose_reminder(slack_env)
    click(slack_env, ActionId.APPROVE, a, ts, APPROVER)
    last_card(slack_env, 1)

    class Crash(BaseException):
        pass

    dying = slack_env.outbox(lease_seconds=0)
    real = dying._finish

    def crash_on_done(action: ActionInfo, to: str, *args: Any, **kw: Any) -> bool:
        if to == "done":
            raise Crash
        return real(action, to, *args, **kw)

    dying._finish = crash_on_done  # type: ignore[method-assign]
    with contextlib.suppress(Crash):
        dying.run_once()
    assert len(smtp.wait_for(1)) == 1
    slack_env.outbox().run_once()  # the restarted worker
    assert actions.load(slack_env.deps, a.id).status == "done"
    assert len(smtp.messages) == 1
    # The restarted worker cannot know SMTP accepted it, so the card does not claim it.
    card = slack_env.slack.calls("chat.update")[-1].all_text
    assert "delivery unknown: check the outbox" in card and "sent to" not in card
