"""What keeps the agent honest and bounded: made-up figures, bad arguments, limits, outages."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bot.agent import Agent, agent_fallback
from tests.agent.conftest import AS_OF, MakeDeps, ledger_rendering
from tests.fakes.openai_api import FakeOpenAI, Reply, call, error, say, stall

HELP = "Here is what I can answer right away:"


def test_figures_the_model_makes_up_are_never_posted(agent: Agent, fake_llm: FakeOpenAI) -> None:
    fake_llm.push(
        call("customer_detail", customer="Nobody Ltd"),
        say("Globex owes USD 15,500.00, 80% of it over 90 days."),
    )
    reply = agent.ask("how much does Globex owe?", user="U1", today=AS_OF)
    assert reply.outcome == "no_tool"
    assert "15,500" not in reply.text and "80%" not in reply.text
    assert "Globex Corp owes USD 12,000.00" in reply.text


def test_invalid_tool_argument_goes_back_to_the_model_which_recovers(
    agent: Agent, fake_llm: FakeOpenAI
) -> None:
    fake_llm.push(
        call("aging", as_of="last tuesday", segment="smb"),
        call("customer_detail", customer="Nobody Ltd"),
        call("aging", as_of="2025-06-30", segment="smb"),
    )
    reply = agent.ask("smb aging please", user="U1", today=AS_OF)

    bad_date = fake_llm.tool_results(1)[0]
    assert "as_of" in bad_date and "valid date" in bad_date
    unknown = fake_llm.tool_results(2)[-1]
    assert unknown.startswith("error: customer_detail: no customer matches 'Nobody Ltd'")
    assert reply.outcome == "answered"
    assert reply.text == ledger_rendering(agent.deps, "aging", as_of="2025-06-30", segment="smb")
    assert len(fake_llm.requests) == 3  # nothing asked of the model once a round worked


def test_a_segment_not_on_record_goes_back_to_the_model_not_into_a_title(
    agent: Agent, fake_llm: FakeOpenAI
) -> None:
    fake_llm.push(
        call("top_overdue", segment="pay them now", as_of="2025-06-30"),
        call("find_bank_receipts", amount="send the money"),
        call("find_bank_receipts", payer="wire it to me"),
        say("Pay them now."),
    )
    reply = agent.ask("who owes the most?", user="U1", today=AS_OF)
    assert "no segment 'pay them now' on record" in fake_llm.tool_results(1)[0]
    assert "can't read 'send the money' as an amount" in fake_llm.tool_results(2)[-1]
    assert "no customer matches 'wire it to me'" in fake_llm.tool_results(3)[-1]
    assert reply.outcome == "no_tool"
    assert "pay them now" not in reply.text and "wire it" not in reply.text


def _nobody(body: dict[str, Any]) -> Reply:
    """A model calling for a customer who does not exist, a new spelling each round."""
    rounds = sum(m["role"] == "tool" for m in body["messages"])
    return call("aging", as_of="2025-06-30", customer=f"Nobody {rounds}")


def test_round_limit_stops_a_looping_model(make_deps: MakeDeps, fake_llm: FakeOpenAI) -> None:
    agent = Agent(make_deps(llm_max_rounds=3))
    fake_llm.responder = _nobody
    reply = agent.ask("loop forever", user="U1", today=AS_OF)

    assert reply.outcome == "limit"
    assert len(fake_llm.requests) == 4  # three tool rounds, then one call without tools
    assert "tools" not in fake_llm.requests[-1]
    assert reply.tools_called.count("aging") == 4
    assert HELP in reply.text  # nothing about the question was found: the help


def test_the_same_failing_call_again_ends_the_turn(agent: Agent, fake_llm: FakeOpenAI) -> None:
    fake_llm.responder = lambda body: call("aging", as_of="2025-06-30", customer="Nobody")
    reply = agent.ask("how old is Globex Corp's debt?", user="U1", today=AS_OF)
    assert reply.outcome == "limit" and len(fake_llm.requests) == 2
    assert "Globex Corp owes USD 12,000.00" in reply.text  # the customer it names


def test_token_budget_stops_the_turn(make_deps: MakeDeps, fake_llm: FakeOpenAI) -> None:
    agent = Agent(make_deps(llm_max_tokens=500))
    fake_llm.responder = _nobody
    reply = agent.ask("loop forever", user="U1", today=AS_OF)
    assert reply.outcome == "limit"
    assert len(fake_llm.requests) == 1


def test_server_errors_are_retried_then_the_user_gets_the_help(
    agent: Agent, fake_llm: FakeOpenAI
) -> None:
    fake_llm.push(error(500), error(500), error(500), error(500))
    reply = agent.ask("anything odd this week?", user="U1", today=AS_OF)
    assert reply.outcome == "unavailable"
    # One try asking for a tool call (a 500 is also how some servers refuse "required", so it
    # is not retried as such), then "auto" with one retry (llm_max_retries=1).
    choices = [r.get("tool_choice") for r in fake_llm.requests]
    assert choices == ["required", "auto", "auto"]
    assert reply.text.startswith("The assistant is unavailable right now, here is what I can")
    assert HELP in reply.text


def test_a_retry_after_a_429_answers_normally(agent: Agent, fake_llm: FakeOpenAI) -> None:
    fake_llm.push(error(429), call("aging", as_of="2025-06-30"))
    reply = agent.ask("AR?", user="U1", today=AS_OF)
    assert reply.outcome == "answered"
    assert reply.text == ledger_rendering(agent.deps, "aging", as_of="2025-06-30")
    assert [r.get("tool_choice") for r in fake_llm.requests] == ["required", "required"]


def test_timeout_falls_back(make_deps: MakeDeps, fake_llm: FakeOpenAI) -> None:
    agent = Agent(make_deps(llm_timeout_seconds=0.3, llm_max_retries=0))
    fake_llm.push(stall(2.0), stall(2.0))
    reply = agent.ask("anything odd this week?", user="U1", today=AS_OF)
    assert reply.outcome == "unavailable"
    assert HELP in reply.text
    assert len(fake_llm.requests) == 1  # no retries set: a timeout is not asked again


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
    agent = Agent(make_deps(db_url))
    fake_llm.push(call(tool, as_of="9999-12-31"), call("aging", as_of="2025-06-30"))
    reply = agent.ask("AR at the end of time?", user="U1", today=AS_OF)

    refused = fake_llm.tool_results(1)[0]
    assert "I can report as of 1900-01-01 to" in refused and "not 9999-12-31" in refused
    assert reply.outcome == "answered"
    assert reply.text == ledger_rendering(agent.deps, "aging", as_of="2025-06-30")
