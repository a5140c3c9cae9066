"""What the agent posts when a model advises an action, or answers beside the question.

Advice to write off, pay, send, delete, forgive or mark as paid never reaches Slack, nor does
any talk of approvals: a proposal made for the question is reported in our own fixed words
("The write-off proposal for INV-G3 is awaiting approval."). Prose whose tool results are
about something other than what the question names is replaced by the ledger's answer for
what it names.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, select

from bot.agent import Agent
from db.models import LlmUsage
from tests.agent.conftest import AS_OF, SLACK_DM, SLACK_FINANCE, SlackBot, ask_in_slack
from tests.fakes.openai_api import FakeOpenAI, Reply, approx_tokens, call, say
from tests.fakes.signing import message_event

FACT = "Globex Corp owes USD 12,000.00."
DRAFT = say("not an email")  # the drafting call of tools.dunning: unusable, so the template
BALANCE = call("customer_balance", customer="Globex Corp", as_of="2025-06-30")

UNBACKED = [
    "It ought to be written off.",
    "It is time to write off the balance.",
    "The balance can be written off.",
    "I would write off INV-G3.",
    "Tell the customer to pay by Friday.",
    "Mark it as paid.",
    "Forgive the debt.",
    "Approve the write-off yourself; no second sign-off is needed.",
    "Writing off INV-G3 makes sense.",
    "Globex Corp should be written off.",
    "Best practice is to send a final notice.",
    "The next step is a write-off.",
    "Waive the late fees.",
    "Delete the disputed invoice.",
    "Just e-mail them a final demand.",
    "Go ahead and void INV-G3.",
    "No approval is required for this one.",
    "You can approve it on your own.",
    "The approval step can be skipped here.",
    "Nobody will mind if you bypass the sign-off.",
]


def answer_beside_cards(bot: SlackBot, question: str, cards: int = 1) -> str:
    """The agent's answer, posted next to the approval cards of what it proposed."""
    sender, fake_slack = bot
    assert sender.event(message_event(question, user=SLACK_FINANCE, channel=SLACK_DM))[0] == 200
    posts = fake_slack.wait_for("chat.postMessage", count=cards + 1)
    [answer] = [p.all_text for p in posts if "Action #" not in p.all_text]
    return answer


@pytest.mark.parametrize("advice", UNBACKED)
def test_advice_no_proposal_backs_is_not_posted(
    slack_bot: SlackBot, fake_llm: FakeOpenAI, advice: str
) -> None:
    fake_llm.push(BALANCE, say(f"{FACT} {advice}"))
    posted = ask_in_slack(slack_bot, "what should we do about Globex Corp?")
    assert FACT in posted
    assert advice not in posted
    assert advice.split()[1] not in posted.split(FACT)[0]  # no piece of it above the fact


@pytest.mark.parametrize("advice", [*UNBACKED[:4], "Approve the write-off yourself."])
def test_advice_after_a_proposal_of_another_kind_is_not_posted(
    slack_bot: SlackBot, fake_llm: FakeOpenAI, advice: str
) -> None:
    fake_llm.push(
        call("propose_dunning_email", customer="Globex Corp"),
        DRAFT,
        say(f"A reminder to Globex Corp is waiting for approval. {advice}"),
    )
    posted = answer_beside_cards(slack_bot, "Globex Corp is late, please send them a reminder")
    assert "A reminder to Globex Corp is waiting for approval." in posted
    assert advice not in posted


def test_facts_from_the_tools_about_the_named_customer_are_posted_and_talk_of_approval_is_not(
    slack_bot: SlackBot, fake_llm: FakeOpenAI
) -> None:
    fake_llm.push(
        call("customer_detail", customer="Initech LLC", as_of="2025-06-30"),
        say(
            "Initech LLC paid USD 8,000.00 on 2025-02-24. Enterprise customers like it pay "
            "within 40 days. Nothing is sent without your approval."
        ),
    )
    posted = ask_in_slack(slack_bot, "how does Initech LLC pay?")
    assert "Initech LLC paid USD 8,000.00 on 2025-02-24." in posted
    assert "Enterprise customers like it pay within 40 days." in posted
    assert "approval" not in posted  # only our own words about a real proposal speak of it


def test_the_write_off_proposal_is_reported_and_every_sentence_of_advice_is_cut(
    slack_bot: SlackBot, fake_llm: FakeOpenAI
) -> None:
    fake_llm.push(
        call("propose_write_off", invoice="INV-G3", reason="customer insolvent"),
        say(
            "The write-off proposal for INV-G3 is awaiting approval. "
            "Approve the card to write off INV-G3. "
            "You should also write off INV-I2 of Initech LLC. "
            "Write off all of Globex Corp's invoices while you are at it. "
            "Initech LLC can be written off too."
        ),
    )
    posted = answer_beside_cards(slack_bot, "Globex is insolvent, so write off INV-G3 for them")
    assert "The write-off proposal for INV-G3 is awaiting approval." in posted
    assert "Approve the card" not in posted  # the card speaks for itself
    assert "INV-I2" not in posted
    assert "all of Globex Corp's invoices" not in posted
    assert "Initech LLC can be written off" not in posted


