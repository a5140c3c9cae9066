"""Cash application as people read it: the match list (CLI), bank receipts waiting to be
applied with their best suggestion, and a search for one receipt."""

from __future__ import annotations

from bot.blocks.common import Rendered
from bot.intents import Intent
from bot.render.layout import Line, Strong, compose
from tools.cash_lines import ReceiptSearch, ShownLine
from tools.cash_suggest import CashMatch, TxnOut
from tools.cash_week import CashWeek
from tools.money import format_money


def txn_line(t: TxnOut) -> str:
    head = f"{t.booked_on} {t.currency} {t.amount} from {t.payer_name or 'unknown payer'}"
    ref = f" ({t.reference})" if t.reference else ""
    if t.suggestion is None:
        return f"{head}{ref}: {t.status}"
    s = t.suggestion
    to = ", ".join(f"{a.invoice_id} {a.amount}" for a in s.allocations) or "unapplied cash"
    return (
        f"{head}{ref}: {t.status}, customer {s.customer_id} -> {to} "
        f"(confidence {s.confidence:.2f}: {'; '.join(s.reasons)})"
    )


def match_text(m: CashMatch) -> str:
    if not m.transactions:
        return f"No bank credits booked on or before {m.as_of}."
    return "\n".join([f"Bank credits as of {m.as_of}:", *(txn_line(t) for t in m.transactions)])


def receipt_item(r: ShownLine) -> Line:
    """One bank receipt and its best suggestion, for a list."""
    head = (
        "• ",
        Strong(format_money(r.amount_minor, r.currency)),
        f" from {r.payer_name or 'unknown payer'} on {r.booked_on}",
        f" (ref {r.reference})" if r.reference else "",
    )
    if r.status == "left":
        return (*head, ": left unapplied by a person")
    if r.customer is None:
        return (*head, ": no suggestion")
    to = ", ".join(
        f"{a.invoice} {format_money(a.amount_minor, r.allocation_currency)}" for a in r.allocations
    )
    return (
        *head,
        ": best suggestion ",
        Strong(r.customer),
        f" {to or 'as unapplied cash'} (confidence {r.confidence:.2f})",
    )


def receipts_view(found: ReceiptSearch, intent: Intent | None = None) -> Rendered:
    what = " ".join(p for p in (found.amount, f"from {found.payer}" if found.payer else "") if p)
    if not found.lines:
        return compose(
            title="Bank receipts",
            lines=[(f"No bank receipt waiting to be applied matches {what or 'that'}.",)],
        )
    return compose(
        title=f"Bank receipts matching {what}" if what else "Bank receipts",
        lines=[
            (
                f"{len(found.lines)} receipt(s) waiting. Apply them with the card's buttons in "
                "the approvals channel, or `arbot cash apply --txn ID`.",
            )
        ],
        items=[receipt_item(r) for r in found.lines],
    )


def _sums(by_currency: dict[str, int]) -> str:
    return " + ".join(format_money(v, c) for c, v in sorted(by_currency.items())) or "none"


def cash_week_lines(c: CashWeek | None) -> list[str]:
    """The digest's cash application line; none for a team that imports no bank statements."""
    if c is None or c.empty:
        return []
    return [
        f"*Cash received* {_sums(c.received)} · applied automatically {_sums(c.applied_auto)} · "
        f"by hand {_sums(c.applied_by_hand)} · still unapplied {_sums(c.still_unapplied)}"
    ]
