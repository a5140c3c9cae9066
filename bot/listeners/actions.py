"""The bot's own buttons: "Show invoices" (upload the rows as CSV) and "which customer?"."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.answer import run
from bot.app import BotDeps
from bot.blocks.ids import ActionId, PickCustomer, RowsRequest
from bot.intents import Intent
from bot.reply import access_for, post_answer, upload_rows


def _where(body: dict[str, Any]) -> tuple[str, str | None, str | None]:
    container = body.get("container") or {}
    message = body.get("message") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    message_ts = container.get("message_ts") or message.get("ts")
    return str(channel), message.get("thread_ts") or message_ts, message_ts


def _refused(deps: BotDeps, client: WebClient, body: dict[str, Any], channel: str) -> bool:
    user = (body.get("user") or {}).get("id")
    refusal = access_for(deps, client).refusal(user, channel)
    if refusal is not None and user:
        client.chat_postEphemeral(channel=channel, user=user, text=refusal)
    return refusal is not None


def register(app: App, deps: BotDeps) -> None:
    @app.action(ActionId.SHOW_ROWS.value)
    def on_show_rows(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        channel, thread_ts, _ = _where(body)
        if _refused(deps, client, body, channel):
            return
        request = RowsRequest.model_validate_json(action["value"])
        upload_rows(deps, client, request, channel=channel, thread_ts=thread_ts)

    @app.action(re.compile(f"^{ActionId.PICK_CUSTOMER.value}"))
    def on_pick_customer(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        channel, thread_ts, message_ts = _where(body)
        if _refused(deps, client, body, channel):
            return
        pick = PickCustomer.model_validate_json(action["value"])
        result = run(
            deps,
            Intent(
                tool="customer_balance",
                topic="customer",
                customer_id=pick.customer_id,
                as_of=pick.as_of,
            ),
        )
        if message_ts:
            client.chat_update(
                channel=channel,
                ts=message_ts,
                text=f"Showing {(action.get('text') or {}).get('text', 'the chosen customer')}.",
                blocks=[],
            )
        post_answer(deps, client, result, channel=channel, thread_ts=thread_ts)
