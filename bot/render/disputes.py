"""Open disputes and chargebacks, oldest first, with the customer's reason shown as data."""

from __future__ import annotations

from bot.blocks.common import Rendered
from bot.blocks.ids import RowsRequest
from bot.intents import Intent
from bot.render.layout import Line, Strong, compose
from tools.disputes import DisputeLine, OpenDisputes
from tools.format import converted_text, plural
from tools.money import format_money

REASON_CHARS = 200


def _dispute(x: DisputeLine, currency: str) -> Line:
    on = f" on {x.invoice_number}" if x.invoice_number else ""
    reason = f" · “{x.reason[:REASON_CHARS]}”" if x.reason else ""
    return (
        "• ",
        Strong(x.customer_name),
        f"{on}: {converted_text(x.amount_reporting_minor, currency, {x.currency: x.amount_minor})} "
        f"{x.kind}, open {plural(x.age_days, 'day')}",
        reason,
    )


def disputes_view(d: OpenDisputes, intent: Intent | None = None) -> Rendered:
    summary = (
        Strong(str(d.count)),
        " open dispute, " if d.count == 1 else " open disputes, ",
        Strong(format_money(d.total_minor, d.currency)),
        " in total.",
    )
    return compose(
        title=f"Open disputes as of {d.as_of}",
        lines=[summary],
        items=[_dispute(x, d.currency) for x in d.disputes],
        total=d.count,
        rows=RowsRequest(kind="disputes", as_of=d.as_of) if d.count else None,
        rows_label="Show disputes",
    )
