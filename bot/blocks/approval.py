"""The approval card and its modals, as pure functions of an action snapshot.

The card says what will happen (recipient, subject, body; or invoice, amount, reason and
effect) and, while the action is proposed, offers Approve / Edit / Reject. Button values
carry only the action id: everything else is read from the database at click time. Once
decided, the same card is redrawn in place with who decided and the outcome.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.blocks.common import context, escape, header, modal, sections, text_input
from bot.blocks.ids import ActionId, CardForm, FieldId, ViewId
from tools.actions import ActionInfo
from tools.money import format_money

BODY_PREVIEW = 2600


def _who(user: str | None) -> str:
    return f"<@{user}>" if user else "arbot"


def _ratio(value: str | None, unit: str) -> str:
    return "n/a" if value is None else f"{value}{unit}"


def title(a: ActionInfo) -> str:
    p = a.payload
    if a.kind == "write_off":
        inv = p["invoice"]
        return f"Write-off: {inv['label']} ({format_money(inv['open_minor'], inv['currency'])})"
    return f"Reminder to {p['customer_name']} ({p['tone']})"


def status_line(a: ActionInfo) -> str:
    """One line on where the action stands, for the card's footer and its fallback text."""
    if a.status == "proposed":
        so_far = ", ".join(_who(u) for u in a.approved_by)
        if a.approvals_needed > 1:
            progress = f"{len(a.approved_by)} of {a.approvals_needed} approvals"
            return f":hourglass: Waiting for approval ({progress}{': ' + so_far if so_far else ''})"
        return ":hourglass: Waiting for approval"
    approvers = ", ".join(_who(u) for u in a.approved_by) or _who(a.decided_by)
    if a.status == "approved":
        retry = f" (retrying: {escape(a.last_error)})" if a.last_error else ""
        return f":white_check_mark: Approved by {approvers}; queued{retry}"
    if a.status == "executing":
        return f":white_check_mark: Approved by {approvers}; executing now"
    if a.status == "done":
        if a.kind == "write_off":
            return f":white_check_mark: Approved by {approvers}; written off"
        return f":white_check_mark: Approved by {approvers}; sent to {a.payload['recipient']}"
    if a.status == "rejected":
        return f":x: Rejected by {_who(a.decided_by)}: {escape(a.decision_note or '')}"
    if a.status == "expired":
        return ":zzz: Expired: nobody decided in time"
    if a.status == "cancelled":
        return f":no_entry_sign: {escape(a.decision_note or 'Cancelled')}"
    if a.status == "failed":
        return f":warning: Approved by {approvers}, but it failed: {escape(a.last_error or '')}"
    return a.status


def _dunning_blocks(a: ActionInfo) -> list[Block]:
    p = a.payload
    body = p["body"]
    if len(body) > BODY_PREVIEW:
        body = body[:BODY_PREVIEW] + f"\n… ({len(p['body']) - BODY_PREVIEW} more characters)"
    lines = [
        f"*To:* {escape(p['recipient'])} (AP contact on record)",
        f"*Subject:* {escape(p['subject'])}",
    ]
    out: list[Block] = [*sections(["\n".join(lines)]), *sections(["```" + escape(body) + "```"])]
    notes = []
    if p.get("excluded"):
        notes.append("Left out: " + escape("; ".join(p["excluded"])))
    if p.get("drafted_by") == "edited":
        notes.append("Edited by " + ", ".join(_who(u) for u in p.get("edited_by", [])))
    if notes:
        out.append(context(" · ".join(notes)))
    return out


def _write_off_blocks(a: ActionInfo) -> list[Block]:
    p = a.payload
    inv, e = p["invoice"], p["effect"]
    cur = e["currency"]
    lines = [
        f"*Customer:* {escape(p['customer_name'])}",
        f"*Invoice:* {escape(inv['label'])} (due {inv['due_on']}, {inv['source']})",
        f"*Amount:* {format_money(inv['open_minor'], inv['currency'])}",
        f"*Reason:* {escape(p['reason'])}",
    ]
    effect = [
        "*Effect*",
        f"• Allowance used: {format_money(e['allowance_used_minor'], cur)} of "
        f"{format_money(e['allowance_before_minor'], cur)}"
        + (
            f" (exceeds it by {format_money(e['allowance_shortfall_minor'], cur)})"
            if e["allowance_shortfall_minor"]
            else ""
        ),
        f"• Bad debt: {_ratio(e['bad_debt_pct_before'], '%')} → "
        f"{_ratio(e['bad_debt_pct_after'], '%')}",
        f"• DSO: {_ratio(e['dso_before'], ' days')} → {_ratio(e['dso_after'], ' days')}",
    ]
    if a.approvals_needed > 1:
        effect.append(f"• Needs {a.approvals_needed} different approvers (at or above threshold)")
    return [*sections(["\n".join(lines)]), *sections(["\n".join(effect)])]


def approval_blocks(a: ActionInfo) -> list[Block]:
    blocks: list[Block] = [header(title(a))]
    blocks += _write_off_blocks(a) if a.kind == "write_off" else _dunning_blocks(a)
    blocks.append(
        context(f"Proposed by {_who(a.proposed_by)} · action #{a.id} · " + status_line(a))
    )
    if a.status == "proposed":
        value = str(a.id)
        buttons = [
            ButtonElement(
                text="Approve", action_id=ActionId.APPROVE, value=value, style="primary"
            )
        ]
        if a.kind == "dunning_email":
            buttons.append(ButtonElement(text="Edit", action_id=ActionId.EDIT, value=value))
        buttons.append(
            ButtonElement(text="Reject", action_id=ActionId.REJECT, value=value, style="danger")
        )
        blocks.append(ActionsBlock(block_id=f"approval_{a.id}", elements=buttons))
    return blocks


def approval_text(a: ActionInfo) -> str:
    """Notification / fallback text of the card."""
    return f"{title(a)}: {status_line(a)}"


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
