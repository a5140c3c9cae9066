"""AR figures computed straight from the fake's Stripe objects, the way Stripe shows them.

Independent of the ledger: AR is the sum of `amount_remaining` over open invoices (what the
Stripe dashboard calls outstanding), aged by `due_date`; credit sales are finalized invoices
not voided, minus credit notes; and so on, per DESIGN section 4.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from tests.fakes.stripe_api import FakeStripe

BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")


def _bucket(days: int) -> str:
    if days <= 0:
        return "current"
    for limit, name in ((30, "1-30"), (60, "31-60"), (90, "61-90")):
        if days <= limit:
            return name
    return "90+"


def _day(ts: int) -> date:
    return datetime.fromtimestamp(ts, UTC).date()


@dataclass
class Expected:
    ar: int
    aging: dict[str, int]
    credit_sales: int
    written_off: int
    failed_attempt_invoices: int
    recovered_invoices: int


def expected(fake: FakeStripe, as_of: date, period_days: int = 90) -> Expected:
    """Figures at the end of `as_of` (UTC), which must be on or after the fake's last change."""
    first_day = as_of - timedelta(days=period_days - 1)

    def in_window(ts: int | None) -> bool:
        return ts is not None and first_day <= _day(ts) <= as_of

    invoices = [i for i in fake.all("invoice") if i["status"] != "draft"]
    aging = dict.fromkeys(BUCKETS, 0)
    for inv in invoices:
        if inv["status"] == "open":
            aging[_bucket((as_of - _day(inv["due_date"])).days)] += inv["amount_remaining"]
    sales = sum(
        i["total"]
        for i in invoices
        if in_window(i["status_transitions"]["finalized_at"]) and i["status"] != "void"
    ) - sum(c["total"] for c in fake.all("credit_note") if in_window(c["effective_at"]))
    written = sum(
        i["amount_remaining"]
        for i in invoices
        if i["status"] == "uncollectible"
        and in_window(i["status_transitions"]["marked_uncollectible_at"])
    )
    invoice_of = {p["payment"]["payment_intent"]: p["invoice"] for p in fake.all("invoice_payment")}
    status = {i["id"]: i["status"] for i in invoices}
    declined = {
        invoice_of[c["payment_intent"]]
        for c in fake.all("charge")
        if c["status"] == "failed" and in_window(c["created"])
    }
    return Expected(
        ar=sum(aging.values()),
        aging=aging,
        credit_sales=sales,
        written_off=written,
        failed_attempt_invoices=len(declined),
        recovered_invoices=sum(1 for i in declined if status[i] == "paid"),
    )
