"""Build and send Slack requests signed the way Slack signs them (v0 HMAC-SHA256).

Tests and benchmarks use this to drive the real Bolt app over HTTP exactly as Slack would:
Events API callbacks (with X-Slack-Retry-Num for retries), slash commands and interactivity
payloads (button clicks, modal submissions).

    slack = SlackSender(f"http://127.0.0.1:{port}/slack/events", secret="test-secret")
    status, body = slack.event(message_event("what's our AR", user="U1", channel="D1"))
    slack.command("/ar", "aging", user="U1", channel="C1")
    slack.action(block_action("show_invoices", value="...", user="U1", channel="C1", ts="1.2"))
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import secrets
import time
import urllib.error
import urllib.request
import uuid
from typing import Any
from urllib.parse import urlencode

TEAM_ID = "T0000TEST"
API_APP_ID = "A0000TEST"
_counter = itertools.count(1)
# Event ids and message ts must not repeat across processes sharing a database (the bot
# de-duplicates on them), so each process starts at a random offset.
_OFFSET = secrets.randbelow(1_000_000)


def signature(secret: str, timestamp: str, body: str) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(
    secret: str, body: str, *, timestamp: int | None = None, content_type: str
) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature(secret, ts, body),
    }


def new_ts() -> str:
    return f"{int(time.time())}.{(_OFFSET + next(_counter)) % 1_000_000:06d}"


# -- payload builders ----------------------------------------------------------------------
def event_callback(event: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
    """Wrap an inner event the way the Events API delivers it."""
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "api_app_id": API_APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:16].upper()}",
        "event_time": int(time.time()),
        "authorizations": [
            {
                "team_id": TEAM_ID,
                "user_id": "UBOT000001",
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
    }


def message_event(
    text: str,
    *,
    user: str,
    channel: str,
    channel_type: str | None = None,
    ts: str | None = None,
    thread_ts: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A `message` event; channel_type defaults to "im" for D... channels."""
    event = {
        "type": "message",
        "user": user,
        "text": text,
        "ts": ts or new_ts(),
        "channel": channel,
        "channel_type": channel_type or ("im" if channel.startswith("D") else "channel"),
        "event_ts": ts or new_ts(),
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event | extra


def mention_event(
    text: str, *, user: str, channel: str, ts: str | None = None, bot_user: str = "UBOT000001"
) -> dict[str, Any]:
    """An `app_mention` event; the text starts with the bot's mention like Slack's does."""
    stamp = ts or new_ts()
    return {
        "type": "app_mention",
        "user": user,
        "text": f"<@{bot_user}> {text}",
        "ts": stamp,
        "channel": channel,
        "event_ts": stamp,
    }


def slash_command(
    command: str, text: str, *, user: str, channel: str, channel_name: str = "finance"
) -> dict[str, str]:
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "team_domain": "test",
        "channel_id": channel,
        "channel_name": "directmessage" if channel.startswith("D") else channel_name,
        "user_id": user,
        "user_name": user.lower(),
        "command": command,
        "text": text,
        "api_app_id": API_APP_ID,
        "response_url": "http://127.0.0.1:9/unused",
        "trigger_id": f"trigger-{next(_counter)}",
    }


def block_action(
    action_id: str,
    *,
    value: str,
    user: str,
    channel: str,
    message_ts: str,
    thread_ts: str | None = None,
    block_id: str = "b1",
) -> dict[str, Any]:
    """An interactivity payload for a button click on a message."""
    message: dict[str, Any] = {"type": "message", "ts": message_ts, "text": "", "blocks": []}
    if thread_ts:
        message["thread_ts"] = thread_ts
    return {
        "type": "block_actions",
        "team": {"id": TEAM_ID, "domain": "test"},
        "user": {"id": user, "username": user.lower(), "team_id": TEAM_ID},
        "api_app_id": API_APP_ID,
        "token": "legacy-verification-token",
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel,
            "is_ephemeral": False,
        },
        "trigger_id": f"trigger-{next(_counter)}",
        "channel": {"id": channel, "name": "finance"},
        "message": message,
        "response_url": "http://127.0.0.1:9/unused",
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": block_id,
                "value": value,
                "action_ts": new_ts(),
            }
        ],
    }


def view_submission(
    callback_id: str,
    *,
    user: str,
    values: dict[str, dict[str, Any]],
    private_metadata: str = "",
) -> dict[str, Any]:
    """A modal submission; `values` is Slack's state.values shape (block -> action -> value)."""
    return {
        "type": "view_submission",
        "team": {"id": TEAM_ID, "domain": "test"},
        "user": {"id": user, "username": user.lower(), "team_id": TEAM_ID},
        "api_app_id": API_APP_ID,
        "token": "legacy-verification-token",
        "trigger_id": f"trigger-{next(_counter)}",
        "view": {
            "id": f"V{next(_counter):08d}",
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": private_metadata,
            "state": {"values": values},
            "hash": "h",
        },
    }


# -- sending -------------------------------------------------------------------------------
class SlackSender:
    """POSTs signed requests to a Bolt endpoint and returns (status, body text)."""

    def __init__(self, url: str, secret: str, *, timeout: float = 10.0) -> None:
        self.url, self.secret, self.timeout = url, secret, timeout

    def post(
        self,
        body: str,
        content_type: str,
        *,
        retry_num: int | None = None,
        timestamp: int | None = None,
        secret: str | None = None,
    ) -> tuple[int, str]:
        headers = signed_headers(
            secret or self.secret, body, timestamp=timestamp, content_type=content_type
        )
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        request = urllib.request.Request(
            self.url, data=body.encode(), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode()

    def event(
        self, event: dict[str, Any], *, event_id: str | None = None, **kw: Any
    ) -> tuple[int, str]:
        """Send an inner event (wrapped in an event_callback), or a full callback as is."""
        payload = (
            event
            if event.get("type") == "event_callback"
            else event_callback(event, event_id=event_id)
        )
        return self.post(json.dumps(payload), "application/json", **kw)

    def command(
        self, command: str, text: str, *, user: str, channel: str, **kw: Any
    ) -> tuple[int, str]:
        form = slash_command(command, text, user=user, channel=channel)
        return self.post(urlencode(form), "application/x-www-form-urlencoded", **kw)

    def interaction(self, payload: dict[str, Any], **kw: Any) -> tuple[int, str]:
        body = urlencode({"payload": json.dumps(payload)})
        return self.post(body, "application/x-www-form-urlencoded", **kw)
