"""The approval card's controls: its buttons and its modals, as pure functions of an action.

Button values carry only the action id: everything else is read from the database at click
time. The card's lines are `bot.render.proposal`'s.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import ActionsBlock, ButtonElement

from bot.blocks.common import escape, modal, text_input
from bot.blocks.ids import ActionId, CardForm, FieldId, ViewId
from tools.actions import ActionInfo


def approval_buttons(a: ActionInfo) -> ActionsBlock | None:
    """Approve / Edit (reminders only) / Reject while the action is proposed; Confirm /
    Discard for a promise or dispute note the assistant proposed; else none."""
    if a.status != "proposed":
        return None
    value = str(a.id)
    if a.kind in ("promise_to_pay", "dispute_note"):
        return ActionsBlock(
            block_id=f"approval_{a.id}",
            elements=[
                ButtonElement(
                    text="Confirm", action_id=ActionId.CONFIRM, value=value, style="primary"
                ),
                ButtonElement(text="Discard", action_id=ActionId.REJECT, value=value),
            ],
        )
    buttons = [
        ButtonElement(text="Approve", action_id=ActionId.APPROVE, value=value, style="primary")
    ]
    if a.kind == "dunning_email":
        buttons.append(ButtonElement(text="Edit", action_id=ActionId.EDIT, value=value))
    buttons.append(
        ButtonElement(text="Reject", action_id=ActionId.REJECT, value=value, style="danger")
    )
    return ActionsBlock(block_id=f"approval_{a.id}", elements=buttons)


def edit_modal(a: ActionInfo) -> dict[str, Any]:
    p = a.payload
    note = (
        f"To {escape(p['recipient'])}. The edited email must still name every invoice and its "
        "open amount; it will need approval again."
    )
    return modal(
        ViewId.EDIT_DRAFT,
        CardForm(action_id=a.id, version=a.version),
        title="Edit reminder",
        submit="Save draft",
        blocks=[
            {"type": "context", "elements": [{"type": "mrkdwn", "text": note}]},
            text_input(FieldId.SUBJECT, "Subject", initial=p["subject"], max_length=200),
            text_input(
                FieldId.BODY, "Body", multiline=True, initial=p["body"][:3000], max_length=3000
            ),
        ],
    )


def reject_modal(a: ActionInfo) -> dict[str, Any]:
    return modal(
        ViewId.REJECT,
        CardForm(action_id=a.id),
        title="Reject",
        submit="Reject",
        blocks=[
            text_input(FieldId.REASON, "Why is this rejected?", multiline=True, max_length=2000)
        ],
    )
