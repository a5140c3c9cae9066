"""A cash forecast answer: the 30/60/90-day totals, the weeks, and what moved them."""

from __future__ import annotations

from bot.blocks.common import Rendered
from bot.blocks.ids import RowsRequest
from bot.intents import Intent
from bot.render.layout import Strong, compose
from tools.forecast import CashForecast
from tools.money import format_money


def forecast_view(f: CashForecast, intent: Intent | None = None) -> Rendered:
    cur = f.currency
    totals = [
        (Strong(f"Next {n} days:"), f" {format_money(v, cur)}") for n, v in f.totals_minor.items()
    ]
    weeks = [(f"Week of {w.week_start}: ", format_money(w.expected_minor, cur)) for w in f.weeks]
    return compose(
        title=f"Cash forecast from {f.as_of} ({cur})",
        lines=[*totals, (f"Open AR today: {format_money(f.open_ar_minor, cur)}",)],
        items=weeks,
        note=(
            "From each customer's history of paying (else its segment's, else its terms) · "
            f"promised {format_money(f.promised_minor, cur)} on its dates · under dispute "
            f"{format_money(f.disputed_minor, cur)}, lowered by disputes won · last card "
            f"payment failed {format_money(f.failed_card_minor, cur)}, weighted by recovery",
        ),
        rows=RowsRequest(kind="open_invoices", as_of=f.as_of),
        chart=True,
    )
