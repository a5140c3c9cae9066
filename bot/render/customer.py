"""A customer's balance and open invoices, or "which customer?" when the name was unclear."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, ButtonElement

from bot.blocks.common import Rendered
from bot.blocks.ids import ActionId, PickCustomer, RowsRequest
from bot.intents import Intent
from bot.render.layout import Line, Strong, compose
from tools.buckets import BUCKETS
from tools.customer_lookup import MAX_CANDIDATES, CustomerMatch
from tools.customers import CustomerBalance, InvoiceLine
from tools.format import format_lateness, plural
from tools.money import format_money


def invoice_line(inv: InvoiceLine) -> Line:
    late = format_lateness(inv.days_past_due)
    return (
        "• ",
        Strong(inv.number or inv.external_id),
        f": {format_money(inv.open_minor, inv.currency)} open of "
        f"{format_money(inv.total_minor, inv.currency)}, due {inv.due_on} ({late})",
    )


def customer_view(c: CustomerBalance, intent: Intent | None = None) -> Rendered:
    lines: list[Line] = [
        (
            Strong(c.name),
            " owes ",
            Strong(format_money(c.balance_minor, c.currency)),
            f" as of {c.as_of}: {format_money(c.past_due_minor, c.currency)} past due, "
            f"{plural(c.invoice_count, 'open invoice')}.",
        )
    ]
    if set(c.balance_by_currency) - {c.currency}:
        by_currency = (format_money(v, cur) for cur, v in sorted(c.balance_by_currency.items()))
        lines.append(("By currency: " + ", ".join(by_currency),))
    aging = " · ".join(f"{b} {format_money(c.aging_minor[b], c.currency)}" for b in BUCKETS)
    return compose(
        title=f"{c.name} · balance",
        lines=lines,
        items=[invoice_line(inv) for inv in c.invoices],
        total=c.invoice_count,
        note=(f"Aging: {aging}",),
        rows=RowsRequest(kind="customer_invoices", as_of=c.as_of, customer_id=c.customer_id),
    )


def customer_match_text(match: CustomerMatch) -> str:
    if match.status == "none":
        return (
            f"I found no customer matching “{match.query}”. "
            "Check the spelling or try the customer id."
        )
    names = ", ".join(c.name for c in match.candidates)
    return f"Several customers match “{match.query}”: {names}. Which one do you mean?"


def customer_match_view(match: CustomerMatch, intent: Intent | None = None) -> Rendered:
    """No customer, or several: say so, with one button per close candidate."""
    buttons = [
        ButtonElement(
            text=c.name[:75],
            action_id=f"{ActionId.PICK_CUSTOMER.value}:{c.customer_id}",
            value=PickCustomer(
                customer_id=c.customer_id, as_of=intent.as_of if intent else None
            ).model_dump_json(),
        )
        for c in match.candidates[:MAX_CANDIDATES]
    ]
    ambiguous = match.status == "ambiguous"
    extra = [ActionsBlock(block_id="arbot_pick_customer", elements=buttons)] if ambiguous else []
    return compose(title=None, lines=[(customer_match_text(match),)], extra=extra)
