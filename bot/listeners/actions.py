"""The buttons on answers: "Show invoices" (upload the rows as CSV) and "which customer?".

Both show AR numbers, so both are refused, like a question, to anyone outside finance or in
a channel that is not allowed.
"""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.answer import run
from bot.app import BotDeps
from bot.blocks.common import escape
from bot.blocks.ids import ActionId, PickCustomer, RowsRequest
from bot.caller import Caller
from bot.intents import Intent
from bot.listeners._slack import clicked, tell
from bot.reply import post_answer, upload_rows


def _refused(client: WebClient, who: Caller) -> bool:
    if who.refusal is None:
        return False
    tell(client, who, who.refusal)
    return True


def register(app: App, deps: BotDeps) -> None:
    def show_rows(
        _body: dict[str, Any], action: dict[str, Any], client: WebClient, who: Caller
    ) -> None:
        if _refused(client, who) or who.channel is None:
            return
        request = RowsRequest.model_validate_json(action["value"])
        upload_rows(deps, client, request, channel=who.channel, thread_ts=who.thread_ts)

    def pick_customer(
        _body: dict[str, Any], action: dict[str, Any], client: WebClient, who: Caller
    ) -> None:
        if _refused(client, who) or who.channel is None:
            return
        pick = PickCustomer.model_validate_json(action["value"])
        intent = Intent(
            tool="customer_balance",
            topic="customer",
            customer_id=pick.customer_id,
            as_of=pick.as_of,
        )
        result = run(deps, intent)
        if who.message_ts:
            chosen = escape((action.get("text") or {}).get("text", "the chosen customer"))
            client.chat_update(
                channel=who.channel, ts=who.message_ts, text=f"Showing {chosen}.", blocks=[]
            )
        post_answer(deps, client, result, channel=who.channel, thread_ts=who.thread_ts)

    app.action(ActionId.SHOW_ROWS)(clicked(show_rows))
    app.action(re.compile(f"^{ActionId.PICK_CUSTOMER}"))(clicked(pick_customer))
