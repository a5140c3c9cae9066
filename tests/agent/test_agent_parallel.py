"""Questions answered at the same time share what the agent learnt about its server."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from bot.agent import Agent
from tests.agent.conftest import AS_OF, MakeDeps
from tests.fakes.openai_api import FakeOpenAI, Reply, call, error, say

FAILS, WORKS, LATER = "what does Initech owe?", "what does Globex owe?", "what does Umbrella owe?"


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
        question, rounds = _question(body), sum(m["role"] == "tool" for m in body["messages"])
        if question == FAILS:
            return Reply(status=500, after=worked)  # fails only after the other one worked
        if rounds == 0:
            customer = "Globex" if question == WORKS else "Umbrella"
            return call("customer_balance", customer=customer, as_of="2025-06-30")
        if question == WORKS:
            worked.set()
            return say("Globex Corp owes USD 12,000.00.")
        return say("Umbrella Ltd owes USD 700.00.")

    fake_llm.responder = server
    agent = Agent(make_deps(llm_max_retries=0), help_text=lambda: "help")
    with ThreadPoolExecutor(max_workers=2) as pool:
        failing = pool.submit(agent.ask, FAILS, user="U1", today=AS_OF)
        working = pool.submit(agent.ask, WORKS, user="U2", today=AS_OF)
        assert failing.result(timeout=60).outcome == "unavailable"
        assert working.result(timeout=60).text == "Globex Corp owes USD 12,000.00."

    asked_before = len(fake_llm.requests)
    later = agent.ask(LATER, user="U3", today=AS_OF)
    assert later.text == "Umbrella Ltd owes USD 700.00."
    assert [r.get("tool_choice") for r in fake_llm.requests[asked_before:]] == ["auto", "auto"]


def test_a_failing_server_is_asked_for_a_tool_call_again_once_it_recovers(
    make_deps: MakeDeps, fake_llm: FakeOpenAI
) -> None:
    """A 500 on both "required" and "auto", with "auto" never seen working: the server was
    failing, not refusing, so the next question asks for "required" again."""
    agent = Agent(make_deps(llm_max_retries=0), help_text=lambda: "help")
    fake_llm.push(error(500), error(500))
    assert agent.ask(FAILS, user="U1", today=AS_OF).outcome == "unavailable"
    fake_llm.push(
        call("customer_balance", customer="Umbrella", as_of="2025-06-30"),
        say("Umbrella Ltd owes USD 700.00."),
    )
    assert agent.ask(LATER, user="U1", today=AS_OF).text == "Umbrella Ltd owes USD 700.00."
    assert [r.get("tool_choice") for r in fake_llm.requests] == [
        "required",
        "auto",
        "required",
        "auto",
    ]


@pytest.mark.parametrize(
    ("status", "after_a_while"),
    [(500, "required"), (422, "auto"), (400, "auto")],
)
def test_required_is_asked_again_after_a_while_unless_the_server_refused_its_schema(
    make_deps: MakeDeps, fake_llm: FakeOpenAI, status: int, after_a_while: str
) -> None:
    """A 5xx on "required" that outlasts the retries, then an answer on "auto": the server
    may only have been failing, so "auto" is kept for a while and "required" asked again;
    a 400 or 422 is a refusal of the schema, and "auto" stays."""
    agent = Agent(make_deps(llm_max_retries=0), help_text=lambda: "help")
    now = [1000.0]
    agent.bounds.first_choice.clock = lambda: now[0]
    umbrella = [
        call("customer_balance", customer="Umbrella", as_of="2025-06-30"),
        say("Umbrella Ltd owes USD 700.00."),
    ]
    fake_llm.push(error(status), *umbrella, *umbrella)
    assert agent.ask(LATER, user="U1", today=AS_OF).text == "Umbrella Ltd owes USD 700.00."
    assert agent.ask(LATER, user="U1", today=AS_OF).text == "Umbrella Ltd owes USD 700.00."
    now[0] += agent.bounds.first_choice.retry_after
    fake_llm.push(*umbrella)
    assert agent.ask(LATER, user="U1", today=AS_OF).text == "Umbrella Ltd owes USD 700.00."
    first_calls = [r.get("tool_choice") for r in fake_llm.requests if _first_round(r)]
    assert first_calls == ["required", "auto", "auto", after_a_while]


def _first_round(body: dict[str, Any]) -> bool:
    return not any(m["role"] == "tool" for m in body["messages"])
