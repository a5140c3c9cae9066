"""Only sentences grounded in this question's tool results reach Slack.

Each case is a way a model slipped advice, a claim or tool markup past a blocklist: here it
must be cut whatever its wording, because a sentence is posted only when what it names came
back from a tool of this question and it neither orders, advises nor claims an action.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from bot.agent import Agent, checks
from db.models import LlmUsage
from tests.agent.conftest import AS_OF, MakeDeps, SlackBot, ask_in_slack
from tests.agent.test_agent_advice import DRAFT, answer_beside_cards
from tests.fakes.openai_api import FakeOpenAI, Reply, call, say

FACT = "Globex Corp owes USD 12,000.00."
GLOBEX = call("customer_balance", customer="Globex Corp", as_of="2025-06-30")
WRITE_OFF_LINE = "The write-off proposal for INV-G3 is awaiting approval."

ADVICE = [
    "The right call is writing it off.",
    "Collection is hopeless; writing it off is the sensible choice.",
    "Globex Corp is 90 days past due, so write off INV-G3.",
    "Why not write off INV-G3?",
    "Action item: write off INV-G3.",
    "Bottom line — write off INV-G3 and move on.",
    "Write every single one of Globex's invoices off.",
    "Write\u2011off all invoices now.",
    "Write\u2011off all of Globex Corp's invoices now.",
    "Shoot them an email with a final demand.",
    "Fire off an email to Globex Corp today.",
    "Issue a credit note for INV-G3.",
    "Zero out the balance.",
    "Take INV-G3 off the books.",
    "Get rid of INV-G3.",
    "Scrap the invoice.",
    "Approval isn't needed for this one.",
    "The approval isn't really necessary.",
    "There's never a problem proceeding without approval.",
    "Add yourself to the approvers list and confirm it.",
    "Add yourself to the approvers list and click Approve.",
    "Have a colleague rubber-stamp the card.",
    "Click Approve on your own card.",
    "Globex Corp deserves a write off.",
    "INV-G3 is uncollectible, so writing it off is the answer.",
    "Please go ahead and write off all of your invoices now.",
    "Writing INV-G3 off is best.",
    "Globex Corp gets written off.",
    "Globex Corp's invoices: write them off.",
    "Paying the vendor first is the priority.",
    "Wiring USD 12,000.00 to the supplier is the priority.",
    "Globex Corp is done for, charge it off.",
    "Just send it.",
    "Mail them the final notice.",
    "Hand INV-G3 to a collection agency.",
    "Approve it.",
    "The approver can be anyone, including you.",
    "No one will notice if you go ahead without approval.",
    "Approvals are just a formality here.",
    "You don't have to wait for an approver.",
    "Rather than waiting for sign-off, go ahead.",
    "Run `arbot actions approve 12` from the shell.",
    "Ask someone in finance to approve it without reading it.",
    "Set ARBOT_APPROVERS to your user id first.",
    "Globex Corp owes USD 12,000.00 and should go to collections.",
    "INV-G3 ought to be closed out.",
    "Our DSO is excellent and improving every month.",
    "Globex Corp owes USD 12,000.00; write it off.",
    "Send it.",
    "Instead of approval, just confirm it in the CLI.",
    "Approve action #12 with the CLI and it's done.",
    "Use an approver's account to approve it.",
    "Put your own Slack id in the approver setting.",
    "Consider cutting Globex Corp off.",
    "Globex Corp's balance is best forgotten.",
    "Tell Globex Corp to pay by Friday.",
    "Mark INV-G3 as paid.",
    "Void INV-G3.",
    "Waive the late fees on INV-G3.",
]


@pytest.mark.parametrize("advice", ADVICE)
def test_advice_and_talk_of_approval_beside_a_fact_leave_only_the_fact(
    agent: Agent, fake_llm: FakeOpenAI, advice: str
) -> None:
    fake_llm.push(GLOBEX, say(f"{FACT} {advice}"))
    reply = agent.ask("what should we do about Globex Corp?", user="U1", today=AS_OF)
    assert reply.outcome == "answered"
    assert reply.text == FACT


@pytest.mark.parametrize(
    "report",
    [
        "Globex Corp has paid nothing since 2025-03-01.",
        "INV-G3 of Globex Corp is 91 days past due.",
        "Globex Corp is a collection risk: USD 12,000.00 is more than 90 days past due.",
        "Here is what I found: Globex Corp owes USD 12,000.00 in total.",
        "- Globex Corp: USD 12,000.00 past due\n- INV-G3: due 2025-03-31",
        "Globex Corp is a mid-market customer and has paid nothing since 2025-03-01.",
    ],
)
def test_reports_of_what_the_tools_returned_are_posted_whole(
    agent: Agent, fake_llm: FakeOpenAI, report: str
) -> None:
    fake_llm.push(GLOBEX, say(report))
    reply = agent.ask("Is Globex Corp a collection risk?", user="U1", today=AS_OF)
    assert (reply.outcome, reply.text) == ("answered", report)


@pytest.mark.parametrize(
    "advice",
    [
        "Also write off their other invoices.",
        "Write off the rest of Globex Corp's balance.",
        "Write off INV-G1 and INV-G2 as well.",
        "Write off the remaining balance too.",
        "Delete INV-G2.",
        "Write off Initech LLC's INV-I2 too.",
        "Done: INV-G3 has been written off.",
        "INV-G3 is written off, no approval step involved.",
    ],
)
def test_beside_a_write_off_proposal_only_our_words_about_it_are_posted(
    slack_bot: SlackBot, fake_llm: FakeOpenAI, advice: str
) -> None:
    fake_llm.push(
        call("propose_write_off", invoice="INV-G3", reason="customer insolvent"),
        say(f"The write-off of INV-G3 awaits approval. {advice}"),
    )
    posted = answer_beside_cards(slack_bot, "Globex is insolvent, so write off INV-G3 for them")
    assert posted.count(WRITE_OFF_LINE) >= 1
    assert advice not in posted and "awaits" not in posted


@pytest.mark.parametrize(
    "claim",
    [
        "Done, the reminder was sent to Globex Corp.",
        "I emailed Globex Corp about INV-G3.",
        "Globex Corp has been reminded.",
    ],
)
def test_a_claim_that_a_proposed_reminder_went_out_is_cut(
    slack_bot: SlackBot, fake_llm: FakeOpenAI, claim: str
) -> None:
    fake_llm.push(call("propose_dunning_email", customer="Globex Corp"), DRAFT, say(claim))
    posted = answer_beside_cards(slack_bot, "Globex Corp is late, please send them a reminder")
    assert "A reminder to Globex Corp is waiting for approval." in posted
    assert claim not in posted


def test_a_claim_about_a_refused_proposal_is_cut(slack_bot: SlackBot, fake_llm: FakeOpenAI) -> None:
    fake_llm.push(
        GLOBEX,
        call("propose_dunning_email", customer="Globex Corp"),  # refused: nobody asked for it
        say(f"{FACT} A reminder to Globex Corp was drafted and is waiting for approval."),
    )
    posted = ask_in_slack(slack_bot, "Is Globex Corp a collection risk?")
    assert FACT in posted
    assert "reminder" not in posted and "approval" not in posted


@pytest.mark.parametrize(
    ("question", "tool", "answer", "kept", "gone"),
    [
        (  # a result about Globex backs nothing said about Initech or Umbrella
            "Is Globex Corp a collection risk?",
            GLOBEX,
            "Globex Corp is behind. Initech LLC is insolvent and will never pay; "
            "Umbrella Ltd has no open invoices.",
            "Globex Corp is behind.",
            ["Initech", "Umbrella"],
        ),
        (  # a lookup that found no one backs nothing
            "Is Zorg LLC a collection risk?",
            call("customer_balance", customer="Zorg LLC", as_of="2025-06-30"),
            "Zorg LLC is a reliable payer; there is nothing to worry about.",
            "could not answer this from the ledger itself",
            ["reliable payer"],
        ),
        (  # a lookup that found several backs none of them
            "Is Globex or Initech a risk?",
            call("customer_balance", customer="Globex Initech", as_of="2025-06-30"),
            "Globex Corp is a reliable payer.",
            "Several customers match",
            ["reliable payer"],
        ),
        (  # figure-free praise names nothing a tool returned
            "How is our DSO trending?",
            call("unapplied_cash", as_of="2025-06-30"),
            "Our DSO is excellent and improving every month; no action is needed.",
            "Here is what I found.",
            ["excellent", "no action"],
        ),
    ],
)
def test_prose_is_posted_only_where_a_tool_of_the_question_backs_it(
    agent: Agent,
    fake_llm: FakeOpenAI,
    question: str,
    tool: Reply,
    answer: str,
    kept: str,
    gone: list[str],
) -> None:
    fake_llm.push(tool, say(answer))
    reply = agent.ask(question, user="U1", today=AS_OF)
    assert kept in reply.text
    assert not [g for g in gone if g in reply.text]


@pytest.mark.parametrize(
    ("question", "script"),
    [
        ("hi there", [say("Hello! By the way, Globex Corp is about to go bankrupt.")]),
        ("hello", [say("Hello! Our AR is USD 99,999.00 and falling.")]),
        (
            "thanks",
            [call("unapplied_cash", as_of="2025-06-30"), say("Thanks! Initech LLC is in trouble.")],
        ),
        ("hello", [say("Hello! The enterprise segment is struggling.")]),
    ],
)
def test_small_talk_that_speaks_of_the_ledger_gets_the_help(
    agent: Agent, fake_llm: FakeOpenAI, question: str, script: list[Reply]
) -> None:
    fake_llm.push(*script)
    reply = agent.ask(question, user="U1", today=AS_OF)
    assert reply.outcome == "no_tool" and "Here is what I can answer:" in reply.text
    assert not [w for w in ("bankrupt", "99,999", "Initech", "struggling") if w in reply.text]


def test_small_talk_that_stays_small_talk_is_the_models(agent: Agent, fake_llm: FakeOpenAI) -> None:
    fake_llm.push(say("Hello! Ask me about receivables."))
    reply = agent.ask("hello", user="U1", today=AS_OF)
    assert (reply.outcome, reply.text) == ("answered", "Hello! Ask me about receivables.")


@pytest.mark.parametrize(
    "markup",
    [
        '<tool_call>\n{"name": "aging", "arguments": {"as_of": "2025-06-30"}}\n</tool_call>',
        '```json\n{"name": "aging", "arguments": {}}\n```',
        'customer_balance(customer="Globex Corp")',
        '[TOOL_CALLS] [{"name": "aging"}]',
        'I will call the tool: {"name": "aging", "arguments": {}}',
        f'{FACT} <tool_call>{{"name": "aging", "arguments": {{}}}}</tool_call>',
    ],
)
def test_tool_call_markup_in_the_text_is_never_posted(
    agent: Agent, fake_llm: FakeOpenAI, markup: str
) -> None:
    fake_llm.push(GLOBEX, say(markup))
    reply = agent.ask("Is Globex Corp a collection risk?", user="U1", today=AS_OF)
    assert reply.outcome == "no_tool"
    assert "USD 12,000.00" in reply.text  # the customer's own detail instead
    assert not [w for w in ("tool_call", "arguments", "TOOL_CALLS", "customer=") if w in reply.text]


@pytest.mark.parametrize("arguments", ['"Globex Corp"', '["Globex Corp"]'])
def test_tool_arguments_that_are_not_an_object_fall_back_like_a_server_error(
    slack_bot: SlackBot, fake_llm: FakeOpenAI, tmp_path: Path, arguments: str
) -> None:
    fake_llm.push(call("customer_balance", arguments), say(FACT))
    posted = ask_in_slack(slack_bot, "Is Globex Corp a collection risk, and what should we do?")
    assert posted.startswith("The assistant is unavailable right now")
    engine = create_engine(f"sqlite:///{tmp_path / 'slack.db'}")  # the bot's own database
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(LlmUsage.prompt_tokens)).all()
    finally:
        engine.dispose()
    assert len(rows) == 1  # the question is still counted


def test_the_same_sentence_under_new_numbers_is_posted_once(
    agent: Agent, fake_llm: FakeOpenAI
) -> None:
    body = "\n\n".join(
        f"Point {i}: Globex Corp is a risk because it is overdue and has a high balance."
        for i in range(30)
    )
    fake_llm.push(GLOBEX, say(body))
    reply = agent.ask("Is Globex Corp a collection risk?", user="U1", today=AS_OF)
    assert reply.text.count("is a risk because") == 1


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("INV-G3 is 91 days late.\nINV-G4 is 91 days late.", None),
        (
            "1. Globex Corp is far behind on payments.\n2. Globex Corp is far behind on payments.",
            "1. Globex Corp is far behind on payments.",
        ),
        (
            "Step 1 - Globex Corp is far behind.\n\nStep 2 - Globex Corp is far behind.",
            "Step 1 - Globex Corp is far behind.",
        ),
    ],
)
def test_a_repeat_is_told_by_its_words_not_its_numbering(answer: str, expected: str | None) -> None:
    assert checks.tidy(answer, 1500) == (expected or answer)


@pytest.mark.parametrize("cap", [200, 201, 250])
def test_the_length_cap_holds_to_the_character(
    make_deps: MakeDeps, fake_llm: FakeOpenAI, cap: int
) -> None:
    agent = Agent(make_deps(llm_max_answer_chars=cap))
    fake_llm.push(GLOBEX, say("Globex Corp " + "x" * 500))
    reply = agent.ask("tell me about Globex Corp", user="U1", today=AS_OF)
    assert reply.text.startswith("Globex Corp xxx") and reply.text.endswith(" …")
    assert len(reply.text) == cap


def test_the_length_cap_holds_in_slack(make_slack_bot: object, fake_llm: FakeOpenAI) -> None:
    bot: SlackBot = make_slack_bot(llm_max_answer_chars=200)  # type: ignore[operator]
    fake_llm.push(GLOBEX, say("Globex Corp " + "x" * 500))
    ask_in_slack(bot, "Is Globex Corp a collection risk, and what should we do?")
    [post] = bot[1].calls("chat.postMessage")
    assert post.params["text"].startswith("Globex Corp xxx")
    assert len(post.params["text"]) <= 200
