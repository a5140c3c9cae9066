"""A reconciliation as a Slack message: pure functions of `tools.reconcile.Reconciliation`.

The message gives AR per source side by side and either "in balance" or the count of each
kind of difference with the first few listed; every difference, one row per source, goes in
the CSV in the thread (`reconcile_csv`).
"""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot.blocks.common import (
    MAX_LINES,
    Rendered,
    context,
    cut_lines,
    escape,
    fit,
    header,
    plain,
    rows_button,
    sections,
)
from bot.blocks.ids import RowsRequest
from tools.csv_export import csv_bytes
from tools.money import format_money
from tools.reconcile import Reconciliation

LABEL = {
    "missing": "missing on one side",
    "amount_differs": "amount differs",
    "status_differs": "status differs",
    "bank_not_in_books": "bank receipt not in the books",
}


def _ar_line(r: Reconciliation, bold: str = "*") -> str:
    return "   ".join(
        f"{bold}AR in {escape(s)}{bold} {format_money(r.ar_minor[s], r.currency)}"
        for s in r.sources
    )


def _difference_line(r: Reconciliation, i: int, bold: str = "*") -> str:
    d = r.differences[i]
    sides = "; ".join(
        f"{escape(s)}: missing"
        if side is None
        else f"{escape(s)}: {side.status.replace('_', ' ')}, "
        f"{format_money(side.open_minor, r.currency)} open of "
        f"{format_money(side.total_minor, r.currency)}"
        for s, side in d.sides.items()
    )
    return f"• {bold}{escape(d.number)}{bold} {LABEL[d.kind]}: {sides}"


def summary_text(r: Reconciliation) -> str:
    names = " and ".join(r.sources)
    if r.in_balance:
        return plain(f"{names} are in balance as of {r.as_of} ({r.currency})")
    counts = ", ".join(f"{n} {LABEL[k]}" for k, n in r.totals.items() if n)
    return plain(f"{names} differ as of {r.as_of}: {counts}")


def reconcile_message(r: Reconciliation, rows: RowsRequest | None = None) -> Rendered:
    """`rows`: offer every difference as a CSV with a button (an answer to a question); the
    weekly job uploads the CSV itself."""
    blocks: list[Block] = [header(f"Reconciliation as of {r.as_of}"), *sections([_ar_line(r)])]
    if r.in_balance:
        blocks += sections([":white_check_mark: In balance: every invoice agrees."])
    else:
        counts = ", ".join(f"{n} {LABEL[k]}" for k, n in r.totals.items() if n)
        lines = [_difference_line(r, i) for i in range(len(r.differences))]
        shown, _ = cut_lines(lines, len(lines))
        blocks += sections([f":warning: *Differences:* {counts}", *shown])
        if rows is None:
            blocks.append(context("Every difference, one row per source, is in the CSV below."))
        else:
            blocks.append(rows_button(rows, "Show differences"))
    listed = [_difference_line(r, i, bold="") for i in range(min(len(r.differences), MAX_LINES))]
    more = len(r.differences) - len(listed)
    text = [summary_text(r), _ar_line(r, bold=""), *listed]
    if more:
        text.append(f"… and {more} more")
    return Rendered(blocks=fit(blocks), text=plain("\n".join(text)))


def reconcile_csv(r: Reconciliation) -> bytes:
    return csv_bytes(r.csv_rows())
