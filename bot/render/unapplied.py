"""Cash received but not applied to an invoice (reported beside AR, never netted)."""

from __future__ import annotations

from bot.blocks.common import Rendered
from bot.blocks.ids import RowsRequest
from bot.intents import Intent
from bot.render.layout import Strong, compose
from tools.cash import UnappliedCash
from tools.format import plural
from tools.money import format_money


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
    return compose(
        title=f"Unapplied cash as of {u.as_of}",
        lines=[summary],
        items=items,
        total=u.count,
        rows=RowsRequest(kind="unapplied", as_of=u.as_of) if u.count else None,
        rows_label="Show payments",
    )
