"""`/ar <question>`: acked at once, answered in the channel (chart and CSV in its thread)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.app import BotDeps
from bot.reply import handle_question


def register(app: App, deps: BotDeps) -> None:
    @app.command("/ar")
    def on_ar(ack: Ack, command: dict[str, Any], client: WebClient) -> None:
        ack()
        channel = command["channel_id"]
        handle_question(
            deps,
            client,
            question=command.get("text") or "help",
            user=command.get("user_id"),
            channel=channel,
            channel_type="im" if command.get("channel_name") == "directmessage" else None,
            thread_ts=None,
            via="command",
        )
