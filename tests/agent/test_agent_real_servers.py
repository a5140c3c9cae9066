"""The agent against servers and models that behave like real small ones, not like OpenAI.

Each test scripts the fake the way a real server or model misbehaved (prose without tools,
advice to write off, a paragraph repeated, an empty or malformed message, a 422/500 for a
null content, tools dropped without `tool_choice`, a 500 for "required") and asserts what
reaches the person: the ledger's rendering, never the model's words.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.agent import Agent
from bot.blocks.common import escape
from tests.agent.conftest import (
    AS_OF,
    MakeDeps,
    SlackBot,
    agent_lead,
    fast_path,
    ledger_rendering,
    posted_answer,
    slack_ledger,
)
from tests.fakes.openai_api import FakeOpenAI, Reply, call, malformed, say

HELP = "Here is what I can answer right away:"
RAMBLE = (
    "A new law changes how companies handle their finances in many ways. Businesses should "
    "consider the implications carefully and plan ahead for the coming year.\n\n"
)
INITECH = call("customer_balance", customer="Initech", as_of="2025-06-30")


def test_prose_without_a_tool_is_replaced_by_the_customers_balance(
    slack_bot: SlackBot, fake_llm: FakeOpenAI, tmp_path: Path
) -> None:
    fake_llm.push(say(RAMBLE * 12))
    post = posted_answer(slack_bot, "Is Globex Corp a collection risk, and what should we do?")
    assert fake_llm.requests[0]["tool_choice"] == "required"
    expected = fast_path(slack_ledger(tmp_path), "Globex Corp balance")
    assert post.params["text"] == escape(agent_lead(expected.text))
    assert "new law" not in post.all_text


def test_prose_about_a_segment_is_replaced_by_the_segments_payment_speed(
    agent: Agent, fake_llm: FakeOpenAI
) -> None:
    fake_llm.push(say("Enterprise customers usually pay in about 45 days, roughly USD 9,999."))
    reply = agent.ask(
        "Which of our enterprise customers pay slowest, and what do they owe?",
        user="U1",
        today=AS_OF,
    )
    assert reply.outcome == "no_tool"
    shown = ledger_rendering(
        agent.deps, "payment_history", segment="enterprise", as_of="2025-06-30"
    )
    assert reply.text == (
        "The assistant could not answer this from the ledger itself, so its words are not "
        f"shown. Here is how the enterprise segment pays:\n\n{shown}"
    )
    globex = next(line for line in reply.text.splitlines() if "Globex Corp" in line)
    assert "40.00 days late on average" in globex and "owes USD 12,000.00" in globex


@pytest.mark.parametrize(
    "question", ["why?", "what about INV-42?", "who should I call first?", "who is the worst?"]
)
def test_a_follow_up_without_a_tool_is_not_answered_from_the_models_memory(
    agent: Agent, fake_llm: FakeOpenAI, question: str
) -> None:
    fake_llm.push(say("Put them on credit hold and stop shipping today."))
    reply = agent.ask(question, user="U1", today=AS_OF)
    assert reply.outcome == "no_tool"
    assert "credit hold" not in reply.text and HELP in reply.text


def test_a_repeated_paragraph_beside_a_call_is_not_posted(
    slack_bot: SlackBot, fake_llm: FakeOpenAI, tmp_path: Path
) -> None:
    paragraph = "Globex Corp is a model customer and owes nothing at all."
    fake_llm.push(
        Reply(
            content="\n\n".join([paragraph] * 40),
            tool_calls=[("customer_balance", {"customer": "Globex Corp"})],
        )
    )
    post = posted_answer(slack_bot, "summarize Globex Corp for me")
    expected = fast_path(slack_ledger(tmp_path), "Globex Corp balance")
    assert post.params["text"] == escape(expected.text)
    assert "model customer" not in post.all_text


def test_an_empty_message_gets_the_answer_for_what_the_question_names(
    slack_bot: SlackBot, fake_llm: FakeOpenAI, tmp_path: Path
) -> None:
    """llama-cpp-python refusing "required", then on "auto" choosing to write a message and
    writing nothing: the ledger's answer, not "unavailable" (the server works)."""
    fake_llm.refused_tool_choices = {"required"}
    fake_llm.push(say(""))
    post = posted_answer(slack_bot, "Is Globex Corp a collection risk, and what should we do?")
    expected = fast_path(slack_ledger(tmp_path), "Globex Corp balance")
    assert post.params["text"] == escape(agent_lead(expected.text))
    assert [r.get("tool_choice") for r in fake_llm.requests] == ["required", "auto"]


