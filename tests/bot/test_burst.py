"""A burst of questions on PostgreSQL: every one answered, none waiting out the connection pool.

The app and the database are built the way `arbot serve` builds them (`create_app` with no
test executor, `connect` from the settings), so the listener threads and the connection pool
are the production ones, sized from one setting. ARBOT_WORKERS is set low, so the pool
(workers + reserve) stays far below the shared server's `max_connections`; the rule proved
(no listener waits for a connection) does not depend on the count.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event

from bot.app import create_app
from bot.server import default_routes, serve, serve_in_thread
from tests.bot.conftest import DM, FINANCE, SECRET
from tests.bot.ledger import build_ledger
from tests.fakes.signing import SlackSender, message_event
from tests.fakes.slack_api import FakeSlack
from tools.deps import RESERVED_CONNECTIONS, ToolDeps, connect
from tools.metrics import MetricsInput
from tools.money import format_money
from tools.report import ar_report
from tools.settings import Settings

QUESTIONS = 200
WORKERS = 8


@pytest.fixture
def served(
    bot_settings: Settings, tmp_path: Path, today: date
) -> Iterator[tuple[SlackSender, ToolDeps]]:
    if not bot_settings.database_url.startswith("postgresql"):
        pytest.skip("the pool under a burst is PostgreSQL's concern (SQLite serialises writes)")
    settings = bot_settings.model_copy(update={"workers": WORKERS})
    deps = connect(settings)
    build_ledger(deps, tmp_path / "csv", today)
    app = create_app(settings, deps)
    server = serve(default_routes(app, deps), host="127.0.0.1", port=0)
    serve_in_thread(server)
    yield SlackSender(f"http://127.0.0.1:{server.server_address[1]}/slack/events", SECRET), deps
    server.shutdown()
    server.server_close()
    deps.engine.dispose()


def test_every_question_of_a_burst_is_answered(
    served: tuple[SlackSender, ToolDeps], fake_slack: FakeSlack, today: date
) -> None:
    slack, deps = served
    pool = deps.engine.pool
    capacity = pool.size() + pool._max_overflow  # type: ignore[attr-defined]
    assert capacity == WORKERS + RESERVED_CONNECTIONS
    peak = [0]

    @event.listens_for(deps.engine, "checkout")
    def _count(*_: object) -> None:
        peak[0] = max(peak[0], pool.checkedout())  # type: ignore[attr-defined]

    # a different day each, so no two share one computation and each reads the database
    days = [today - timedelta(days=n) for n in range(QUESTIONS)]
    expected = {
        d.isoformat(): format_money(ar_report(deps, MetricsInput(as_of=d)).ar_total_minor, "USD")
        for d in days
    }

    def ask(day: date) -> int:
        event = message_event(f"AR as of {day.isoformat()}", user=FINANCE, channel=DM)
        return slack.event(event)[0]

    with ThreadPoolExecutor(max_workers=50) as senders:
        statuses = list(senders.map(ask, days))
    assert statuses == [200] * QUESTIONS
    posts = fake_slack.wait_for("chat.postMessage", QUESTIONS, timeout=180)
    assert len(posts) == QUESTIONS
    texts = [p.all_text for p in posts]
    assert not [t for t in texts if "went wrong" in t], "a listener failed (pool timeout?)"
    for day, figure in expected.items():
        assert any(f"as of {day}" in t and figure in t for t in texts), day
    # every listener thread had a connection free when it asked: none queued for one
    assert peak[0] < capacity, f"{peak[0]} of {capacity} connections in use: threads waited"
