"""Cash application cards: one message per statement chunk, a section and buttons per line.

A line left unapplied keeps a "Suggest again" button that brings its suggestion and buttons
back. A statement of 200 lines is a few messages, not 200: MAX_LINES_PER_CARD lines each (Slack
allows 50 blocks; a line takes two). Buttons carry the bank line's id in their value (Apply also
the key of the suggestion shown, so a click applies what the card showed); every
other fact is read again at click time. Payer names and references come from the bank, so
they are escaped.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, SectionBlock

from bot.blocks.common import MAX_SECTION_CHARS, context, escape, field, header, modal, text_input
from bot.blocks.ids import ActionId, CashForm, FieldId, ViewId
from tools.cash_lines import OpenChoice, ShownBooks, ShownLine
from tools.money import format_money

MAX_LINES_PER_CARD = 20


def line_text(line: ShownLine) -> str:
    head = (
        f"*{format_money(line.amount_minor, line.currency)}* from "
        f"{escape(line.payer_name) or '_unknown payer_'} on {line.booked_on}"
    )
    shown_ref = escape(line.reference.replace("`", "'"))
    ref = f"\nReference: `{shown_ref}`" if line.reference else ""
    if line.status == "applied":
        who = "the auto-apply rule" if line.applied_how == "auto" else _who(line.decided_by)
        customer = f" to {escape(line.customer)}" if line.customer else ""
        books = "".join(f"\n{books_text(b)}" for b in line.books)
        return f"{head}{ref}\n:white_check_mark: Applied{customer} by {who}.{books}"
    if line.status == "left":
        return f"{head}{ref}\nLeft unapplied by {_who(line.decided_by)}."
    if line.customer is None:
        return f"{head}{ref}\nNo suggestion: nothing points to a customer."
    to = ", ".join(
        f"{escape(a.invoice)} {format_money(a.amount_minor, line.allocation_currency)}"
        for a in line.allocations
    )
    rest = (
        f"; {format_money(line.unapplied_minor, line.allocation_currency)} unapplied"
        if line.unapplied_minor
        else ""
    )
    return (
        f"{head}{ref}\nSuggested: *{escape(line.customer)}*: {to or 'unapplied cash'}{rest} "
        f"(confidence {line.confidence:.2f})\n_{escape('; '.join(line.reasons))}_"
    )


def books_text(b: ShownBooks) -> str:
    """Where recording the applied money in the books stands."""
    if b.status == "done":
        said = b.note or f"recorded in {b.books}"
        return f":ledger: {escape(said[:1].upper() + said[1:])}."
    if b.status == "cancelled":
        return f":heavy_minus_sign: Not recorded in {b.books}: {escape(b.note or 'cancelled')}"
    if b.status == "failed":
        return f":warning: Not recorded in {b.books}: {escape(b.error or 'failed')}"
    if b.error:
        return f":hourglass: Recording in {b.books}, retrying: {escape(b.error)}"
    return f":hourglass: Being recorded in {b.books}."


def _who(user: str | None) -> str:
    if user and user[:1] in "UW" and user.isalnum():
        return f"<@{user}>"
    return escape(user or "someone")


def line_blocks(line: ShownLine) -> list[Block]:
    blocks: list[Block] = [SectionBlock(text=line_text(line)[:MAX_SECTION_CHARS])]
    value = str(line.txn_id)
    if line.status == "left":
        # Leaving is not final: the money is still unapplied cash.
        again = ButtonElement(
            text="Suggest again", action_id=f"{ActionId.CASH_REOPEN}:{value}", value=value
        )
        blocks.append(ActionsBlock(block_id=f"cash_{value}", elements=[again]))
    if line.status != "unapplied":
        return blocks
    buttons = []
    if line.allocations or line.customer is not None:
        buttons.append(
            ButtonElement(
                text="Apply",
                action_id=f"{ActionId.CASH_APPLY}:{value}",
                value=f"{value}:{line.suggestion_key}",
                style="primary",
            )
        )
    buttons.append(
        ButtonElement(
            text="Choose invoices", action_id=f"{ActionId.CASH_CHOOSE}:{value}", value=value
        )
    )
    buttons.append(
        ButtonElement(
            text="Leave unapplied", action_id=f"{ActionId.CASH_LEAVE}:{value}", value=value
        )
    )
    blocks.append(ActionsBlock(block_id=f"cash_{value}", elements=buttons))
    return blocks


def statement_card(statement: str, lines: list[ShownLine]) -> tuple[list[Block], str]:
    """(blocks, notification text) of one message."""
    open_count = sum(1 for ln in lines if ln.status == "unapplied")
    blocks: list[Block] = [
        header(f"Bank credits to apply: {statement}"),
        context(f"{len(lines)} line(s), {open_count} waiting for a decision."),
    ]
    for line in lines:
        blocks.extend(line_blocks(line))
    return blocks, f"Bank credits to apply from {statement}: {open_count} waiting"


def choose_modal(txn_id: int, customer: str | None, choices: list[OpenChoice]) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = []
    if choices:
        blocks.append(
            field(
                FieldId.INVOICES,
                f"Open invoices of {customer}"[:150],
                {
                    "type": "multi_static_select",
                    "options": [
                        {
                            "text": {"type": "plain_text", "text": c.label[:75]},
                            "value": str(c.invoice_id),
                        }
                        for c in choices
                    ],
                },
                optional=True,
            )
        )
    blocks.append(
        text_input(
            FieldId.AMOUNT,
            "Or invoices by number, with an amount for part (INV-1, INV-2=500)",
            optional=bool(choices),
            max_length=500,
        )
    )
    return modal(
        ViewId.CASH_CHOOSE,
        CashForm(txn_id=txn_id),
        title="Choose invoices",
        submit="Apply",
        blocks=blocks,
    )
