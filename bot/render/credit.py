"""Who is over (or heading to) their credit limit: the answer to the question."""

from __future__ import annotations

from bot.blocks.common import Rendered
from bot.blocks.credit import credit_sentence
from bot.blocks.ids import RowsRequest
from bot.intents import Intent
from bot.render.layout import Line, Strong, compose
from tools.credit import TREND_DAYS, CreditReport


def credit_view(r: CreditReport, intent: Intent | None = None) -> Rendered:
    summary: Line = (
        Strong(f"{r.over_count} account(s) over their credit limit"),
        f", {r.trending_count} heading to it within {TREND_DAYS} days"
        f" (of {r.with_limit_count} with a limit).",
    )
    items = [(Strong(p.name), f": {credit_sentence(p)}") for p in r.positions]
    return compose(
        title=f"Credit limits as of {r.as_of}",
        lines=[summary],
        items=items,
        total=r.over_count + r.trending_count,
        note=("Exposure is open AR in the customer's currency; no open orders are recorded.",),
        rows=RowsRequest(kind="open_invoices", as_of=r.as_of),
    )
