"""`arbot ask` sends what the fast path cannot answer to the agent, and shows its proposals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from tests.agent.conftest import MakeDeps, ledger_rendering
from tests.cli_helpers import arbot
from tests.fakes.openai_api import FakeOpenAI, Reply, call, say
from tests.fakes.slack_api import FakeSlack


def test_arbot_ask_json_answered_by_the_agent(
    make_deps: MakeDeps,
    fake_llm: FakeOpenAI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    deps = make_deps()
    monkeypatch.setenv("ARBOT_DATABASE_URL", deps.settings.database_url)
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("OPENAI_BASE_URL", fake_llm.base_url)
    monkeypatch.setenv("ARBOT_LLM_MODEL", "fake-model")
    fake_llm.push(
        Reply(
            content="Globex Corp pays slowest (4.0 days late) and owes USD 1,200.00.",
            tool_calls=[("payment_history", {"segment": "enterprise", "as_of": "2025-06-30"})],
        )
    )
    code = main(
        [
            "ask",
            "--json",
            "Which enterprise customers pay slowest, and what do they owe as of June 30 2025?",
        ]
    )

    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["answered_by"] == "agent"
    assert out["text"] == ledger_rendering(
        deps, "payment_history", segment="enterprise", as_of="2025-06-30"
    )
    assert "4.0 days" not in out["text"]
    assert out["data"]["outcome"] == "answered"
    assert out["data"]["tools"] == [
        {"name": "payment_history", "args": {"segment": "enterprise", "as_of": "2025-06-30"}}
    ]
    assert fake_llm.requests[0]["model"] == "fake-model"


def test_a_fast_path_question_spends_no_tokens(
    make_deps: MakeDeps,
    fake_llm: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    deps = make_deps()
    monkeypatch.setenv("ARBOT_DATABASE_URL", deps.settings.database_url)
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("OPENAI_BASE_URL", fake_llm.base_url)
    assert main(["ask", "--json", "what's our AR right now?"]) == 0
    assert json.loads(capsys.readouterr().out)["answered_by"] == "router"
    assert fake_llm.requests == []


def test_arbot_ask_shows_and_posts_the_card_the_agent_proposed(
    make_deps: MakeDeps,
    fake_llm: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    deps = make_deps()
    approvals = "CAPPROVAL1"
    with FakeSlack() as slack:
        for name, value in {
            "ARBOT_DATABASE_URL": deps.settings.database_url,
            "OPENAI_API_KEY": "test-key",
            "OPENAI_BASE_URL": fake_llm.base_url,
            "SLACK_BOT_TOKEN": "xoxb-test-token",
            "ARBOT_SLACK_API_URL": slack.base_url,
            "ARBOT_APPROVALS_CHANNEL": approvals,
        }.items():
            monkeypatch.setenv(name, value)
        fake_llm.push(
            call("propose_dunning_email", customer="Globex"),
            say("not an email"),  # tools.dunning's own drafting call; the template is used
        )
        run = arbot(capsys, "ask", "could you chase Globex for me, with a reminder?")
        [card] = slack.wait_for("chat.postMessage")

    assert run.code == 0, run.err
    assert card.params["channel"] == approvals
    assert "Reminder to Globex Corp" in card.all_text and "ap@g.example.com" in card.all_text
    assert any(b["type"] == "actions" for b in card.blocks), "the card has its buttons"
    reply, printed_card = run.out.split("\n", 1)
    assert reply == "A reminder to Globex Corp is waiting for approval."
    assert printed_card == f"{card.params['text']}\nCard posted to {approvals} for approval.\n"
    assert "Waiting for approval" in printed_card and "<@" not in printed_card
