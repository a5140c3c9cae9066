"""Direct messages to the bot: every human message in a DM is a question.

Bot messages, edits, deletions and other subtypes are ignored so the bot never answers
itself or answers twice.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.app import BotDeps
from bot.reply import handle_question

ANSWERED_SUBTYPES = {None, "thread_broadcast"}


def is_human_question(event: dict[str, Any]) -> bool:
    return (
        event.get("subtype") in ANSWERED_SUBTYPES
        and not event.get("bot_id")
        and bool(event.get("user"))
        and bool((event.get("text") or "").strip())
    )


def register(app: App, deps: BotDeps) -> None:
    @app.event("message")
    def on_message(event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        if event.get("channel_type") != "im" or not is_human_question(event):
            return
        channel, ts = event["channel"], event.get("ts")
        handle_question(
            deps,
            client,
            question=event.get("text") or "",
            user=event.get("user"),
            channel=channel,
            channel_type="im",
            thread_ts=event.get("thread_ts") or ts,
            via="dm",
            dedup_keys=[f"ev:{body.get('event_id')}", f"msg:{channel}:{ts}"],
        )
