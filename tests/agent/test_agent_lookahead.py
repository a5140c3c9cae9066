"""The agent's cut tool: "how do the segments compare?" gets each segment's own report.

What the model reads of a result is checked through the tool wrapper itself (`run_spec`);
what the person gets is the rendering of the same result."""

from __future__ import annotations

import json

from bot.agent import Agent
from bot.agent.tools.build import run_spec
from bot.agent.tools.specs import specs
from tests.agent.conftest import AS_OF, MakeDeps, ledger_rendering
from tests.fakes.openai_api import FakeOpenAI, Reply, call
from tools.forecast import ForecastInput, cash_forecast
from tools.money import format_major


def _model_reads(agent: Agent, tool: str, **args: object) -> str:
    """The tool result as the model reads it, through the agent's own tool wrapper."""
    spec = next(s for s in specs() if s.name == tool)
    text, found = run_spec(agent.deps, spec, dict(args))
    assert found is not None, text
    return text


def test_agent_compares_segments(db_url: str, make_deps: MakeDeps, fake_llm: FakeOpenAI) -> None:
    agent = Agent(make_deps(db_url))
    fake_llm.push(call("ar_report_by", by="segment", as_of=AS_OF.isoformat()))

    reply = agent.ask("how do our segments compare?", user="U1", thread_key="C1:1.1", today=AS_OF)

    content = _model_reads(agent, "ar_report_by", by="segment", as_of=AS_OF.isoformat())
    assert content.startswith('<data tool="ar_report_by">')
    result = json.loads(content.removeprefix('<data tool="ar_report_by">').rsplit("</data>", 1)[0])
    # Globex G3 12,000 + Initech I2 4,000 open at June 30; Umbrella U2 700.
    assert result["groups"]["enterprise"]["ar_total"] == "16000.00"
    assert result["groups"]["smb"]["ar_total"] == "700.00"
    assert result["currency"] == "USD"
    assert reply.text == ledger_rendering(agent.deps, "ar_report_by", by="segment", as_of=AS_OF)
    assert "USD 16,000.00" in reply.text and "USD 700.00" in reply.text


def test_agent_forecasts_cash(db_url: str, make_deps: MakeDeps, fake_llm: FakeOpenAI) -> None:
    deps = make_deps(db_url)
    agent = Agent(deps)
    expected = cash_forecast(deps, ForecastInput(as_of=AS_OF))
    fake_llm.push(call("cash_forecast", as_of=AS_OF.isoformat()))

    reply = agent.ask(
        "how much cash comes in next month?", user="U1", thread_key="C1:2.1", today=AS_OF
    )

    content = _model_reads(agent, "cash_forecast", as_of=AS_OF.isoformat())
    assert reply.text == ledger_rendering(deps, "cash_forecast", as_of=AS_OF)
    result = json.loads(content.removeprefix('<data tool="cash_forecast">').rsplit("</data>", 1)[0])
    assert result["totals"]["30"] == format_major(expected.totals_minor[30], "USD")
    assert len(result["weeks"]) == 13 and result["as_of"] == AS_OF.isoformat()


def test_agent_cuts_and_dso_moves_use_the_period_setting(
    db_url: str, make_deps: MakeDeps, fake_llm: FakeOpenAI
) -> None:
    agent = Agent(make_deps(db_url, period_days=30))
    fake_llm.push(
        Reply(
            tool_calls=[
                ("ar_report_by", {"by": "segment", "as_of": AS_OF.isoformat()}),
                ("dso_change", {"as_of": AS_OF.isoformat()}),
            ]
        )
    )

    reply = agent.ask(
        "segments, and why did DSO move?", user="U1", thread_key="C1:3.1", today=AS_OF
    )
    assert reply.outcome == "answered" and reply.tools_called == ["ar_report_by", "dso_change"]
    contents = [
        _model_reads(agent, "ar_report_by", by="segment", as_of=AS_OF.isoformat()),
        _model_reads(agent, "dso_change", as_of=AS_OF.isoformat()),
    ]
    results = [json.loads(c.split(">", 1)[1].rsplit("</data>", 1)[0]) for c in contents]
    # the agent's answers cover the same window as the fast path's and the digest's
    assert [r["period_days"] for r in results] == [30, 30]
