"""What keeps the agent honest and bounded: grounding, bad arguments, limits, outages."""

from __future__ import annotations

import logging

import pytest

from bot.agent import Agent, agent_fallback
from tests.agent.conftest import AS_OF, MakeDeps
from tests.fakes.openai_api import FakeOpenAI, call, error, say, stall

HELP = "Try: AR now, aging, DSO, top overdue."


def test_hallucinated_number_is_replaced_by_the_tools_rendering(
    agent: Agent, fake_llm: FakeOpenAI
) -> None:
    fake_llm.push(
        call("aging", customer="Globex", as_of="2025-06-30"),
        say("Globex owes USD 15,500.00, 80% of it over 90 days."),
        say("Globex owes USD 15,000.00."),  # the regenerated answer is still wrong
    )
    reply = agent.ask("how much does Globex owe?", user="U1", today=AS_OF)

    assert reply.outcome == "tool_rendering"
    assert "15,500" not in reply.text and "15,000" not in reply.text
    assert "total: USD 12,000.00" in reply.text
    assert reply.unsupported_figures == ["USD 15,000.00"]
    correction = fake_llm.requests[2]["messages"][-1]["content"]
    assert "USD 15,500.00" in correction and "80%" in correction


def test_hallucinated_number_regenerated_once_when_the_retry_is_grounded(
    agent: Agent, fake_llm: FakeOpenAI
) -> None:
    fake_llm.push(
        call("aging", customer="Globex", as_of="2025-06-30"),
        say("Globex owes about USD 13,000.00."),
        say("Globex owes USD 12,000.00, all of it 90+ days past due."),
    )
    reply = agent.ask("how much does Globex owe?", user="U1", today=AS_OF)
    assert reply.outcome == "regenerated"
    assert reply.text == "Globex owes USD 12,000.00, all of it 90+ days past due."
    assert len(fake_llm.requests) == 3


def test_the_retry_is_asked_with_the_system_prompt_and_a_written_out_call_is_not_posted(
    agent: Agent, fake_llm: FakeOpenAI
) -> None:
    fake_llm.push(
        call("aging", customer="Globex", as_of="2025-06-30"),
        say("Globex owes about USD 13,000.00."),
        say('functions.aging: {"customer": "Globex"}'),
    )
    reply = agent.ask("how much does Globex owe?", user="U1", today=AS_OF)
    assert fake_llm.requests[2]["messages"][0]["role"] == "system"
    assert reply.outcome == "tool_rendering"
    assert "functions.aging" not in reply.text and "total: USD 12,000.00" in reply.text


def test_invalid_tool_argument_goes_back_to_the_model_which_recovers(
    agent: Agent, fake_llm: FakeOpenAI
) -> None:
    fake_llm.push(
        call("aging", as_of="last tuesday", segment="smb"),
        call("customer_detail", customer="Nobody Ltd"),
        call("aging", as_of="2025-06-30", segment="smb"),
        say("SMB receivables: USD 700.00."),
    )
    reply = agent.ask("smb aging please", user="U1", today=AS_OF)

    bad_date = fake_llm.tool_results(1)[0]
    assert "as_of" in bad_date and "valid date" in bad_date
    unknown = fake_llm.tool_results(2)[-1]
    assert unknown.startswith("error: customer_detail: no customer matches 'Nobody Ltd'")
    assert reply.outcome == "answered" and reply.text == "SMB receivables: USD 700.00."


def test_round_limit_stops_a_looping_model(make_deps: MakeDeps, fake_llm: FakeOpenAI) -> None:
    agent = Agent(make_deps(llm_max_rounds=3), help_text=lambda: HELP)
    fake_llm.responder = lambda body: call("aging", as_of="2025-06-30")
    reply = agent.ask("loop forever", user="U1", today=AS_OF)

    assert reply.outcome == "limit"
    assert len(fake_llm.requests) == 4  # three tool rounds, then one call without tools
    assert "tools" not in fake_llm.requests[-1]
    assert reply.tools_called.count("aging") == 4
    assert "USD 16,700.00" in reply.text  # what the tools found is still shown


def test_token_budget_stops_the_turn(make_deps: MakeDeps, fake_llm: FakeOpenAI) -> None:
    agent = Agent(make_deps(llm_max_tokens=500), help_text=lambda: HELP)
    fake_llm.responder = lambda body: call("aging", as_of="2025-06-30")
    reply = agent.ask("loop forever", user="U1", today=AS_OF)
    assert reply.outcome == "limit"
    assert len(fake_llm.requests) == 1


def test_server_errors_are_retried_then_the_user_gets_the_help(
    agent: Agent, fake_llm: FakeOpenAI
) -> None:
    fake_llm.push(error(500), error(500), error(500), error(500))
    reply = agent.ask("anything odd this week?", user="U1", today=AS_OF)
    assert reply.outcome == "unavailable"
    # One try and one retry (llm_max_retries=1) asking for a tool call, then the same with
    # tool_choice "auto": a 500 is also how some servers refuse "required".
    choices = [r.get("tool_choice") for r in fake_llm.requests]
    assert choices == ["required", "required", "auto", "auto"]
    assert reply.text.startswith("The assistant is unavailable right now, here is what I can")
    assert HELP in reply.text


def test_a_retry_after_a_429_answers_normally(agent: Agent, fake_llm: FakeOpenAI) -> None:
    fake_llm.push(error(429), call("aging", as_of="2025-06-30"), say("AR is USD 16,700.00."))
    reply = agent.ask("AR?", user="U1", today=AS_OF)
    assert reply.outcome == "answered" and reply.text == "AR is USD 16,700.00."


def test_timeout_falls_back(make_deps: MakeDeps, fake_llm: FakeOpenAI) -> None:
    agent = Agent(make_deps(llm_timeout_seconds=0.3, llm_max_retries=0), help_text=lambda: HELP)
    fake_llm.push(stall(2.0))
    reply = agent.ask("anything odd this week?", user="U1", today=AS_OF)
    assert reply.outcome == "unavailable"
    assert HELP in reply.text


def test_without_a_key_the_agent_is_off_and_says_so_once(
    make_deps: MakeDeps, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.agent.fallback as fb

    monkeypatch.setattr(fb, "_said_off", False)
    deps = make_deps(openai_api_key=None, load=False)
    with caplog.at_level(logging.INFO, logger="bot.agent.fallback"):
        assert agent_fallback(deps) is None
        assert agent_fallback(deps) is None
    assert [r.getMessage() for r in caplog.records].count(
        "event=llm_off reason=no OPENAI_API_KEY: fast path and help only"
    ) == 1


@pytest.mark.parametrize("tool", ["ar_metrics", "aging", "top_overdue"])
def test_as_of_outside_the_reportable_range_goes_back_to_the_model(
    db_url: str, make_deps: MakeDeps, fake_llm: FakeOpenAI, tool: str
) -> None:
    agent = Agent(make_deps(db_url), help_text=lambda: HELP)
    fake_llm.push(
        call(tool, as_of="9999-12-31"),
        call("aging", as_of="2025-06-30"),
        say("AR is USD 16,700.00."),
    )
    reply = agent.ask("AR at the end of time?", user="U1", today=AS_OF)

    refused = fake_llm.tool_results(1)[0]
    assert "I can report as of 1900-01-01 to" in refused and "not 9999-12-31" in refused
    assert reply.outcome == "answered" and reply.text == "AR is USD 16,700.00."
