"""Broken promises to pay: who fell short of what they promised, largest shortfall first."""

from __future__ import annotations

from bot.blocks.common import Rendered
from bot.intents import Intent
from bot.render.layout import Line, Strong, compose
from tools.format import converted_text, plural
from tools.money import format_money
from tools.promise_outcome import BrokenPromise, BrokenPromises


def _promise(x: BrokenPromise, currency: str) -> Line:
    on = f" on {x.invoice_number}" if x.invoice_number else " (whole account)"
    paid = (
        f", {format_money(x.paid_by_then_minor, x.currency)} paid by then"
        if x.paid_by_then_minor
        else ", nothing paid by then"
    )
    short = converted_text(x.short_reporting_minor, currency, {x.currency: x.short_minor})
    return (
        "• ",
        Strong(x.customer_name),
        f"{on}: {format_money(x.promised_minor, x.currency)} promised for {x.promised_on} "
        f"({plural(x.days_late, 'day')} ago){paid}; short {short}",
    )


def promises_view(b: BrokenPromises, intent: Intent | None = None) -> Rendered:
    summary = (
        Strong(str(b.count)),
        " broken promise" if b.count == 1 else " broken promises",
        f" to pay in the {plural(b.days, 'day')} to {b.as_of}, short ",
        Strong(format_money(b.short_total_minor, b.currency)),
        " in total.",
    )
    return compose(
        title=f"Broken promises to pay as of {b.as_of}",
        lines=[summary],
        items=[_promise(x, b.currency) for x in b.promises],
        total=b.count,
        note=("Kept means paid in full by the end of the promised day.",),
    )
