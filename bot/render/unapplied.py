"""Cash received but not applied to an invoice (reported beside AR, never netted)."""

from __future__ import annotations

from bot.blocks.common import Rendered
from bot.blocks.ids import RowsRequest
from bot.intents import Intent
from bot.render.cash import receipt_item
from bot.render.layout import Line, Strong, compose
from tools.cash import UnappliedCash
from tools.format import plural
from tools.money import format_money

MAX_RECEIPTS = 10


def unapplied_view(u: UnappliedCash, intent: Intent | None = None) -> Rendered:
    summary = (
        Strong(format_money(u.total_minor, u.currency)),
        f" in {plural(u.count, 'payment')} not applied to an invoice.",
    )
    items = [
        (
            "• ",
            Strong(p.customer_name),
            f": {format_money(p.amount_minor, p.currency)} received {p.paid_at.date()} "
            f"({p.method or 'unknown method'})",
        )
        for p in u.payments
    ]
    waiting: list[Line] = []
    if u.receipts:
        waiting = [
            (f"{len(u.receipts)} bank receipt(s) not applied yet, with the best suggestion:",),
            *(receipt_item(r) for r in u.receipts[:MAX_RECEIPTS]),
        ]
        if len(u.receipts) > MAX_RECEIPTS:
            waiting.append((f"… and {len(u.receipts) - MAX_RECEIPTS} more (`arbot cash match`)",))
    return compose(
        title=f"Unapplied cash as of {u.as_of}",
        lines=[summary, *waiting],
        items=items,
        total=u.count,
        rows=RowsRequest(kind="unapplied", as_of=u.as_of) if u.count else None,
        rows_label="Show payments",
    )
