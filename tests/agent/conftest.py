"""A small ledger whose figures are known by hand, the fake model server, and agent factories.

As of 2025-06-30:
- Globex Corp (enterprise, limit 10,000): paid 10,000 30 days late and 5,000 50 days late
  (average 40.0 days late, 70.0 days to pay); owes 12,000.00, all 90+ days past due.
- Initech LLC (enterprise): paid 8,000 10 days late; owes 4,000.00 (16 days past due).
- Umbrella Ltd (smb): paid 500 on time; owes 700.00 with a failed card attempt and an open
  dispute ("product not received").
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bot.agent import Agent
from bot.agent.substitute import LEAD
from bot.agent.tools.specs import specs
from bot.answer import Answer, answer
from bot.app import create_app
from bot.render import render
from bot.server import default_routes, serve, serve_in_thread
from tests.fakes.openai_api import FakeOpenAI, running
from tests.fakes.signing import SlackSender, message_event
from tests.fakes.slack_api import Call, FakeSlack
from tests.ledger_files import customer, invoice, payment, write_csvs
from tools.csv_import import import_directory
from tools.deps import ToolDeps, connect
from tools.settings import Settings

AS_OF = date(2025, 6, 30)


def ledger_rows(globex_name: str = "Globex Corp") -> dict[str, list[dict[str, object]]]:
    return {
        "customers": [
            customer("G", name=globex_name, segment="enterprise", credit_limit="10000.00",
                     payment_terms_days=30),
            customer("I", name="Initech LLC", segment="enterprise", payment_terms_days=30),
            customer("U", name="Umbrella Ltd", segment="smb", payment_terms_days=15),
        ],
        "invoices": [
            invoice("G1", "10000.00", "2025-01-01", "2025-01-31", customer_id="G"),
            invoice("G2", "5000.00", "2025-02-01", "2025-03-03", customer_id="G"),
            invoice("G3", "12000.00", "2025-03-01", "2025-03-31", customer_id="G"),
            invoice("I1", "8000.00", "2025-01-15", "2025-02-14", customer_id="I"),
            invoice("I2", "4000.00", "2025-05-15", "2025-06-14", customer_id="I"),
            invoice("U1", "500.00", "2025-04-01", "2025-04-16", customer_id="U"),
            invoice("U2", "700.00", "2025-05-17", "2025-06-01", customer_id="U"),
        ],
        "payments": [
            payment("PG1", "G1", "10000.00", "2025-03-02", customer_id="G"),
            payment("PG2", "G2", "5000.00", "2025-04-22", customer_id="G"),
            payment("PI1", "I1", "8000.00", "2025-02-24", customer_id="I"),
            payment("PU1", "U1", "500.00", "2025-04-16", customer_id="U"),
            payment("PU2", "U2", "700.00", "2025-06-01", customer_id="U", status="failed",
                    method="card", failure_reason="card_declined"),
        ],
        "disputes": [
            {"dispute_id": "D1", "customer_id": "U", "invoice_id": "U2", "amount": "700.00",
             "currency": "USD", "kind": "billing", "reason": "product not received",
             "opened_on": "2025-06-05"},
        ],
    }  # fmt: skip


def load_ledger(deps: ToolDeps, directory: Path, **kwargs: Any) -> None:
    write_csvs(directory, **ledger_rows(**kwargs))
    import_directory(deps.engine, directory, tz=deps.settings.tz)


@pytest.fixture
def fake_llm() -> Iterator[FakeOpenAI]:
    with running() as fake:
        yield fake


MakeDeps = Callable[..., ToolDeps]


@pytest.fixture
def make_deps(tmp_path: Path, fake_llm: FakeOpenAI) -> Iterator[MakeDeps]:
    """ToolDeps on a ledger (SQLite unless a URL is given) with the LLM pointed at the fake."""
    made: list[ToolDeps] = []

    def make(url: str | None = None, *, load: bool = True, **overrides: Any) -> ToolDeps:
        values: dict[str, Any] = {
            "database_url": url or f"sqlite:///{tmp_path / 'agent.db'}",
            "openai_api_key": "test-key",
            "openai_base_url": fake_llm.base_url,
            "llm_model": "fake-model",
            "llm_max_retries": 1,
            "llm_timeout_seconds": 5,
            "company_name": "Example Co",
        } | overrides
        deps = connect(Settings(**values))
        if load:
            load_ledger(deps, tmp_path / f"csv{len(made)}")
        made.append(deps)
        return deps

    yield make
    for d in made:
        d.engine.dispose()


@pytest.fixture
def agent(make_deps: MakeDeps) -> Agent:
    return Agent(make_deps())


SLACK_SECRET = "agent-test-secret"
SLACK_FINANCE, SLACK_DM, SLACK_APPROVER = "UFIN000001", "DFIN000001", "UAPP000001"
SlackBot = tuple[SlackSender, FakeSlack]


@pytest.fixture
def make_slack_bot(tmp_path: Path, fake_llm: FakeOpenAI) -> Iterator[Callable[..., SlackBot]]:
    """The real Bolt app over HTTP on a loaded ledger, Slack and the model faked; settings
    overridable per test (answer cap, approvers...)."""
    with FakeSlack() as fake_slack:
        started: list[tuple[Any, ToolDeps]] = []

        def make(**overrides: Any) -> SlackBot:
            values: dict[str, Any] = {
                "database_url": f"sqlite:///{tmp_path / 'slack.db'}",
                "slack_bot_token": "xoxb-test",
                "slack_signing_secret": SLACK_SECRET,
                "slack_api_url": fake_slack.base_url,
                "finance_users": [SLACK_FINANCE],
                "openai_api_key": "test-key",
                "openai_base_url": fake_llm.base_url,
                "llm_max_retries": 0,
            } | overrides
            settings = Settings(**values)
            deps = connect(settings)
            load_ledger(deps, tmp_path / "csv")
            server = serve(
                default_routes(create_app(settings, deps), deps), host="127.0.0.1", port=0
            )
            serve_in_thread(server)
            started.append((server, deps))
            url = f"http://127.0.0.1:{server.server_address[1]}/slack/events"
            return SlackSender(url, SLACK_SECRET), fake_slack

        try:
            yield make
        finally:
            for server, deps in started:
                server.shutdown()
                server.server_close()
                deps.engine.dispose()


@pytest.fixture
def slack_bot(make_slack_bot: Callable[..., SlackBot]) -> SlackBot:
    return make_slack_bot()


def ask_in_slack(bot: SlackBot, question: str) -> str:
    """What the bot posts when the finance user asks `question` in a DM."""
    sender, fake_slack = bot
    assert sender.event(message_event(question, user=SLACK_FINANCE, channel=SLACK_DM))[0] == 200
    return fake_slack.wait_for("chat.postMessage")[0].all_text


def posted_answer(bot: SlackBot, question: str) -> Call:
    """The message the bot posts when the finance user asks `question` in a DM."""
    sender, fake_slack = bot
    assert sender.event(message_event(question, user=SLACK_FINANCE, channel=SLACK_DM))[0] == 200
    return fake_slack.wait_for("chat.postMessage")[0]


def slack_ledger(tmp_path: Path) -> ToolDeps:
    """The Slack bot's ledger (`make_slack_bot`), opened again to compute what it must post."""
    return connect(Settings(database_url=f"sqlite:///{tmp_path / 'slack.db'}"))


def fast_path(deps: ToolDeps, question: str) -> Answer:
    """The fast path's answer (no model): what the agent must post for the same subject."""
    found = answer(deps, question)
    assert found.answered_by == "router", question
    return found


def ledger_rendering(deps: ToolDeps, tool: str, **args: Any) -> str:
    """The rendering of one agent tool called with `args`, run directly on the ledger."""
    spec = next(s for s in specs() if s.name == tool)
    return render(spec.run(deps, spec.args(**args), None)).text


def agent_lead(text: str) -> str:
    """The deterministic answer's text under our could-not-answer line."""
    return f"{LEAD} Here is the customer it names:\n\n{text}"
