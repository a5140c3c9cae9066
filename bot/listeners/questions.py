"""Questions: a DM, an @mention or `/ar <question>`, answered the same way where asked.

Every human message in a DM is a question; a mention is one in any channel (answered only in
allowed ones); `/ar` is acked at once and answered in the channel. Bot messages, edits,
deletions and other subtypes are ignored so the bot never answers itself or answers twice.
Replies go in the question's thread (a command's answer starts a thread of its own); a chart
or a CSV goes in the same thread right after the answer.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any, Literal

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.answer import AskContext, answer, too_long
from bot.app import BotDeps
from bot.caller import Caller, caller
from bot.dedup import claim
from bot.listeners._slack import tell
from bot.reply import post_answer

log = logging.getLogger(__name__)
Via = Literal["dm", "mention", "command"]
ANSWERED_SUBTYPES = {None, "thread_broadcast"}
MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


def is_human_question(event: dict[str, Any]) -> bool:
    return (
        event.get("subtype") in ANSWERED_SUBTYPES
        and not event.get("bot_id")
        and bool(event.get("user"))
        and bool((event.get("text") or "").strip())
    )


def handle_question(
    deps: BotDeps,
    client: WebClient,
    who: Caller,
    *,
    question: str,
    via: Via,
    dedup_keys: list[str] | None = None,
) -> None:
    """Answer once (a retried or doubly delivered event is dropped), or refuse with no numbers."""
    started = time.perf_counter()
    if dedup_keys and not claim(deps, dedup_keys):
        log.info("event=duplicate_ignored keys=%s", ",".join(dedup_keys))
        return
    if who.channel is None:
        return
    if who.refusal is not None:
        log.info("event=refused user=%s channel=%s via=%s", who.user, who.channel, via)
        if via == "command":
            tell(client, who, who.refusal)
        else:
            client.chat_postMessage(channel=who.channel, thread_ts=who.thread_ts, text=who.refusal)
        return
    ctx = AskContext(user=who.user or None, channel=who.channel, thread_ts=who.thread_ts)
    result = answer(deps, question, fallback=deps.fallback, context=ctx)
    post_answer(
        deps,
        client,
        result,
        channel=who.channel,
        thread_ts=who.thread_ts,
        asked_by=who.user if via == "command" else None,
        question=question,
    )
    log.info(
        "event=answered via=%s answered_by=%s tool=%s ms=%d",
        via,
        result.answered_by,
        result.tool,
        (time.perf_counter() - started) * 1000,
    )


def _event_keys(body: dict[str, Any], who: Caller) -> list[str]:
    """The same message may come as a retry or as both a DM and a mention: answer it once."""
    return [f"ev:{body.get('event_id')}", f"msg:{who.channel}:{who.message_ts}"]


def register(app: App, deps: BotDeps) -> None:
    @app.event("message")
    def on_message(
        event: dict[str, Any], body: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        if event.get("channel_type") != "im" or not is_human_question(event):
            return
        who = caller(context)
        question = event.get("text") or ""
        keys = _event_keys(body, who)
        handle_question(deps, client, who, question=question, via="dm", dedup_keys=keys)

    @app.event("app_mention")
    def on_mention(
        event: dict[str, Any], body: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        if not is_human_question(event):
            return
        who = caller(context)
        text = event.get("text") or ""
        # too long a text is refused as it is, before even the mention pattern reads it
        question = text if too_long(text) else MENTION.sub(" ", text).strip()
        keys = _event_keys(body, who)
        handle_question(deps, client, who, question=question, via="mention", dedup_keys=keys)

    @app.command("/ar")
    def on_ar(ack: Ack, command: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        ack()
        question = command.get("text") or "help"
        handle_question(deps, client, caller(context), question=question, via="command")
