"""`arbot serve --http` refuses to start without Slack's signing secret, even with an app token.

Without it Bolt would check signatures against an empty key, so anyone could forge a click on
Approve. The process is run the way an operator runs it, in a subprocess with a time limit:
a server that starts anyway never exits and the test fails on the limit.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.slack_api import FakeSlack

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({"SLACK_APP_TOKEN": "xapp-test-token"}, id="missing-with-app-token"),
        pytest.param({}, id="missing"),
        pytest.param({"SLACK_SIGNING_SECRET": " \t "}, id="whitespace-only"),
    ],
)
def test_serve_http_without_signing_secret_stops_naming_the_setting(
    fake_slack: FakeSlack, tmp_path: Path, extra: dict[str, str]
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARBOT_", "SLACK_", "OPENAI_"))}
    env |= {
        "ARBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.db'}",
        "ARBOT_SLACK_API_URL": fake_slack.base_url,
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "PYTHONPATH": str(ROOT),
    } | extra
    run = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve", "--http", "--host", "127.0.0.1", "--port", "0"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    assert run.returncode == 2
    assert "arbot: setting SLACK_SIGNING_SECRET: required for `arbot serve --http`" in run.stderr
    assert "Traceback" not in run.stderr
