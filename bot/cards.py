"""Approval cards in Slack: the one way a card is posted, redrawn and kept up to date.

Whoever proposed the action (the fast path, the agent, `arbot propose`, a job or an alert
button) posts its card through `post_card`, which records where the card is so later
decisions and the outbox redraw it in place. A card is always redrawn from a fresh read under
a per-action lock, so a slow update can never paint an older state over a newer one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from slack_sdk import WebClient

from bot.blocks.common import escape
from bot.cash_cards import refresh_cash_card
from bot.render.proposal import proposal_view
from tools import actions
from tools.actions import ActionInfo
from tools.deps import ToolDeps

_LOCKS = [threading.Lock() for _ in range(64)]


def post_card(
    client: WebClient,
    deps: ToolDeps,
    action: ActionInfo,
    *,
    channel: str,
    thread_ts: str | None = None,
) -> str:
    """Post the approval card and remember where it is; returns the card's ts.

    The card's text is plain words; Slack reads the text field as markup, so it is escaped
    here, once, like every answer's (`bot.reply`).
    """
    card = proposal_view(action)
    response = client.chat_postMessage(
        channel=channel,
        thread_ts=thread_ts,
        text=escape(card.text),
        blocks=card.block_dicts(),
        unfurl_links=False,
    )
    ts = str(response["ts"])
    actions.attach_card(deps, action.id, str(response.get("channel") or channel), ts)
    return ts


def refresh_card(client: WebClient, deps: ToolDeps, action_id: int) -> ActionInfo:
    """Redraw the card from the database (no-op when the card's location is unknown). Writing
    an applied bank line to the books has no card of its own: the line's cash card shows it."""
    with _LOCKS[action_id % len(_LOCKS)]:
        a = actions.load(deps, action_id)
        if a.kind == "books_payment":
            if a.payload.get("bank_txn") is not None:
                refresh_cash_card(client, deps, int(a.payload["bank_txn"]))
            return a
        if a.slack_channel and a.slack_ts:
            card = proposal_view(a)
            client.chat_update(
                channel=a.slack_channel,
                ts=a.slack_ts,
                text=escape(card.text),
                blocks=card.block_dicts(),
            )
        return a


def card_notifier(client: WebClient, deps: ToolDeps) -> Callable[[int], None]:
    """The outbox's `notify`: redraw the card after each execution step."""

    def notify(action_id: int) -> None:
        refresh_card(client, deps, action_id)

    return notify
