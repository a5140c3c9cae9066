"""Asking for a draft without an LLM: the fast path in Slack, and `arbot propose`."""

from __future__ import annotations

from datetime import date

import pytest

from bot.blocks.ids import ActionId, CardRef
from bot.cli import main
from bot.intents import match
from tests.approvals import ledger
from tests.approvals.conftest import APPROVALS_CHANNEL, APPROVER, APPROVER_2, COLLECTOR, SlackEnv
from tests.approvals.test_cli_proposer import IMPOSTOR, ME
from tests.cli_helpers import arbot
from tests.fakes.signing import block_action, mention_event, message_event
from tests.fakes.slack_api import FakeSlack
from tests.fakes.smtp_server import FakeSmtp
from tools import actions
from tools.deps import ToolDeps
from tools.dunning import DunningInput, propose_dunning_email
from tools.settings import Settings


def proposal(question: str) -> tuple[str, dict[str, str | None]] | None:
    """What the matcher proposes for a question: ("dunning" | "write_off", its arguments)."""
    intent = match(question, today=date(2025, 6, 30))
    if intent is None or not intent.is_proposal:
        return None
    if intent.tool == "propose_write_off":
        return "write_off", {"invoice": intent.invoice, "reason": intent.reason}
    return "dunning", {"customer": intent.customer, "invoice": intent.invoice, "tone": intent.tone}


def test_phrasings() -> None:
    assert proposal("draft a reminder to Acme") == (
        "dunning",
        {"customer": "Acme", "invoice": None, "tone": None},
    )
    assert proposal("please draft a firm reminder to Acme Corp about INV-A1") == (
        "dunning",
        {"customer": "Acme Corp", "invoice": "INV-A1", "tone": "firm"},
    )
    assert proposal("remind Globex about INV-G1")[1]["invoice"] == "INV-G1"  # type: ignore[index]
    assert proposal("write off INV-000123 because the customer went bankrupt") == (
        "write_off",
        {"invoice": "INV-000123", "reason": "the customer went bankrupt"},
    )
    assert proposal("remind Acme about the March invoice") is None  # the agent's job
    assert proposal("what's our AR") is None
    assert proposal("who wrote off the most last year") is None


def test_draft_a_reminder_in_a_dm_then_a_colleague_approves(
    slack_env: SlackEnv, smtp: FakeSmtp
) -> None:
    status, _ = slack_env.sender.event(
        message_event("draft a reminder to Acme", user=COLLECTOR, channel="DCOLLECT01")
    )
    assert status == 200
    [card] = slack_env.slack.wait_for("chat.postMessage")
    assert card.params["channel"] == "DCOLLECT01"
    assert ledger.ACME_AP in card.all_text and "INV-A1" in card.all_text
    slack_env.listeners.wait_idle()  # the listener stores the card's place after posting it
    [approve] = [
        e
        for b in card.blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == ActionId.APPROVE
    ]
    status, _ = slack_env.sender.interaction(
        block_action(
            ActionId.APPROVE,
            value=approve["value"],
            user=APPROVER,
            channel="DCOLLECT01",
            message_ts="1700000000.000200",
        )
    )
    assert status == 200
    [update] = slack_env.slack.wait_for("chat.update")
    assert f"Approved by <@{APPROVER}>" in update.all_text
    slack_env.outbox().run_once()
    [msg] = smtp.wait_for(1)
    assert msg.rcpt_tos == [ledger.ACME_AP]


