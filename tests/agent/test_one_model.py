"""The agent and the dunning drafter reach the model the settings name, through one factory."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.agent import Agent
from tests.agent.conftest import MakeDeps
from tests.fakes.openai_api import FakeOpenAI, say
from tools.dunning import DunningInput, propose_dunning_email


def test_agent_and_drafter_send_the_configured_model_to_the_configured_server(
    make_deps: MakeDeps, fake_llm: FakeOpenAI
) -> None:
    deps = make_deps(llm_model="house-model-7", company_name="Example Co")
    fake_llm.push(say("Ask me about AR, aging or DSO."))
    reply = Agent(deps).ask("how are things looking lately?", user="UFIN00001")
    assert reply.outcome == "no_tool"
    body = "Hello Initech,\n\nINV-I2 for USD 4,000.00 is overdue.\n\nExample Co Accounts Receivable"
    fake_llm.push(say(json.dumps({"subject": "INV-I2 is overdue", "body": body})))
    draft = propose_dunning_email(
        deps,
        DunningInput(customer="Initech LLC", requested_by="UFIN00001"),
        now=datetime(2025, 6, 30, 12, tzinfo=UTC),
    )
    assert draft.payload["drafted_by"] == "llm"
    agent_request, drafter_request = fake_llm.requests
    assert agent_request["model"] == drafter_request["model"] == "house-model-7"
    assert "Example Co" in agent_request["messages"][0]["content"]  # the system prompt file
    prompt = drafter_request["messages"][-1]["content"]  # the dunning_email prompt file
    assert "Example Co. Today is 2025-06-30" in prompt and "Tone: **firm**" in prompt
