"""Approve / Edit / Reject on approval cards, the two modals, and posting/redrawing cards.

Listeners are thin: ack, call tools.actions / tools.dunning (where every rule lives), redraw
the card from the database, and tell a refused user why in an ephemeral message. The card
is always redrawn from a fresh read under a per-action lock, so a slow update can never
paint an older state over a newer one.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.blocks.approval import ApprovalId, edit_modal, reject_modal
from bot.cards import card_notifier, refresh_card
from tools import actions, dunning
from tools.actions import ActionError, ActionInfo, ActionNotFound, AlreadyDecided
from tools.deps import ToolDeps

log = logging.getLogger(__name__)


# --- helpers ----------------------------------------------------------------------------------


def _clicked(body: dict[str, Any]) -> tuple[int, str, str | None]:
    action_id = int(body["actions"][0]["value"])
    channel = (body.get("container") or {}).get("channel_id") or (body.get("channel") or {}).get(
        "id"
    )
    return action_id, body["user"]["id"], channel


def _remember_card(deps: ToolDeps, a: ActionInfo, body: dict[str, Any]) -> None:
    """Cards posted as a router answer are located on their first click."""
    container = body.get("container") or {}
    if a.slack_ts is None and container.get("message_ts") and container.get("channel_id"):
        actions.attach_card(deps, a.id, container["channel_id"], container["message_ts"])


def _tell(client: WebClient, channel: str | None, user: str, text: str) -> None:
    if channel is None:
        return
    try:
        client.chat_postEphemeral(channel=channel, user=user, text=text)
    except Exception:
        log.exception("event=approval_ephemeral_failed")


def _load_for_click(
    deps: ToolDeps, client: WebClient, body: dict[str, Any]
) -> tuple[ActionInfo | None, str, str | None]:
    action_id, user, channel = _clicked(body)
    try:
        a = actions.load(deps, action_id)
    except ActionNotFound as exc:
        _tell(client, channel, user, str(exc))
        return None, user, channel
    _remember_card(deps, a, body)
    return a, user, channel


def _modal_values(view: dict[str, Any], block: str) -> str:
    return str(view["state"]["values"][block][block].get("value") or "")


# --- listeners --------------------------------------------------------------------------------


def register(app: App, deps: ToolDeps) -> None:
    @app.action(ApprovalId.APPROVE)
    def on_approve(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        a, user, channel = _load_for_click(deps, client, body)
        if a is None:
            return
        try:
            decision = actions.approve(deps, a.id, user)
        except ActionError as exc:
            _tell(client, channel, user, str(exc))
            if isinstance(exc, AlreadyDecided) or "expired" in str(exc):
                refresh_card(client, deps, a.id)
            return
        refresh_card(client, deps, a.id)
        if decision.outcome == "first_approval":
            _tell(client, channel, user, decision.message)

    @app.action(ApprovalId.REJECT)
    def on_reject(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        a, user, channel = _load_for_click(deps, client, body)
        if a is None:
            return
        if a.status != "proposed":
            _tell(client, channel, user, f"Already {a.status}; nothing to reject.")
            return
        client.views_open(trigger_id=body["trigger_id"], view=reject_modal(a))

    @app.action(ApprovalId.EDIT)
    def on_edit(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        a, user, channel = _load_for_click(deps, client, body)
        if a is None:
            return
        if a.status != "proposed":
            _tell(client, channel, user, f"Already {a.status}; it can no longer be edited.")
            return
        if user not in deps.settings.approvers and user != a.proposed_by:
            _tell(client, channel, user, "Only approvers or the proposer can edit a draft.")
            return
        client.views_open(trigger_id=body["trigger_id"], view=edit_modal(a))

    @app.view(ApprovalId.EDIT_MODAL)
    def on_edit_submit(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        meta = json.loads(view["private_metadata"])
        user = body["user"]["id"]
        try:
            dunning.edit_draft(
                deps,
                int(meta["action_id"]),
                user,
                _modal_values(view, ApprovalId.SUBJECT),
                _modal_values(view, ApprovalId.BODY),
                expected_version=int(meta["version"]),
            )
        except ActionError as exc:
            ack(response_action="errors", errors={ApprovalId.BODY: str(exc)[:1900]})
            return
        ack()
        refresh_card(client, deps, int(meta["action_id"]))

    @app.view(ApprovalId.REJECT_MODAL)
    def on_reject_submit(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        meta = json.loads(view["private_metadata"])
        user = body["user"]["id"]
        try:
            actions.reject(deps, int(meta["action_id"]), user, _modal_values(view, "reason"))
        except ActionError as exc:
            ack(response_action="errors", errors={ApprovalId.REASON: str(exc)[:1900]})
            return
        ack()
        refresh_card(client, deps, int(meta["action_id"]))


def start_outbox(deps: ToolDeps, app: App) -> Any:
    """`arbot serve` start hook: run the outbox worker, redrawing cards as actions execute."""
    from tools.outbox import Outbox

    box = Outbox(deps, notify=card_notifier(app.client, deps))
    thread, stop = box.start(interval=1.0)
    log.info("event=outbox_started")

    def shutdown() -> None:
        stop.set()
        thread.join(timeout=10)

    return shutdown