def test_a_fast_path_card_is_tracked_where_it_was_posted(
    slack_env: SlackEnv, smtp: FakeSmtp
) -> None:
    """The card's place is stored when it is posted, so it is redrawn in place even when
    nobody ever clicked on it (approved elsewhere, then sent by the outbox)."""
    event = message_event("draft a reminder to Acme", user=COLLECTOR, channel="DCOLLECT01")
    slack_env.sender.event(event)
    [card] = slack_env.slack.wait_for("chat.postMessage")
    assert card.params["thread_ts"] == event["ts"], "the card goes in the question's thread"
    action_id = CardRef.parse(next(e["value"] for b in card.blocks if b["type"] == "actions"
                                   for e in b["elements"])).action_id  # fmt: skip
    slack_env.listeners.wait_idle()  # the listener stores the card's place after posting it
    a = actions.load(slack_env.deps, action_id)
    assert a.slack_channel == "DCOLLECT01"
    actions.approve(slack_env.deps, action_id, APPROVER)
    slack_env.outbox().run_once()
    smtp.wait_for(1)
    updates = slack_env.slack.wait_for("chat.update")
    assert (updates[-1].params["channel"], updates[-1].params["ts"]) == (
        a.slack_channel,
        a.slack_ts,
    )
    assert f"sent to {ledger.ACME_AP}" in updates[-1].all_text


def test_write_off_by_mention_needs_two_approvers(slack_env: SlackEnv) -> None:
    status, _ = slack_env.sender.event(
        mention_event(
            "write off INV-G1 because the customer went bankrupt",
            user=COLLECTOR,
            channel=APPROVALS_CHANNEL,
        )
    )
    assert status == 200
    [card] = slack_env.slack.wait_for("chat.postMessage")
    assert "Write-off: INV-G1 (USD 9,000.00)" in card.all_text
    assert "the customer went bankrupt" in card.all_text
    assert "Needs 2 different approvers" in card.all_text
    slack_env.listeners.wait_idle()  # the listener stores the card's place after posting it
    value = next(e["value"] for b in card.blocks if b["type"] == "actions" for e in b["elements"])
    for n, user in enumerate((APPROVER, APPROVER_2), start=1):
        slack_env.sender.interaction(
            block_action(
                ActionId.APPROVE,
                value=value,
                user=user,
                channel=APPROVALS_CHANNEL,
                message_ts="1700000000.000100",
            )
        )
        slack_env.slack.wait_for("chat.update", count=n)
    assert actions.load(slack_env.deps, CardRef.parse(value).action_id).status == "approved"


def test_a_refusal_is_an_answer_not_a_card(slack_env: SlackEnv) -> None:
    slack_env.sender.event(
        message_event("draft a reminder to Initech", user=COLLECTOR, channel="DCOLLECT01")
    )
    [reply] = slack_env.slack.wait_for("chat.postMessage")
    assert "do-not-dun" in reply.all_text
    assert not any(b["type"] == "actions" for b in reply.blocks)


def _cli_with_slack(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, fake_slack: FakeSlack
) -> None:
    """`arbot` on the test ledger, with Slack (the fake) and an approvals channel set."""
    monkeypatch.setenv("ARBOT_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-token")
    monkeypatch.setenv("ARBOT_SLACK_API_URL", fake_slack.base_url)
    monkeypatch.setenv("ARBOT_APPROVALS_CHANNEL", APPROVALS_CHANNEL)


