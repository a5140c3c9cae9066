"""Why DSO moved: the move, its split into terms and lateness, and who moved it."""

from __future__ import annotations

from bot.blocks.common import Rendered
from bot.blocks.ids import RowsRequest
from bot.intents import Intent
from bot.render.layout import Line, Strong, compose
from tools.dso_change import DsoChange
from tools.format import format_day_change, format_figure
from tools.money import format_money


def dso_change_lines(c: DsoChange) -> list[Line]:
    """The move and its split; shared by the answer and the digest."""
    shown = c.shown()
    if shown is None:
        return [("DSO change: n/a (no credit sales in one of the windows)",)]
    move, terms, lateness = shown
    way = "up" if move > 0 else "down" if move < 0 else "flat"
    return [
        (
            Strong(f"DSO {way} {format_day_change(abs(move)).lstrip('+')}"),
            f": {format_figure('dso', c.dso_before)} on {c.since} → "
            f"{format_figure('dso', c.dso_after)} on {c.as_of}",
        ),
        (
            f"Terms (best possible DSO) {format_day_change(terms)} · "
            f"lateness (average days delinquent) {format_day_change(lateness)}",
        ),
    ]


def dso_change_view(c: DsoChange, intent: Intent | None = None) -> Rendered:
    cur = c.currency
    items: list[Line] = [
        (
            Strong(m.name),
            f": {format_day_change(m.change)} (AR {format_money(m.ar_before_minor, cur)} → "
            f"{format_money(m.ar_after_minor, cur)})",
        )
        for m in c.movers
    ]
    segments = " · ".join(f"{name} {format_day_change(v)}" for name, v in c.by_segment.items())
    lines = dso_change_lines(c)
    if segments:
        lines.append((f"By segment: {segments}",))
    if items:
        lines.append(("Customers who moved it most:",))
    return compose(
        title=f"Why DSO moved, {c.since} to {c.as_of}",
        lines=lines,
        items=items,
        note=(
            f"{c.period_days}-day window · a customer's part of DSO is its AR over the "
            f"company's credit sales x {c.period_days}; the lines add up to the move",
        ),
        rows=RowsRequest(kind="open_invoices", as_of=c.as_of),
    )
