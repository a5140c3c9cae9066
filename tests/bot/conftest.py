"""Fixtures for the Slack bot: a fake Slack Web API, bot settings, the real app over HTTP."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
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


class ListenerPool(ThreadPoolExecutor):
    """The app's listener pool, remembering what it ran, so a test can wait for the work a
    request started after its ack (a listener's last database write, say) to finish."""

    def __init__(self) -> None:
        super().__init__(max_workers=16, thread_name_prefix="test-listener")
        self._futures: list[Future[object]] = []
        self._lock = threading.Lock()

    def submit(  # type: ignore[override]
        self, fn: Callable[..., object], /, *args: object, **kwargs: object
    ) -> Future[object]:
        future = super().submit(fn, *args, **kwargs)
        with self._lock:
            self._futures.append(future)
        return future

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Block until every listener started so far has returned; fail after `timeout`."""
        with self._lock:
            started = list(self._futures)
        _done, running = wait(started, timeout=timeout)
        assert not running, f"{len(running)} listener(s) still running after {timeout}s"


@dataclass
class Running:
    app: App
    server: ThreadingWSGIServer
    slack: SlackSender
    base: str
    listeners: ListenerPool


@pytest.fixture
def running(bot_settings: Settings, bot_deps: ToolDeps) -> Iterator[Running]:
    pool = ListenerPool()
    app = create_app(bot_settings, bot_deps, listener_executor=pool)
    server = serve(default_routes(app, bot_deps), host="127.0.0.1", port=0)
    serve_in_thread(server)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    yield Running(app, server, SlackSender(f"{base}/slack/events", SECRET), base, pool)
    server.shutdown()
    server.server_close()
    pool.shutdown(wait=True, cancel_futures=True)


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
