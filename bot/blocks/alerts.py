"""At-risk and dispute alerts, their buttons and modals, as pure functions of plain data.

An at-risk alert shows the reasons, not only the score, and offers what a collector does
next: draft a reminder (an approval card, never an email), record a promise to pay (pauses
dunning until that date), mark an invoice disputed (stops dunning), or snooze the account's
alerts. Button values carry only ids; everything else is read again at click time.
"""

from __future__ import annotations

import json
from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.blocks.common import context, cut_lines, escape, fit, header, plain, sections
from tools.money import format_money
from tools.risk import RiskScore
from tools.watch import DisputeAlert

MAX_OPTIONS = 100


class AlertId(StrEnum):
    DRAFT = "arbot_alert_draft_reminder"
    PROMISE = "arbot_alert_record_promise"
    DISPUTE = "arbot_alert_mark_disputed"
    SNOOZE = "arbot_alert_snooze"
    PROMISE_MODAL = "arbot_alert_promise_modal"
    DISPUTE_MODAL = "arbot_alert_dispute_modal"
    INVOICE = "invoice"
    DATE = "promised_on"
    AMOUNT = "amount"
    REASON = "reason"


class AlertRef(BaseModel):
    """What a button is about: the customer, and the invoice when there is one."""

    customer_id: int
    invoice_id: int | None = None


def _mention(user: str | None) -> str:
    return f" · owner <@{user}>" if user else ""


def _buttons(ref: AlertRef, *, collect: bool) -> ActionsBlock:
    value = ref.model_dump_json()
    items = []
    if collect:
        items += [
            ButtonElement(text="Draft reminder", action_id=AlertId.DRAFT.value, value=value),
            ButtonElement(
                text="Record promise to pay", action_id=AlertId.PROMISE.value, value=value
            ),
            ButtonElement(text="Mark disputed", action_id=AlertId.DISPUTE.value, value=value),
        ]
    items.append(ButtonElement(text="Snooze 7 days", action_id=AlertId.SNOOZE.value, value=value))
    return ActionsBlock(block_id=f"arbot_alert_{ref.customer_id}", elements=items)


def risk_alert_text(s: RiskScore) -> str:
    return plain(f"{s.name} entered high risk (score {s.score}): {'; '.join(s.reasons)}")


def risk_alert_blocks(s: RiskScore, as_of: date) -> list[Block]:
    reasons = [f"• {escape(r)}" for r in s.reasons]
    return fit(
        [
            header(f"At risk: {s.name}"),
            *sections(
                [
                    f"*{escape(s.name)}* ({escape(s.customer_id)}) entered *high risk*, score "
                    f"{s.score}/100. Balance {format_money(s.balance_minor, s.currency)}, of which "
                    f"{format_money(s.over_60_minor, s.currency)} is 60+ days late.",
                    "*Why*",
                    *reasons,
                ]
            ),
            _buttons(AlertRef(customer_id=s.customer_pk), collect=True),
            context(f"as of end of {as_of}{_mention(s.owner_slack_id)}"),
        ]
    )


def risk_list_text(scores: list[RiskScore]) -> str:
    return plain(f"{len(scores)} more account(s) entered high risk")


def risk_list_blocks(scores: list[RiskScore], as_of: date) -> list[Block]:
    lines = [
        f"• *{escape(s.name)}* score {s.score}, balance "
        f"{format_money(s.balance_minor, s.currency)}: {escape('; '.join(s.reasons))}"
        for s in scores
    ]
    shown, _more = cut_lines(lines, len(lines), rest="ask `at-risk accounts` for the full list")
    return fit(
        [
            header(f"{len(scores)} more accounts entered high risk"),
            *sections(shown),
            context(f"as of end of {as_of} · ask `at-risk accounts` for the full list"),
        ]
    )


def _dispute_line(a: DisputeAlert) -> str:
    inv = f" on {escape(a.invoice_number)}" if a.invoice_number else ""
    return (
        f"*{escape(a.customer_name)}*{inv}: {format_money(a.amount_minor, a.currency)} "
        f"{a.kind}, opened {a.opened_at:%Y-%m-%d %H:%M} UTC"
    )


def dispute_alert_text(a: DisputeAlert) -> str:
    return plain(f"New dispute: {a.customer_name}, {format_money(a.amount_minor, a.currency)}")


