"""At-risk and dispute alerts, their buttons and modals, as pure functions of plain data.

An at-risk alert shows the reasons, not only the score, and offers what a collector does
next: draft a reminder (an approval card, never an email), record a promise to pay (pauses
dunning until that date), mark an invoice disputed (stops dunning), or snooze the account's
alerts. Button values carry only ids; everything else is read again at click time.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.blocks.common import (
    context,
    cut_lines,
    escape,
    field,
    fit,
    header,
    modal,
    plain,
    plain_text,
    sections,
    text_input,
)
from bot.blocks.ids import ActionId, AlertForm, AlertRef, FieldId, ViewId
from bot.blocks.money import converted_text, over_text, risk_money_text
from tools.buckets import over_label
from tools.customers import OpenInvoiceLine
from tools.format import plural
from tools.money import format_money
from tools.risk_money import ScoreInMoney
from tools.watch import DisputeAlert, InvoiceChoices

MAX_OPTIONS = 100


def _mention(user: str | None) -> str:
    return f" · owner <@{user}>" if user else ""


def _buttons(ref: AlertRef, *, collect: bool) -> ActionsBlock:
    value = ref.model_dump_json()
    items = []
    if collect:
        items += [
            ButtonElement(text="Draft reminder", action_id=ActionId.ALERT_DRAFT, value=value),
            ButtonElement(
                text="Record promise to pay", action_id=ActionId.ALERT_PROMISE, value=value
            ),
            ButtonElement(text="Mark disputed", action_id=ActionId.ALERT_DISPUTE, value=value),
        ]
    items.append(ButtonElement(text="Snooze 7 days", action_id=ActionId.ALERT_SNOOZE, value=value))
    return ActionsBlock(block_id=f"arbot_alert_{ref.customer_id}", elements=items)


def risk_alert_text(s: ScoreInMoney) -> str:
    return plain(f"{s.name} entered high risk: {risk_money_text(s)}")


def risk_alert_blocks(s: ScoreInMoney, as_of: date) -> list[Block]:
    reasons = [f"• {escape(r)}" for r in s.reasons]
    over = over_text(s)
    return fit(
        [
            header(f"At risk: {s.name}"),
            *sections(
                [
                    f"*{escape(s.name)}* ({escape(s.customer_id)}) entered *high risk*: "
                    f"{risk_money_text(s)}; {over} is {over_label(s.over_days)}.",
                    "*Why*",
                    *reasons,
                ]
            ),
            _buttons(AlertRef(customer_id=s.customer_pk), collect=True),
            context(f"as of end of {as_of}{_mention(s.owner_slack_id)}"),
        ]
    )


def risk_list_text(scores: list[ScoreInMoney]) -> str:
    return plain(f"{plural(len(scores), 'more account')} entered high risk")


def risk_list_blocks(scores: list[ScoreInMoney], as_of: date) -> list[Block]:
    lines = [
        f"• *{escape(s.name)}*: {risk_money_text(s)}: {escape('; '.join(s.reasons))}"
        for s in scores
    ]
    shown, _more = cut_lines(lines, len(lines), rest="ask `at-risk accounts` for the full list")
    return fit(
        [
            header(f"{plural(len(scores), 'more account')} entered high risk"),
            *sections(shown),
            context(f"as of end of {as_of} · ask `at-risk accounts` for the full list"),
        ]
    )


def _dispute_amount(a: DisputeAlert) -> str:
    return converted_text(
        a.amount_reporting_minor, a.reporting_currency, {a.currency: a.amount_minor}
    )


def _dispute_line(a: DisputeAlert) -> str:
    inv = f" on {escape(a.invoice_number)}" if a.invoice_number else ""
    return (
        f"*{escape(a.customer_name)}*{inv}: {_dispute_amount(a)} "
        f"{a.kind}, opened {a.opened_at:%Y-%m-%d %H:%M} UTC"
    )


def dispute_alert_text(a: DisputeAlert) -> str:
    return plain(f"New dispute: {a.customer_name}, {_dispute_amount(a)}")


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
    n = len(alerts)
    return plain(f"{plural(n, 'open dispute')} {'needs' if n == 1 else 'need'} attention today")


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


def _option_label(line: OpenInvoiceLine) -> str:
    number = line.number or line.external_id
    return f"{number} · {format_money(line.open_minor, line.currency)} due {line.due_on}"


def _invoice_select(choices: InvoiceChoices, selected: int | None) -> dict[str, Any]:
    options = [
        {"text": plain_text(_option_label(line)[:75]), "value": str(line.invoice_id)}
        for line in choices.invoices[:MAX_OPTIONS]
    ]
    element: dict[str, Any] = {"type": "static_select", "options": options}
    chosen = next(
        (o for o in options if o["value"] == str(selected)), options[0] if options else None
    )
    if chosen is not None:
        element["initial_option"] = chosen
    return field(FieldId.INVOICE, "Invoice", element)


def _intro(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def promise_modal(form: AlertForm, choices: InvoiceChoices) -> dict[str, Any]:
    """Which invoice, by when and how much a customer promised to pay (today by default)."""
    return modal(
        ViewId.PROMISE,
        form,
        title="Promise to pay",
        submit="Record",
        blocks=[
            _intro(
                f"*{escape(choices.customer_name)}* promised to pay. Reminders for the "
                "invoice pause until that date."
            ),
            _invoice_select(choices, form.invoice_id),
            field(
                FieldId.PROMISED_ON,
                "Will pay by",
                {"type": "datepicker", "initial_date": choices.as_of.isoformat()},
            ),
            text_input(FieldId.AMOUNT, "Amount (empty: the whole invoice)", optional=True),
        ],
    )


def dispute_modal(form: AlertForm, choices: InvoiceChoices) -> dict[str, Any]:
    """Which invoice a customer disputes, and what they dispute."""
    return modal(
        ViewId.DISPUTE,
        form,
        title="Mark disputed",
        submit="Mark disputed",
        blocks=[
            _intro(
                f"*{escape(choices.customer_name)}* disputes an invoice. It will not be "
                "dunned while the dispute is open."
            ),
            _invoice_select(choices, form.invoice_id),
            text_input(
                FieldId.REASON,
                "What does the customer dispute?",
                multiline=True,
                max_length=2000,
            ),
        ],
    )
