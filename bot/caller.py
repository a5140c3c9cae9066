"""Who sent a Slack request and where it came from, resolved once per request.

One global Bolt middleware (`caller_middleware`, installed by `create_app`) reads every event,
command, button click and modal submission, resolves the user (finance member, approver) and
the place (channel, DM or allowed channel, thread, clicked message), and puts one `Caller` in
the Bolt context. Listeners read it with `caller(context)`: none looks at the access lists or
digs a channel out of a payload itself. What a listener does with a refusal (a reply in the
thread, an ephemeral note, an error in the modal) stays the listener's choice.

The middleware runs before the ack, so it does nothing slow: whether the user is in a finance
user group (a usergroups.users.list call when the cache is cold) is looked up only when a
listener first asks, after its ack.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, cast

from slack_bolt import BoltContext

from bot.access import NOT_FINANCE, WRONG_PLACE, Access
from tools.action_model import cli_os_user, cli_proposer
from tools.settings import Settings

CONTEXT_KEY = "arbot_caller"


@dataclass(frozen=True)
class Place:
    """Where a payload came from; any field is None when the payload does not say."""

    channel: str | None
    channel_type: str | None = None
    thread_ts: str | None = None  # the thread to answer in
    message_ts: str | None = None  # the message sent (events) or clicked (buttons)


@dataclass(frozen=True)
class Caller:
    """The person behind a request and the place it came from."""

    user: str  # "" when the payload names nobody (a bot's message, an edit)
    is_finance: Callable[[str], bool] = field(repr=False, compare=False)
    approver: bool  # in ARBOT_APPROVERS
    channel: str | None
    allowed_place: bool  # a DM or an allowed channel
    thread_ts: str | None
    message_ts: str | None

    @cached_property
    def finance(self) -> bool:
        """A finance user, directly or through a user group (looked up on first use)."""
        return self.is_finance(self.user)

    @property
    def refusal(self) -> str | None:
        """Why this caller gets no AR numbers here, or None when they do."""
        if not self.finance:
            return NOT_FINANCE
        if not self.allowed_place:
            return WRONG_PLACE
        return None

    @property
    def on_team(self) -> bool:
        """A finance user or an approver: may act on an alert or a bank-receipt card wherever
        they see it."""
        return self.finance or self.approver


def _user(body: dict[str, Any]) -> str:
    event = body.get("event")
    if event:
        return str(event.get("user") or "")
    if body.get("command"):
        return str(body.get("user_id") or "")
    return str((body.get("user") or {}).get("id") or "")


def _form_channel(view: dict[str, Any]) -> str | None:
    """A modal opened from a message carries that message's channel in its metadata
    (`bot.blocks.ids.AlertForm`); a submission says nothing else about where it came from."""
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return None
    return meta.get("channel") if isinstance(meta, dict) else None


def locate(body: dict[str, Any]) -> Place:
    """The place any kind of payload came from: event, command, button click or modal."""
    event = body.get("event")
    if event:
        ts = event.get("ts")
        thread_ts = event.get("thread_ts") or ts
        return Place(event.get("channel"), event.get("channel_type"), thread_ts, ts)
    if body.get("command"):
        is_dm = body.get("channel_name") == "directmessage"
        return Place(body.get("channel_id"), "im" if is_dm else None)
    if body.get("type") in ("view_submission", "view_closed"):
        return Place(_form_channel(body.get("view") or {}))
    container = body.get("container") or {}
    message = body.get("message") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    message_ts = container.get("message_ts") or message.get("ts")
    return Place(channel, None, message.get("thread_ts") or message_ts, message_ts)


def resolve(body: dict[str, Any], access: Access, approvers: Collection[str]) -> Caller:
    user, place = _user(body), locate(body)
    return Caller(
        user=user,
        is_finance=access.is_finance,
        approver=bool(user) and user in approvers,
        channel=place.channel,
        allowed_place=access.allowed_place(place.channel, place.channel_type),
        thread_ts=place.thread_ts,
        message_ts=place.message_ts,
    )


def caller_middleware(access: Access, approvers: Collection[str]) -> Callable[..., None]:
    """The global middleware: resolve the caller, then let the listeners run."""
    approver_ids = frozenset(approvers)

    def resolve_caller(
        body: dict[str, Any], context: BoltContext, next_: Callable[[], None]
    ) -> None:
        context[CONTEXT_KEY] = resolve(body, access, approver_ids)
        next_()

    return resolve_caller


def caller(context: BoltContext) -> Caller:
    """The caller the middleware resolved for this request."""
    return cast(Caller, context[CONTEXT_KEY])


def cli_caller(settings: Settings, access: Access, os_user: str | None = None) -> Caller:
    """The person behind a command-line action, as the Slack rules see them: the Slack user
    ARBOT_CLI_SLACK_USERS names for the OS user running arbot (nobody when it names none),
    so `on_team` decides for the command line exactly as for a click on a card."""
    me = cli_os_user(cli_proposer(os_user)) or ""
    slack_id = settings.cli_slack_user(me) or ""
    return Caller(
        user=slack_id,
        is_finance=access.is_finance,
        approver=bool(slack_id) and slack_id in settings.approvers,
        channel=None,
        allowed_place=False,
        thread_ts=None,
        message_ts=None,
    )
