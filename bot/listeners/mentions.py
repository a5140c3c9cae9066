"""@arbot mentions in channels: answered in the thread, only in allowed channels."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.app import BotDeps
from bot.listeners.messages import is_human_question
from bot.reply import handle_question

MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


def register(app: App, deps: BotDeps) -> None:
    @app.event("app_mention")
    def on_mention(event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        if not is_human_question(event):
            return
        channel, ts = event["channel"], event.get("ts")
        handle_question(
            deps,
            client,
            question=MENTION.sub(" ", event.get("text") or "").strip(),
            user=event.get("user"),
            channel=channel,
            channel_type=event.get("channel_type"),
            thread_ts=event.get("thread_ts") or ts,
            via="mention",
            dedup_keys=[f"ev:{body.get('event_id')}", f"msg:{channel}:{ts}"],
        )
