"""`arbot jobs run NAME` says in words when a run did nothing, whatever the job returns."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.cli_helpers import arbot
from tests.fakes.slack_api import FakeSlack
from tests.jobs.conftest import ALERTS
from tests.jobs.ledger import MONDAY
from tools.deps import ToolDeps

NOTHING = "nothing to post (already done for this period, or nothing due)"


def test_a_repeated_dispute_watch_says_it_posted_nothing(
    jdeps: ToolDeps,
    fake_slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in {
        "ARBOT_DATABASE_URL": jdeps.settings.database_url,
        "ARBOT_TIMEZONE": "UTC",
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "ARBOT_SLACK_API_URL": fake_slack.base_url,
        "ARBOT_ALERTS_CHANNEL": ALERTS,
    }.items():
        monkeypatch.setenv(name, value)
    at = MONDAY.strftime("%Y-%m-%dT%H:%M")
    first = arbot(capsys, "jobs", "run", "dispute-watch", "--now", at)
    assert first.code == 0, first.err
    assert first.out.startswith("dispute-watch: {'new': [") and NOTHING not in first.out
    assert fake_slack.calls("chat.postMessage"), "the fixture's old dispute is reminded"
    later = (MONDAY + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    again = arbot(capsys, "jobs", "run", "dispute-watch", "--now", later)
    assert (again.code, again.out) == (0, f"dispute-watch: {NOTHING}\n")