def test_a_malformed_reply_falls_back_like_a_server_error(
    agent: Agent, fake_llm: FakeOpenAI
) -> None:
    fake_llm.push(malformed())
    reply = agent.ask("what is our DSO trend for enterprise accounts?", user="U1", today=AS_OF)
    assert reply.outcome == "unavailable" and HELP in reply.text


def test_a_tool_call_written_out_as_text_is_replaced_by_the_ledgers_answer(
    agent: Agent, fake_llm: FakeOpenAI
) -> None:
    fake_llm.push(say('functions.customer_balance: {"customer": "Initech"}'))
    reply = agent.ask("how is Initech doing on payments?", user="U1", today=AS_OF)
    assert reply.outcome == "no_tool"
    assert "functions." not in reply.text and "Initech LLC owes USD 4,000.00" in reply.text


@pytest.mark.parametrize("status", [422, 500])
def test_a_server_that_refuses_null_content_gets_an_empty_string(
    make_deps: MakeDeps, fake_llm: FakeOpenAI, status: int
) -> None:
    fake_llm.null_content_status = status
    agent = Agent(make_deps())
    fake_llm.push(call("customer_balance", customer="Nobody Ltd"), INITECH)
    reply = agent.ask("what does Initech owe?", user="U1", today=AS_OF)
    assert reply.outcome == "answered"
    assert reply.text == ledger_rendering(
        agent.deps, "customer_balance", customer="Initech", as_of="2025-06-30"
    )
    [assistant] = [m for m in fake_llm.requests[1]["messages"] if m["role"] == "assistant"]
    assert assistant["content"] == "" and assistant["tool_calls"]
    # The reply cap goes by the name compatible servers know (max_completion_tokens is ignored
    # by llama-cpp-python, which then generates until its context is full).
    assert [r.get("max_tokens") for r in fake_llm.requests] == [1024, 1024]
    assert not any("max_completion_tokens" in r for r in fake_llm.requests)


def test_a_server_that_drops_tools_without_tool_choice_still_gets_them(
    slack_bot: SlackBot, fake_llm: FakeOpenAI, tmp_path: Path
) -> None:
    """Like llama-cpp-python: no tool_choice means no tools, and "required" is a 500."""
    fake_llm.tools_need_choice = True
    fake_llm.refused_tool_choices = {"required"}
    fake_llm.push(call("customer_balance", customer="Initech"))  # today's: Slack's day
    post = posted_answer(slack_bot, "how is Initech doing on payments?")
    expected = fast_path(slack_ledger(tmp_path), "Initech balance")
    assert post.params["text"] == escape(expected.text)
    assert "general advice" not in post.all_text
    assert [r.get("tool_choice") for r in fake_llm.requests] == ["required", "auto"]


def test_a_500_on_required_is_asked_again_with_auto_at_once_not_after_the_clients_retries(
    make_deps: MakeDeps, fake_llm: FakeOpenAI
) -> None:
    """The client's own retries of a "required" the server will never take used to end the
    turn (timeout, retry budget) before "auto" was tried."""
    agent = Agent(make_deps(llm_max_retries=2))
    fake_llm.refused_tool_choices = {"required"}
    fake_llm.push(INITECH)
    reply = agent.ask("how is Initech doing on payments?", user="U1", today=AS_OF)
    assert reply.outcome == "answered" and "Initech LLC owes USD 4,000.00" in reply.text
    assert [r.get("tool_choice") for r in fake_llm.requests] == ["required", "auto"]


def test_a_date_in_the_year_1052_comes_back_to_the_model_as_a_validation_message(
    agent: Agent, fake_llm: FakeOpenAI
) -> None:
    fake_llm.push(call("customer_balance", customer="Initech", as_of="1052-10-30"), INITECH)
    reply = agent.ask("what does Initech owe?", user="U1", today=AS_OF)
    [refused] = fake_llm.tool_results(1)
    assert "as_of: I can report as of 1900-01-01 to" in refused
    assert "not 1052-10-30" in refused
    assert reply.outcome == "answered"
    assert reply.text == ledger_rendering(
        agent.deps, "customer_balance", customer="Initech", as_of="2025-06-30"
    )


def test_a_call_whose_arguments_are_cut_off_goes_back_to_the_model(
    agent: Agent, fake_llm: FakeOpenAI
) -> None:
    """Small models cut their JSON short; that is a bad call to fix, not an empty answer."""
    fake_llm.push(call("customer_balance", '{"customer": "Initech", '), INITECH)
    reply = agent.ask("what does Initech owe?", user="U1", today=AS_OF)
    [refused] = fake_llm.tool_results(1)
    assert "arguments were malformed or truncated" in refused
    assert reply.outcome == "answered"
    assert reply.text == ledger_rendering(
        agent.deps, "customer_balance", customer="Initech", as_of="2025-06-30"
    )
