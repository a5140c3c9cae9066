"""The agent behind the real Bolt app: signed Slack events in, answers and cards in the thread."""

from __future__ import annotations

from tests.agent.conftest import SLACK_DM, SLACK_FINANCE
from tests.fakes.openai_api import FakeOpenAI, Reply, call, say
from tests.fakes.signing import SlackSender, message_event
from tests.fakes.slack_api import FakeSlack

FINANCE, DM = SLACK_FINANCE, SLACK_DM


def test_slack_question_goes_to_the_agent_and_follow_up_uses_the_thread(
    slack_bot: tuple[SlackSender, FakeSlack], fake_llm: FakeOpenAI
) -> None:
    sender, fake_slack = slack_bot
    fake_llm.push(call("payment_history", segment="enterprise", as_of="2025-06-30"))
    first = message_event(
        "Which of our enterprise customers pay slowest, and what do they owe as of June 30 2025?",
        user=FINANCE,
        channel=DM,
    )
    assert sender.event(first)[0] == 200
    post = fake_slack.wait_for("chat.postMessage")[0]
    assert post.params["thread_ts"] == first["ts"]
    assert "USD 12,000.00" in post.all_text and "40.00 days late" in post.all_text

    fake_llm.push(call("customer_detail", customer="Globex"))  # today's: Slack's day
    follow = message_event(
        "and their oldest invoice?", user=FINANCE, channel=DM, thread_ts=first["ts"]
    )
    assert sender.event(follow)[0] == 200
    answer = fake_slack.wait_for("chat.postMessage", count=2)[1]
    assert "INV-G3" in answer.all_text
    sent = [m["content"] for m in fake_llm.requests[1]["messages"][1:3]]
    assert sent[0].startswith("Which of our enterprise customers")
    assert "owes USD 12,000.00" in sent[1]


def test_a_reminder_asked_in_slack_posts_an_approval_card(
    slack_bot: tuple[SlackSender, FakeSlack], fake_llm: FakeOpenAI
) -> None:
    sender, fake_slack = slack_bot
    fake_llm.push(
        call("propose_dunning_email", customer="Globex"),
        say("not an email"),  # tools.dunning's own drafting call; the template is used
    )
    event = message_event(
        "could you chase Globex for me, with a reminder?", user=FINANCE, channel=DM
    )
    assert sender.event(event)[0] == 200
    posts = fake_slack.wait_for("chat.postMessage", count=2)
    texts = [p.all_text for p in posts]
    assert any("Approve" in t and "Globex Corp" in t for t in texts)
    assert any("waiting for approval" in t for t in texts)


def test_slack_control_sequences_in_the_models_reply_never_reach_slack(
    slack_bot: tuple[SlackSender, FakeSlack], fake_llm: FakeOpenAI
) -> None:
    """A model writing "<!channel>" or a disguised link beside its tool call: its words are
    not posted, only the ledger's rendering of the call."""
    sender, fake_slack = slack_bot
    fake_llm.push(
        Reply(
            content="*<!channel> Globex Corp* is behind & <@U1> knows them at <http://evil|bank>",
            tool_calls=[("customer_balance", {"customer": "Globex Corp"})],
        )
    )
    asked = message_event("does Globex Corp worry you?", user=FINANCE, channel=DM)
    assert sender.event(asked)[0] == 200
    [post] = fake_slack.wait_for("chat.postMessage")
    assert post.params["text"].startswith("Globex Corp · balance")
    assert "channel" not in post.all_text and "evil" not in post.all_text
    assert "<@U1>" not in post.all_text and "&lt;@U1" not in post.all_text
