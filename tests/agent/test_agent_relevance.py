"""A tool result is posted only at the date and on the topic the question asks for.

Each bad call below is one a real model made: a cash forecast at a made-up date for "broken
promises" or "failed card payments", today's aging for "AR at the end of last quarter", the
credit limits for "accounts at risk". What is posted is then the ledger's own answer under our
could-not-answer line, never the wrong rendering; the right calls are still answered.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.agent import Agent
from bot.agent.substitute import substitute
from bot.render import render
from tests.agent.conftest import AS_OF, MakeDeps, ledger_rendering
from tests.fakes.openai_api import FakeOpenAI, Reply, say
from tools.customer_lookup import Named

QUARTER_END = "2025-03-31"  # the end of the quarter before AS_OF's

Call = tuple[str, dict[str, Any]]
BAD_CHOICES: list[tuple[str, list[Call], str]] = [
    (
        "Which customers have broken promises to pay?",
        [
            ("ar_report_by", {"by": "method", "group": "customers"}),
            ("cash_forecast", {"as_of": "2025-03-24", "days": [5, 6]}),
        ],
        "Cash forecast from",
    ),
    (
        "Which customers have broken promises to pay?",
        [("cash_forecast", {"days": [5, 6]})],  # today's, still not about promises
        "Cash forecast from",
    ),
    (
        "Did any card payments fail recently, and for whom?",
        [
            ("ar_report_by", {"by": "currency", "group": "customers"}),
            ("cash_forecast", {"as_of": "2025-04-30", "days": [5, 6]}),
        ],
        "Cash forecast from",
    ),
    (
        "What was our AR at the end of last quarter?",
        [
            ("ar_report_by", {"by": "method", "as_of": "2025-01-30"}),
            ("cash_forecast", {"days": [90]}),
            ("credit_limits", {}),
            ("aging", {"as_of": None, "customer": None}),
        ],
        "Aging of all customers",
    ),
    (
        "What was our AR at the end of last quarter?",
        [("cash_forecast", {"as_of": QUARTER_END})],  # the right day, not the topic
        "Cash forecast from",
    ),
    ("Which accounts are at risk?", [("credit_limits", {"limit": 20})], "Credit limits as of"),
    (
        "Give me a cash forecast for the next 30 days",
        [("cash_forecast", {"as_of": "2025-03-24", "days": [30]})],  # a day nobody asked
        "Cash forecast from",
    ),
]


def _deterministic(agent: Agent, question: str) -> str:
    """What the agent posts without a tool result: the ledger's answer for what it names."""
    return render(substitute(agent.deps, question, Named([], []), AS_OF)[1]).text


@pytest.mark.parametrize(("question", "calls", "wrong"), BAD_CHOICES)
def test_a_result_at_another_date_or_on_another_topic_is_not_posted(
    db_url: str,
    make_deps: MakeDeps,
    fake_llm: FakeOpenAI,
    question: str,
    calls: list[Call],
    wrong: str,
) -> None:
    agent = Agent(make_deps(db_url))
    fake_llm.push(Reply(tool_calls=calls), say(""))
    reply = agent.ask(question, user="U1", today=AS_OF)
    assert [c["name"] for c in reply.tool_calls] == [name for name, _ in calls]
    assert reply.found, "the calls worked: they were refused for what they answer"
    assert (reply.outcome, reply.text) == ("no_tool", _deterministic(agent, question))
    assert wrong not in reply.text


RIGHT_CHOICES: list[tuple[str, Call]] = [
    ("What was our AR at the end of last quarter?", ("ar_metrics", {"as_of": QUARTER_END})),
    ("What was our AR at the end of last quarter?", ("aging", {"as_of": QUARTER_END})),
    ("Give me a cash forecast for the next 30 days", ("cash_forecast", {"days": [30]})),
    ("What is the cash forecast as of today?", ("cash_forecast", {"as_of": "2025-06-30"})),
    ("Which accounts are at risk?", ("at_risk_accounts", {})),
    ("Why did DSO go up since last month?", ("dso_change", {"since": "2025-05-31"})),
]


@pytest.mark.parametrize(("question", "right"), RIGHT_CHOICES)
def test_a_result_at_the_asked_date_and_on_topic_is_posted(
    db_url: str, make_deps: MakeDeps, fake_llm: FakeOpenAI, question: str, right: Call
) -> None:
    agent = Agent(make_deps(db_url))
    tool, args = right
    fake_llm.push(Reply(tool_calls=[("credit_limits", {}), right]), say(""))
    reply = agent.ask(question, user="U1", today=AS_OF)
    assert reply.outcome == "answered"
    assert reply.text == ledger_rendering(agent.deps, tool, **args)
    assert "Credit limits as of" not in reply.text or tool == "credit_limits"


FOLLOW_UPS: list[tuple[Call, bool]] = [
    (("ar_metrics", {"as_of": QUARTER_END}), True),
    (("ar_metrics", {"as_of": "2025-06-30"}), False),  # today, not last quarter
    (("cash_forecast", {"as_of": QUARTER_END}), False),  # not the thread's topic
]


@pytest.mark.parametrize(("second", "posted"), FOLLOW_UPS)
def test_a_bare_follow_up_asks_the_threads_topic_at_its_own_date(
    db_url: str, make_deps: MakeDeps, fake_llm: FakeOpenAI, second: Call, posted: bool
) -> None:
    agent = Agent(make_deps(db_url))
    fake_llm.push(Reply(tool_calls=[("ar_metrics", {"as_of": "2025-06-30"})]))  # it worked: done
    first = agent.ask("What is our AR?", user="U1", thread_key="C1:1.1", today=AS_OF)
    assert first.outcome == "answered"
    fake_llm.push(Reply(tool_calls=[second]))
    reply = agent.ask("and last quarter?", user="U1", thread_key="C1:1.1", today=AS_OF)
    rendering = ledger_rendering(agent.deps, second[0], **second[1])
    if posted:
        assert (reply.outcome, reply.text) == ("answered", rendering)
    else:
        assert reply.outcome == "no_tool"
        assert reply.text == _deterministic(agent, "and last quarter?")
        assert rendering not in reply.text


@pytest.mark.parametrize("cap", ["roomy", "tight"])
def test_an_answer_holds_whole_results_within_the_length_cap(
    make_deps: MakeDeps, fake_llm: FakeOpenAI, cap: str
) -> None:
    calls: list[Call] = [("ar_metrics", {"as_of": QUARTER_END}), ("aging", {"as_of": QUARTER_END})]
    probe = make_deps()
    first, second = (ledger_rendering(probe, name, **args) for name, args in calls)
    limit = 35000 if cap == "roomy" else max(500, len(first))
    assert cap == "roomy" or len(first) + len(second) > limit, "the tight cap must bite"
    agent = Agent(make_deps(llm_max_answer_chars=limit))
    fake_llm.push(Reply(tool_calls=calls), say(""))
    reply = agent.ask("What was our AR at the end of last quarter?", user="U1", today=AS_OF)
    assert reply.outcome == "answered"
    if cap == "roomy":
        assert reply.text == f"{first}\n\n{second}"
    else:
        assert reply.text == (
            f"{first}\n\n1 more result left out: the answer would pass ARBOT_LLM_MAX_ANSWER_CHARS."
        )
