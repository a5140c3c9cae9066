"""The agent's cut tool: "how do the segments compare?" gets each segment's own report."""

from __future__ import annotations

import json

from bot.agent import Agent
from tests.agent.conftest import AS_OF, MakeDeps
from tests.fakes.openai_api import FakeOpenAI, call, say
from tools.forecast import ForecastInput, cash_forecast
from tools.money import format_major


def test_agent_compares_segments(db_url: str, make_deps: MakeDeps, fake_llm: FakeOpenAI) -> None:
    agent = Agent(make_deps(db_url))
    fake_llm.push(
        call("ar_report_by", by="segment", as_of=AS_OF.isoformat()),
        say("Enterprise holds USD 16,000.00 of AR, smb USD 700.00."),
    )

    reply = agent.ask("how do our segments compare?", user="U1", thread_key="C1:1.1", today=AS_OF)

    tool_msgs = [m for m in fake_llm.requests[1]["messages"] if m["role"] == "tool"]
    content = tool_msgs[0]["content"]  # wrapped as data, never instructions
    assert content.startswith('<data tool="ar_report_by">')
    result = json.loads(content.removeprefix('<data tool="ar_report_by">').rsplit("</data>", 1)[0])
    # Globex G3 12,000 + Initech I2 4,000 open at June 30; Umbrella U2 700.
    assert result["groups"]["enterprise"]["ar_total"] == "16000.00"
    assert result["groups"]["smb"]["ar_total"] == "700.00"
    assert result["currency"] == "USD"
    assert reply.text == "Enterprise holds USD 16,000.00 of AR, smb USD 700.00."


def test_agent_forecasts_cash(db_url: str, make_deps: MakeDeps, fake_llm: FakeOpenAI) -> None:
    deps = make_deps(db_url)
    agent = Agent(deps)
    expected = cash_forecast(deps, ForecastInput(as_of=AS_OF))
    fake_llm.push(call("cash_forecast", as_of=AS_OF.isoformat()), say("See the forecast."))

    agent.ask("how much cash comes in next month?", user="U1", thread_key="C1:2.1", today=AS_OF)

    [content] = [m["content"] for m in fake_llm.requests[1]["messages"] if m["role"] == "tool"]
    result = json.loads(content.removeprefix('<data tool="cash_forecast">').rsplit("</data>", 1)[0])
    assert result["totals"]["30"] == format_major(expected.totals_minor[30], "USD")
    assert len(result["weeks"]) == 13 and result["as_of"] == AS_OF.isoformat()


def test_agent_cuts_and_dso_moves_use_the_period_setting(
    db_url: str, make_deps: MakeDeps, fake_llm: FakeOpenAI
) -> None:
    agent = Agent(make_deps(db_url, period_days=30))
    fake_llm.push(
        call("ar_report_by", by="segment", as_of=AS_OF.isoformat()),
        call("dso_change", as_of=AS_OF.isoformat()),
        say("Done."),
    )

    agent.ask("segments, and why did DSO move?", user="U1", thread_key="C1:3.1", today=AS_OF)

    contents = [m["content"] for m in fake_llm.requests[-1]["messages"] if m["role"] == "tool"]
    results = [json.loads(c.split(">", 1)[1].rsplit("</data>", 1)[0]) for c in contents]
    # the agent's answers cover the same window as the fast path's and the digest's
    assert [r["period_days"] for r in results] == [30, 30]
