"""Cash application as people read it: the match list (CLI and Slack text)."""

from __future__ import annotations

from tools.cash_suggest import CashMatch, TxnOut


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
