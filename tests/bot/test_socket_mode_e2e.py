"""Socket Mode end to end: `arbot serve` with SLACK_APP_TOKEN, against a fake Socket Mode server.

The real process opens the connection the way it does in production (apps.connections.open on
the fake Web API hands it a ws:// URL on 127.0.0.1), receives `hello`, then Slack's envelopes:
a question in a DM (events_api), a click on the answer's button (interactive) and `/ar`
(slash_commands). Each envelope must be acknowledged by its envelope_id, and the answers a
user would see arrive on the fake Web API.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.blocks.ids import ActionId
from tests.bot.conftest import CHANNEL, DM, FINANCE
from tests.fakes.signing import block_action, event_callback, message_event, slash_command
from tests.fakes.slack_api import FakeSlack
from tests.fakes.socket_mode import FakeSocketMode
from tools.deps import ToolDeps

ROOT = Path(__file__).resolve().parents[2]
APP_TOKEN = "xapp-1-A0000TEST-1-test"


@pytest.fixture
def socket_mode(fake_slack: FakeSlack) -> Iterator[FakeSocketMode]:
    with FakeSocketMode() as server:
        fake_slack.socket_mode_url = server.url
        yield server


@pytest.fixture
def serving(
    ledger: ToolDeps, fake_slack: FakeSlack, socket_mode: FakeSocketMode, tmp_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARBOT_", "SLACK_", "OPENAI_"))}
    env |= {
        "ARBOT_DATABASE_URL": ledger.settings.database_url,
        "ARBOT_SLACK_API_URL": fake_slack.base_url,
        "ARBOT_FINANCE_USERS": FINANCE,
        "ARBOT_ALLOWED_CHANNELS": CHANNEL,
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_APP_TOKEN": APP_TOKEN,
        "PYTHONPATH": str(ROOT),
    }
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve"],
        cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        socket_mode.wait_connected(timeout=60)
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


@pytest.mark.timeout(180)
def test_socket_mode_answers_a_dm_a_button_and_a_slash_command(
    serving: subprocess.Popen[bytes], fake_slack: FakeSlack, socket_mode: FakeSocketMode
) -> None:
    [opened] = fake_slack.calls("apps.connections.open")
    assert opened.token == APP_TOKEN, "the connection is opened with the app-level token"

    question = socket_mode.send(
        "events_api", event_callback(message_event("AR", user=FINANCE, channel=DM))
    )
    assert socket_mode.wait_for_ack(question)["envelope_id"] == question
    [answer] = fake_slack.wait_for("chat.postMessage", timeout=30)
    assert answer.params["channel"] == DM
    assert "USD" in answer.all_text and "AR" in answer.all_text

    button = next(
        e for b in answer.blocks if b["type"] == "actions" for e in b["elements"]
        if e["action_id"] == ActionId.SHOW_ROWS
    )  # fmt: skip
    click = socket_mode.send(
        "interactive",
        block_action(button["action_id"], value=button["value"], user=FINANCE, channel=DM,
                     message_ts=answer.params.get("ts", "1.1"),
                     thread_ts=answer.params["thread_ts"]),
    )  # fmt: skip
    socket_mode.wait_for_ack(click)
    [upload] = fake_slack.wait_for("files.completeUploadExternal", timeout=30)
    assert upload.params["channel_id"] == DM
    assert b"INV-A1" in fake_slack.uploads()[0].content

    command = socket_mode.send(
        "slash_commands",
        slash_command("/ar", "top 3 overdue", user=FINANCE, channel=CHANNEL),
        accepts_response_payload=True,
    )
    socket_mode.wait_for_ack(command)
    post = fake_slack.wait_for(
        "chat.postMessage", where=lambda c: c.params["channel"] == CHANNEL, timeout=30
    )[0]
    assert f"<@{FINANCE}> asked" in post.all_text
    assert "1. *Acme Inc*" in post.all_text and "3. *Initech Ltd*" in post.all_text
