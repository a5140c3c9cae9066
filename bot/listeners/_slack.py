"""What several listener modules share: the button listener's shape, a word to one person,
a modal's entered values."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.blocks.ids import FieldId
from bot.caller import Caller, caller

log = logging.getLogger(__name__)
MAX_FIELD_ERROR = 1900  # Slack shows at most ~2,000 characters under a modal input


# (the click's body, the clicked action, the Web API client, the caller)
Click = Callable[[dict[str, Any], dict[str, Any], WebClient, Caller], None]


def clicked(handle: Click) -> Callable[..., None]:
    """A button listener: ack at once (Slack retries after 3 s), then handle the click."""

    def listener(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
        context: BoltContext,
    ) -> None:  # fmt: skip
        ack()
        handle(body, action, client, caller(context))

    return listener


def tell(client: WebClient, who: Caller, text: str) -> None:
    """An ephemeral message only the caller sees, where they are (none if that is unknown).

    A refusal or a "why not" is the last thing a listener does, so a failure to show it is
    logged rather than raised.
    """
    if not who.channel or not who.user:
        return
    try:
        client.chat_postEphemeral(channel=who.channel, user=who.user, text=text)
    except Exception:
        log.exception("event=ephemeral_failed user=%s channel=%s", who.user, who.channel)


def field_value(view: dict[str, Any], field: FieldId) -> str:
    """What the person typed, picked or dated in one input of a submitted modal ("" if none)."""
    state = view["state"]["values"][field][field]
    if state.get("type") == "static_select" or "selected_option" in state:
        return str((state.get("selected_option") or {}).get("value") or "")
    if "selected_date" in state:
        return str(state.get("selected_date") or "")
    return str(state.get("value") or "")


def field_errors(field: FieldId, message: str) -> dict[str, Any]:
    """The `ack` arguments that keep a modal open with `message` under one input."""
    return {"response_action": "errors", "errors": {field.value: message[:MAX_FIELD_ERROR]}}
