"""The approval card's controls: its buttons and its modals, as pure functions of an action.

Button values carry the action id and the version of the draft the card shows (`CardRef`):
everything else is read from the database at click time. The card's lines are
`bot.render.proposal`'s.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import ActionsBlock, ButtonElement

from bot.blocks.common import escape, modal, text_input
from bot.blocks.ids import ActionId, CardForm, CardRef, FieldId, ViewId
from tools.action_model import RECORD_KINDS
from tools.actions import ActionInfo
from tools.dunning import MAX_BODY, MAX_SUBJECT

# Slack's longest plain_text_input
MAX_INPUT = 3000


def approval_buttons(a: ActionInfo) -> ActionsBlock | None:
    """Approve / Edit (reminders only) / Reject while the action is proposed; Confirm /
    Discard for a promise or dispute note the assistant proposed; else none."""
    if a.status != "proposed":
        return None
    value = CardRef(action_id=a.id, version=a.shown_version).model_dump_json()
    if a.kind in RECORD_KINDS:
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
        f"open amount, in at most {MAX_BODY:,} characters, with no link but the invoice's own "
        "payment page; it will need approval again."
    )
    # A draft stored longer than the limit opens as it is (up to what Slack's input holds), so
    # the refusal on saving says why rather than the field silently holding less.
    body_limit = min(MAX_INPUT, max(MAX_BODY, len(p["body"])))
    return modal(
        ViewId.EDIT_DRAFT,
        CardForm(action_id=a.id, version=a.version),
        title="Edit reminder",
        submit="Save draft",
        blocks=[
            {"type": "context", "elements": [{"type": "mrkdwn", "text": note}]},
            text_input(FieldId.SUBJECT, "Subject", initial=p["subject"], max_length=MAX_SUBJECT),
            text_input(
                FieldId.BODY,
                "Body",
                multiline=True,
                initial=p["body"][:body_limit],
                max_length=body_limit,
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
