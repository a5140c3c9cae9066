"""Questions answered at the same time share what the agent learnt about its server."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from bot.agent import Agent
from tests.agent.conftest import AS_OF, MakeDeps, ledger_rendering
from tests.fakes.openai_api import FakeOpenAI, Reply, call, error

NAMES_CHOICE = "tool_choice 'required' is not supported"

FAILS, WORKS, LATER = "what does Initech owe?", "what does Globex owe?", "what does Umbrella owe?"


UMBRELLA = call("customer_balance", customer="Umbrella", as_of="2025-06-30")


def _balance(agent: Agent, customer: str) -> str:
    return ledger_rendering(agent.deps, "customer_balance", customer=customer, as_of="2025-06-30")


def _question(body: dict[str, Any]) -> str:
    return next(str(m["content"]) for m in body["messages"] if m["role"] == "user")


def test_auto_learnt_by_one_question_is_not_undone_by_another_failing_at_the_same_time(
    make_deps: MakeDeps, fake_llm: FakeOpenAI
) -> None:
    """A server refusing tool_choice "required" with a 500: two questions at once both fall
    back to "auto"; one gets an answer, the other a 500 again (the server hiccups). The
    question after them starts with "auto" instead of paying for a refused request."""
    fake_llm.refused_tool_choices = {"required"}
    worked = threading.Event()  # the working question's second round was asked

    def server(body: dict[str, Any]) -> Reply:
        question = _question(body)
        if question == FAILS:
            return Reply(status=500, after=worked)  # fails only after the other one worked
        if question == WORKS:
            worked.set()
        customer = "Globex" if question == WORKS else "Umbrella"
        return call("customer_balance", customer=customer, as_of="2025-06-30")

    fake_llm.responder = server
    agent = Agent(make_deps(llm_max_retries=0))
    with ThreadPoolExecutor(max_workers=2) as pool:
        failing = pool.submit(agent.ask, FAILS, user="U1", today=AS_OF)
        working = pool.submit(agent.ask, WORKS, user="U2", today=AS_OF)
        assert failing.result(timeout=60).outcome == "unavailable"
        assert working.result(timeout=60).text == _balance(agent, "Globex")

    asked_before = len(fake_llm.requests)
    later = agent.ask(LATER, user="U3", today=AS_OF)
    assert later.text == _balance(agent, "Umbrella")
    assert [r.get("tool_choice") for r in fake_llm.requests[asked_before:]] == ["auto"]


def test_a_failing_server_is_asked_for_a_tool_call_again_once_it_recovers(
    make_deps: MakeDeps, fake_llm: FakeOpenAI
) -> None:
    """A 500 on both "required" and "auto", with "auto" never seen working: the server was
    failing, not refusing, so the next question asks for "required" again."""
    agent = Agent(make_deps(llm_max_retries=0))
    fake_llm.push(error(500), error(500))
    assert agent.ask(FAILS, user="U1", today=AS_OF).outcome == "unavailable"
    fake_llm.push(UMBRELLA)
    assert agent.ask(LATER, user="U1", today=AS_OF).text == _balance(agent, "Umbrella")
    assert [r.get("tool_choice") for r in fake_llm.requests] == ["required", "auto", "required"]


@pytest.mark.parametrize(
    ("status", "message", "next_question", "after_a_while"),
    [
        (500, NAMES_CHOICE, "auto", "required"),
        (500, "scripted failure", "required", "required"),
        (422, "bad request", "auto", "auto"),
        (400, "bad request", "auto", "auto"),
    ],
)
def test_required_is_asked_again_after_a_while_unless_the_server_refused_its_schema(
    make_deps: MakeDeps,
    fake_llm: FakeOpenAI,
    status: int,
    message: str,
    next_question: str,
    after_a_while: str,
) -> None:
    """A 500 naming tool_choice on "required", then an answer on "auto": the server may only
    have been failing, so "auto" is kept for a while and "required" asked again; a 400 or 422
    is a refusal of the schema, and "auto" stays. A bare 500 teaches nothing: only its own
    question is asked again with "auto", the next one asks for "required"."""
    agent = Agent(make_deps(llm_max_retries=0))
    now = [1000.0]
    agent.bounds.first_choice.clock = lambda: now[0]
    fake_llm.push(Reply(status=status, message=message), UMBRELLA, UMBRELLA)
    assert agent.ask(LATER, user="U1", today=AS_OF).text == _balance(agent, "Umbrella")
    assert agent.ask(LATER, user="U1", today=AS_OF).text == _balance(agent, "Umbrella")
    now[0] += agent.bounds.first_choice.retry_after
    fake_llm.push(UMBRELLA)
    assert agent.ask(LATER, user="U1", today=AS_OF).text == _balance(agent, "Umbrella")
    first_calls = [r.get("tool_choice") for r in fake_llm.requests]
    assert first_calls == ["required", "auto", next_question, after_a_while]
