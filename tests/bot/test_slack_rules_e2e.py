"""Slack's rules, over real HTTP: access, retries, signatures, rate limits, size, errors."""

from __future__ import annotations

import csv
import io
import json

import pytest

from bot.app import create_app
from bot.blocks.common import MAX_BLOCKS, MAX_SECTION_CHARS
from bot.server import default_routes, serve, serve_in_thread
from tests.bot.conftest import (
    CHANNEL,
    DM,
    FINANCE,
    OTHER_CHANNEL,
    OUTSIDER,
    SECRET,
    ListenerPool,
    Running,
)
from tests.bot.ledger import DEBTORS
from tests.fakes.signing import SlackSender, event_callback, mention_event, message_event
from tests.fakes.slack_api import FakeSlack
from tools.deps import ToolDeps
from tools.settings import Settings


def test_outsider_gets_refusal_without_numbers(bot: Running, fake_slack: FakeSlack) -> None:
    event = message_event("what's our AR?", user=OUTSIDER, channel="DOUT000001")
    assert bot.slack.event(event)[0] == 200
    [post] = fake_slack.wait_for("chat.postMessage")
    assert "only shared with the finance team" in post.all_text
    assert not any(ch.isdigit() for ch in post.all_text)

    bot.slack.command("/ar", "aging", user=OUTSIDER, channel=CHANNEL)
    [ephemeral] = fake_slack.wait_for("chat.postEphemeral")
    assert ephemeral.params["user"] == OUTSIDER
    assert "finance team" in ephemeral.params["text"]
    bot.listeners.wait_idle()
    assert len(fake_slack.calls("chat.postMessage")) == 1, "no answer posted to the channel"


def test_finance_user_in_other_channel_is_redirected(bot: Running, fake_slack: FakeSlack) -> None:
    bot.slack.event(mention_event("AR", user=FINANCE, channel=OTHER_CHANNEL))
    [post] = fake_slack.wait_for("chat.postMessage")
    assert "direct message" in post.all_text and "USD" not in post.all_text


def test_usergroup_member_is_answered(bot: Running, fake_slack: FakeSlack) -> None:
    bot.slack.event(message_event("AR", user="UGRP000001", channel="DGRP000001"))
    [post] = fake_slack.wait_for("chat.postMessage")
    assert "USD" in post.all_text
    assert fake_slack.calls("usergroups.users.list")[0].params["usergroup"] == "SFINANCE01"


def test_retried_event_answered_once_even_after_restart(
    bot: Running, fake_slack: FakeSlack, bot_settings: Settings, ledger: ToolDeps
) -> None:
    payload = event_callback(message_event("AR", user=FINANCE, channel=DM), event_id="EvRETRY1")
    assert bot.slack.event(payload)[0] == 200
    assert bot.slack.event(payload, retry_num=1)[0] == 200
    fake_slack.wait_for("chat.postMessage")

    # A second replica (or the restarted process) on the same database gets retry #2.
    other_listeners = ListenerPool()
    other = create_app(bot_settings, ledger, listener_executor=other_listeners)
    server = serve(default_routes(other, ledger), port=0)
    serve_in_thread(server)
    try:
        sender = SlackSender(f"http://127.0.0.1:{server.server_address[1]}/slack/events", SECRET)
        assert sender.event(payload, retry_num=2)[0] == 200
        other_listeners.wait_idle()
    finally:
        server.shutdown()
        server.server_close()
        other_listeners.shutdown()
    bot.listeners.wait_idle()
    assert len(fake_slack.calls("chat.postMessage")) == 1


def test_bad_signature_does_nothing(bot: Running, fake_slack: FakeSlack) -> None:
    body = json.dumps(event_callback(message_event("AR", user=FINANCE, channel=DM)))
    status, _ = bot.slack.post(body, "application/json", secret="not-the-secret")
    assert status == 401
    status, _ = bot.slack.post(body, "application/json", timestamp=1_600_000_000)
    assert status == 401
    bot.listeners.wait_idle()
    assert fake_slack.calls("chat.postMessage") == []


def test_rate_limited_post_is_retried_after_retry_after(
    bot: Running, fake_slack: FakeSlack
) -> None:
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=1)
    bot.slack.event(message_event("AR", user=FINANCE, channel=DM))
    [post] = fake_slack.wait_for("chat.postMessage", timeout=15)
    attempts = fake_slack.attempts("chat.postMessage")
    assert [a.status for a in attempts] == [429, 200]
    assert attempts[1].at - attempts[0].at >= 1.0, "waited for Retry-After"
    assert "USD" in post.all_text


def test_oversize_answer_is_cut_with_csv(bot: Running, fake_slack: FakeSlack) -> None:
    event = message_event("top 100 overdue accounts", user=FINANCE, channel=DM)
    bot.slack.event(event)
    [post] = fake_slack.wait_for("chat.postMessage")
    blocks = post.blocks
    assert len(blocks) <= MAX_BLOCKS
    for block in blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= MAX_SECTION_CHARS
    accounts = DEBTORS + 3
    assert f"and {accounts - 25} more" in post.all_text
    fake_slack.wait_for("files.completeUploadExternal")
    [upload] = fake_slack.uploads()
    assert upload.completed["thread_ts"] == event["ts"]
    rows = list(csv.DictReader(io.StringIO(upload.content.decode())))
    assert len({r["customer"] for r in rows}) == accounts


def test_bot_messages_and_edits_are_ignored(bot: Running, fake_slack: FakeSlack) -> None:
    bot.slack.event(message_event("AR", user=FINANCE, channel=DM, bot_id="B999"))
    bot.slack.event(message_event("AR", user=FINANCE, channel=DM, subtype="message_changed"))
    bot.slack.event(message_event("AR", user="UBOT000001", channel=DM))
    bot.listeners.wait_idle()
    assert fake_slack.calls("chat.postMessage") == []


def test_error_shows_an_id_not_a_traceback(
    bot: Running, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    def broken(*_a: object, **_k: object) -> None:
        raise RuntimeError("database exploded: secret detail")

    monkeypatch.setattr("bot.listeners.questions.answer", broken)
    bot.slack.event(message_event("AR", user=FINANCE, channel=DM))
    [post] = fake_slack.wait_for("chat.postMessage")
    assert "something went wrong" in post.all_text
    assert "Traceback" not in post.all_text and "secret detail" not in post.all_text
    error_id = post.all_text.split("error id `")[1].split("`")[0]
    assert any(error_id in r.getMessage() for r in caplog.records)
