"""Free-form questions answered through the real ChatOpenAI client: the model picks the tool,
the answer is the ledger's rendering of its result."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.agent import Agent
from db.models import LlmUsage
from tests.agent.conftest import AS_OF, MakeDeps, ledger_rendering
from tests.fakes.openai_api import FakeOpenAI, Reply, call


def test_slowest_enterprise_payers_with_what_they_owe(agent: Agent, fake_llm: FakeOpenAI) -> None:
    fake_llm.push(call("payment_history", segment="enterprise", as_of="2025-06-30"))
    reply = agent.ask(
        "Which of our enterprise customers pay slowest, and what do they owe?",
        user="U1",
        today=AS_OF,
    )

    assert reply.outcome == "answered"
    assert reply.tool_calls == [
        {"name": "payment_history", "args": {"segment": "enterprise", "as_of": "2025-06-30"}}
    ]
    assert reply.text.splitlines()[1:] == [
        "• Globex Corp: 40.00 days late on average (70.00 days to pay, at most 50 days late) "
        "over 2 paid invoices · owes USD 12,000.00",
        "• Initech LLC: 10.00 days late on average (40.00 days to pay, at most 10 days late) "
        "over 1 paid invoice · owes USD 4,000.00",
    ]
    # The system prompt was rendered for today with the company's settings.
    system = fake_llm.requests[0]["messages"][0]
    assert system["role"] == "system"
    assert "Example Co" in system["content"] and "2025-06-30" in system["content"]


FREE_FORM = [
    ("How old is Globex's debt?", "aging", {"customer": "Globex", "as_of": "2025-06-30"},
     "USD 12,000.00"),
    ("Tell me everything about Umbrella", "customer_detail",
     {"customer": "Umbrella", "as_of": "2025-06-30"}, "USD 700.00"),
    ("Which accounts look risky, and why?", "at_risk_accounts", {"as_of": "2025-06-30"},
     "USD 12,000.00"),
    ("What was our AR at the end of last quarter?", "ar_metrics", {"as_of": "2025-03-31"},
     "USD 17,000.00"),
    ("Is the enterprise book older than smb?", "aging",
     {"segment": "enterprise", "as_of": "2025-06-30"}, "USD 16,000.00"),
]  # fmt: skip


@pytest.mark.parametrize(("question", "tool", "args", "figure"), FREE_FORM)
def test_free_form_questions_get_tool_backed_answers(
    agent: Agent,
    fake_llm: FakeOpenAI,
    question: str,
    tool: str,
    args: dict[str, str],
    figure: str,
) -> None:
    fake_llm.push(Reply(content=f"It is USD 1.00, {figure} is wrong.", tool_calls=[(tool, args)]))
    reply = agent.ask(question, user="U1", today=AS_OF)

    assert reply.outcome == "answered", reply.text
    assert reply.tools_called == [tool]
    assert reply.text == ledger_rendering(agent.deps, tool, **args)
    assert figure in reply.text and "USD 1.00" not in reply.text


def test_risk_reasons_reach_the_model_and_the_answer(agent: Agent, fake_llm: FakeOpenAI) -> None:
    fake_llm.push(call("at_risk_accounts", as_of="2025-06-30", min_level="low"))
    reply = agent.ask("who is at risk?", user="U1", today=AS_OF)
    assert reply.outcome == "answered"
    assert "balance USD 12,000.00 is over the credit limit USD 10,000.00" in reply.text
    assert "1 failed payment attempt in" in reply.text
    assert "1 open dispute for USD 700.00" in reply.text


def test_usage_is_stored_per_question(
    agent: Agent, fake_llm: FakeOpenAI, make_deps: MakeDeps
) -> None:
    fake_llm.push(call("aging", as_of="2025-06-30"))
    reply = agent.ask("how old is our AR?", user="U1", thread_key="C1:1.0", today=AS_OF)

    with agent.deps.sessions() as session:
        rows = session.execute(select(LlmUsage)).scalars().all()
        assert session.execute(select(func.count()).select_from(LlmUsage)).scalar_one() == 1
    row = rows[0]
    assert (row.thread_key, row.model) == ("C1:1.0", "fake-model")
    assert row.prompt_tokens == reply.prompt_tokens > 0
    assert row.completion_tokens == reply.completion_tokens > 0
    assert row.latency_ms >= 0