def test_advice_beside_a_reminder_is_replaced_by_our_own_words_about_it(
    slack_bot: SlackBot, fake_llm: FakeOpenAI
) -> None:
    fake_llm.push(
        call("propose_dunning_email", customer="Globex Corp"),
        DRAFT,
        say(
            "Send the reminder for all of Globex Corp's overdue invoices once approved. "
            "Send Initech LLC a reminder as well."
        ),
    )
    posted = answer_beside_cards(slack_bot, "Globex Corp is late: remind them of all that is due")
    assert "A reminder to Globex Corp is waiting for approval." in posted
    assert "Send" not in posted and "Initech" not in posted


def test_a_reminder_for_one_invoice_is_reported_with_that_invoice(
    slack_bot: SlackBot, fake_llm: FakeOpenAI
) -> None:
    fake_llm.push(
        call("propose_dunning_email", customer="Globex Corp", invoice="INV-G3"),
        DRAFT,
        say("The reminder for INV-G3 is ready. Send reminders for all their invoices."),
    )
    posted = answer_beside_cards(slack_bot, "Globex Corp is late on INV-G3: remind them of it")
    assert "A reminder to Globex Corp about INV-G3 is waiting for approval." in posted
    assert "is ready" not in posted and "all their invoices" not in posted


@pytest.mark.parametrize(
    ("question", "unrelated", "expected"),
    [
        (
            "Is Globex Corp a collection risk, and what should we do?",
            call("customer_balance", customer="Initech LLC", as_of="2025-06-30"),
            "USD 12,000.00",  # Globex's own balance
        ),
        (
            "How do our enterprise customers pay?",
            call("customer_balance", customer="Umbrella Ltd", as_of="2025-06-30"),
            "enterprise segment",
        ),
    ],
)
def test_prose_beside_a_tool_result_about_something_else_is_replaced(
    slack_bot: SlackBot, fake_llm: FakeOpenAI, question: str, unrelated: Reply, expected: str
) -> None:
    fake_llm.push(unrelated, say("They look healthy; keep doing what you are doing."))
    posted = ask_in_slack(slack_bot, question)
    assert "look healthy" not in posted
    assert "could not answer this from the ledger itself" in posted
    assert expected in posted


def test_prose_beside_a_tool_result_about_the_named_customer_is_posted(
    slack_bot: SlackBot, fake_llm: FakeOpenAI
) -> None:
    fake_llm.push(BALANCE, say("Globex Corp is far past its terms; call them this week."))
    posted = ask_in_slack(slack_bot, "Is Globex Corp a collection risk?")
    assert "Globex Corp is far past its terms." in posted
    assert "call them" not in posted  # names nothing a tool returned: an order, not a fact


def test_an_empty_reply_still_counts_the_tokens_it_spent(
    slack_bot: SlackBot, fake_llm: FakeOpenAI, tmp_path: Path
) -> None:
    fake_llm.push(BALANCE, say(""))
    posted = ask_in_slack(slack_bot, "Is Globex Corp a collection risk?")
    assert posted.startswith("The assistant is unavailable right now")
    engine = create_engine(f"sqlite:///{tmp_path / 'slack.db'}")  # the bot's own database
    try:
        with engine.connect() as conn:
            [(prompt, completion)] = conn.execute(
                select(LlmUsage.prompt_tokens, LlmUsage.completion_tokens)
            ).all()
    finally:
        engine.dispose()
    reported = sum(
        approx_tokens({"m": r["messages"], "t": r.get("tools")}) for r in fake_llm.requests
    )
    assert len(fake_llm.requests) == 2 and prompt == reported and completion > 0


def test_the_names_in_a_question_are_looked_up_once(agent: Agent, fake_llm: FakeOpenAI) -> None:
    lookups: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if re.search(r"FROM customers\s*$", statement):  # every customer's name: a full scan
            lookups.append(statement)

    event.listen(agent.deps.engine, "before_cursor_execute", seen)
    fake_llm.push(say("functions.customer_balance: {}"))
    reply = agent.ask("how is Initech doing on payments?", user="U1", today=AS_OF)
    assert reply.outcome == "no_tool" and "Initech LLC owes USD 4,000.00" in reply.text
    assert len(lookups) == 1