def test_cli_posts_the_card_to_the_approvals_channel(
    ap_settings: Settings,
    ap_deps: object,
    fake_slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _cli_with_slack(monkeypatch, ap_settings, fake_slack)
    monkeypatch.setenv("LOGNAME", IMPOSTOR)  # not the OS user running arbot: never trusted
    code = main(["propose", "dunning", "--customer", "Acme"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert f"To: {ledger.ACME_AP}" in out.out and "INV-A1" in out.out
    assert f"Proposed from the command line by OS user {ME}" in out.out
    assert "Waiting for approval" in out.out
    assert "<@" not in out.out and ":hourglass:" not in out.out, "a terminal shows no markup"
    assert out.out.endswith(f"Card posted to {APPROVALS_CHANNEL} for approval.\n")
    [post] = fake_slack.wait_for("chat.postMessage")
    assert post.params["channel"] == APPROVALS_CHANNEL
    assert f"Proposed from the command line by OS user {ME}" in post.all_text
    assert ":hourglass:" in post.all_text
    code = main(["propose", "write-off", "--invoice", "INV-G1", "--reason", "bankrupt"])
    out = capsys.readouterr()
    assert code == 0 and "Needs 2 different approvers" in out.out
    code = main(["propose", "dunning", "--customer", "Initech"])
    assert code == 1 and "do-not-dun" in capsys.readouterr().err
    code = main(["propose", "write-off", "--invoice", "INV-G1", "--reason", "x"])
    assert code == 2 and "reason" in capsys.readouterr().err

    posted = len(fake_slack.calls("chat.postMessage"))
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    run = arbot(capsys, "propose", "dunning", "--customer", "Acme", "--invoice", "INV-A2")
    assert run.code == 0 and "INV-A2" in run.out and "not posted" not in run.out
    assert run.err.startswith("Card not posted to Slack: set SLACK_BOT_TOKEN")
    assert len(fake_slack.calls("chat.postMessage")) == posted


def test_cli_ask_for_a_draft_posts_its_card_and_says_where(
    ap_settings: Settings,
    ap_deps: ToolDeps,
    fake_slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _cli_with_slack(monkeypatch, ap_settings, fake_slack)
    monkeypatch.setenv("LOGNAME", IMPOSTOR)
    run = arbot(capsys, "ask", "--no-agent", "draft a reminder to Acme")
    assert run.code == 0, run.err
    [post] = fake_slack.wait_for("chat.postMessage")
    assert post.params["channel"] == APPROVALS_CHANNEL
    card_words = run.out.removesuffix(f"Card posted to {APPROVALS_CHANNEL} for approval.\n")
    assert card_words != run.out, run.out
    assert f"To: {ledger.ACME_AP}" in card_words and "INV-A1" in card_words
    assert card_words.strip() == post.params["text"], "the card's own text, as posted"
    [a] = [actions.load(ap_deps, CardRef.parse(e["value"]).action_id) for b in post.blocks
           if b["type"] == "actions"
           for e in b["elements"] if e["action_id"] == ActionId.APPROVE]  # fmt: skip
    assert a.proposed_by == f"cli:{ME}" and a.slack_channel == APPROVALS_CHANNEL
    assert f"Proposed from the command line by OS user {ME}" in post.all_text

    monkeypatch.delenv("SLACK_BOT_TOKEN")
    run = arbot(capsys, "ask", "--no-agent", "draft a firm reminder to Acme about INV-A2")
    assert run.code == 0 and "INV-A2" in run.out
    assert "not posted" not in run.out, "stdout is the card alone"
    assert "not posted" in run.err
    assert "SLACK_BOT_TOKEN" in run.err and "ARBOT_APPROVALS_CHANNEL" in run.err
    assert len(fake_slack.calls("chat.postMessage")) == 1


def test_serve_start_hook_sends_an_approved_email_within_seconds(
    ap_settings: Settings, ap_deps: ToolDeps, smtp: FakeSmtp, fake_slack: FakeSlack
) -> None:
    from bot.app import create_app
    from bot.cards import post_card
    from bot.commands.serve_cmd import START_HOOKS
    from bot.outbox_hook import start_outbox

    assert start_outbox in START_HOOKS
    app = create_app(ap_settings, ap_deps)
    stop = start_outbox(ap_deps, app)
    try:
        a = propose_dunning_email(ap_deps, DunningInput(customer="Acme", requested_by=COLLECTOR))
        post_card(app.client, ap_deps, a, channel=APPROVALS_CHANNEL)
        actions.approve(ap_deps, a.id, APPROVER)
        [msg] = smtp.wait_for(1, timeout=5)
        assert msg.rcpt_tos == [ledger.ACME_AP]
        fake_slack.wait_for("chat.update", timeout=5, where=lambda c: "sent to" in c.all_text)
    finally:
        stop()