def dispute_alert_blocks(a: DisputeAlert) -> list[Block]:
    lines = [_dispute_line(a)]
    if a.reason:
        lines.append(f"Customer's reason: _{escape(a.reason)[:500]}_")
    if a.evidence_due_at is not None:
        lines.append(f"Evidence due {a.evidence_due_at:%Y-%m-%d %H:%M} UTC")
    return fit(
        [
            header(f"New dispute: {a.customer_name}"),
            *sections(lines),
            _buttons(AlertRef(customer_id=a.customer_id, invoice_id=a.invoice_id), collect=False),
            context(f"dispute {escape(a.external_id)}{_mention(a.owner_slack_id)}"),
        ]
    )


def dispute_reminder_text(alerts: list[DisputeAlert]) -> str:
    return plain(f"{len(alerts)} open dispute(s) need attention today")


def dispute_reminder_blocks(alerts: list[DisputeAlert]) -> list[Block]:
    """One daily message listing every dispute that needs a nudge, with why."""
    lines = [
        f"• {_dispute_line(a)} — {escape('; '.join(a.why))}{_mention(a.owner_slack_id)}"
        for a in alerts
    ]
    shown, _more = cut_lines(lines, len(lines), rest="ask `open disputes` for the full list")
    return fit(
        [
            header(f"Disputes needing attention: {len(alerts)}"),
            *sections(shown),
            context(
                "Reminded once a day while a dispute is open past its target or its evidence "
                "is due soon."
            ),
        ]
    )


# --- modals ---------------------------------------------------------------------------------


def _invoice_select(invoices: list[tuple[int, str]], selected: int | None) -> dict[str, Any]:
    options = [
        {"text": {"type": "plain_text", "text": label[:75]}, "value": str(iid)}
        for iid, label in invoices[:MAX_OPTIONS]
    ]
    element: dict[str, Any] = {
        "type": "static_select",
        "action_id": AlertId.INVOICE.value,
        "options": options,
    }
    chosen = next(
        (o for o in options if o["value"] == str(selected)), options[0] if options else None
    )
    if chosen is not None:
        element["initial_option"] = chosen
    return {
        "type": "input",
        "block_id": AlertId.INVOICE.value,
        "label": {"type": "plain_text", "text": "Invoice"},
        "element": element,
    }


def promise_modal(
    ref: AlertRef, customer_name: str, invoices: list[tuple[int, str]], today_: date
) -> dict[str, Any]:
    """Date and amount of a promise to pay; `invoices` are (id, "INV-1 · USD 1,200.00")."""
    return {
        "type": "modal",
        "callback_id": AlertId.PROMISE_MODAL.value,
        "private_metadata": json.dumps(ref.model_dump()),
        "title": {"type": "plain_text", "text": "Promise to pay"},
        "submit": {"type": "plain_text", "text": "Record"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": f"*{escape(customer_name)}* promised to pay. Reminders for the "
                    "invoice pause until that date.",
                },
            },
            _invoice_select(invoices, ref.invoice_id),
            {
                "type": "input",
                "block_id": AlertId.DATE.value,
                "label": {"type": "plain_text", "text": "Will pay by"},
                "element": {
                    "type": "datepicker",
                    "action_id": AlertId.DATE.value,
                    "initial_date": today_.isoformat(),
                },
            },
            {
                "type": "input",
                "block_id": AlertId.AMOUNT.value,
                "optional": True,
                "label": {"type": "plain_text", "text": "Amount (empty: the whole invoice)"},
                "element": {"type": "plain_text_input", "action_id": AlertId.AMOUNT.value},
            },
        ],
    }


def dispute_modal(
    ref: AlertRef, customer_name: str, invoices: list[tuple[int, str]]
) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": AlertId.DISPUTE_MODAL.value,
        "private_metadata": json.dumps(ref.model_dump()),
        "title": {"type": "plain_text", "text": "Mark disputed"},
        "submit": {"type": "plain_text", "text": "Mark disputed"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": f"*{escape(customer_name)}* disputes an invoice. It will not be "
                    "dunned while the dispute is open.",
                },
            },
            _invoice_select(invoices, ref.invoice_id),
            {
                "type": "input",
                "block_id": AlertId.REASON.value,
                "label": {"type": "plain_text", "text": "What does the customer dispute?"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": AlertId.REASON.value,
                    "multiline": True,
                    "max_length": 2000,
                },
            },
        ],
    }
