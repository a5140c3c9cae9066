"""Who is late (more than N days past due), or who owes the most: the top accounts."""

from __future__ import annotations

from bot.blocks.common import Rendered
from bot.blocks.ids import RowsRequest
from bot.intents import Intent
from bot.render.layout import Strong, compose
from tools.buckets import over_label
from tools.format import plural
from tools.money import format_money
from tools.overdue import TopOverdue


def overdue_view(t: TopOverdue, intent: Intent | None = None) -> Rendered:
    title = (
        f"Top overdue accounts as of {t.as_of}"
        if t.more_than_days is not None
        else f"Largest balances as of {t.as_of}"
    )
    if t.segment is not None:
        title = title.replace(" as of", f" in {t.segment} as of", 1)
    summary = (
        Strong(format_money(t.total_overdue_minor, t.currency)),
        f" {over_label(t.more_than_days)} across {plural(t.account_count, 'account')}"
        + (f" in the {t.segment} segment." if t.segment else "."),
    )
    items = [
        (
            f"{i}. ",
            Strong(a.name),
            f": {format_money(a.overdue_minor, t.currency)} · oldest "
            f"{plural(a.oldest_days_past_due, 'day')} past due · "
            f"{plural(a.invoice_count, 'invoice')}",
        )
        for i, a in enumerate(t.accounts, 1)
    ]
    return compose(
        title=title,
        lines=[summary],
        items=items,
        total=t.account_count,
        rows=RowsRequest(kind="overdue_invoices", as_of=t.as_of, more_than_days=t.more_than_days),
    )
