"""Fixtures for the Slack bot: a fake Slack Web API, bot settings, the real app over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from slack_bolt import App

from bot.app import create_app
from bot.server import ThreadingWSGIServer, default_routes, serve, serve_in_thread
from tests.bot.ledger import build_ledger
from tests.fakes.signing import SlackSender
from tests.fakes.slack_api import FakeSlack
from tools.clock import today as today_in
from tools.deps import ToolDeps, connect
from tools.settings import Settings

SECRET = "test-signing-secret"
FINANCE = "UFIN000001"
OUTSIDER = "UOUT000001"
CHANNEL = "CFIN000001"
OTHER_CHANNEL = "CRANDOM001"
DM = "DFIN000001"


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack(usergroups={"SFINANCE01": ["UGRP000001"]}) as fake:
        yield fake


@pytest.fixture
def bot_settings(db_url: str, fake_slack: FakeSlack) -> Settings:
    return Settings(
        database_url=db_url,
        timezone="UTC",
        reporting_currency="USD",
        slack_bot_token="xoxb-test-token",
        slack_signing_secret=SECRET,
        slack_api_url=fake_slack.base_url,
        finance_users=[FINANCE, "SFINANCE01"],
        allowed_channels=[CHANNEL],
    )


@pytest.fixture
def bot_deps(bot_settings: Settings) -> Iterator[ToolDeps]:
    d = connect(bot_settings)
    yield d
    d.engine.dispose()


@dataclass
class Running:
    app: App
    server: ThreadingWSGIServer
    slack: SlackSender
    base: str


@pytest.fixture
def running(bot_settings: Settings, bot_deps: ToolDeps) -> Iterator[Running]:
    app = create_app(bot_settings, bot_deps)
    server = serve(default_routes(app, bot_deps), host="127.0.0.1", port=0)
    serve_in_thread(server)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    yield Running(app, server, SlackSender(f"{base}/slack/events", SECRET), base)
    server.shutdown()
    server.server_close()


@pytest.fixture
def today() -> date:
    return today_in(ZoneInfo("UTC"))


@pytest.fixture
def ledger(bot_deps: ToolDeps, tmp_path: Path, today: date) -> ToolDeps:
    build_ledger(bot_deps, tmp_path / "csv", today)
    return bot_deps


@pytest.fixture
def bot(ledger: ToolDeps, running: Running) -> Running:
    """The app served over HTTP with the test ledger loaded."""
    return running
