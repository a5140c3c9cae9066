"""How fast customers pay: average days from issue to full payment and days past due date.

Answers "who pays slowest?" per customer or per segment. Each customer row carries what
that customer owes now, because the next question a collector asks is "and how much is
it?". Only invoices fully paid in the window count (voided and written-off ones are not
payments); the figures are averages over those invoices.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from db.customers import customer_facts
from db.open_amounts import open_groups
from db.pay_speed import pay_speed
from tools.clock import AsOfDate, day_cut, today
from tools.customer_lookup import scope_of
from tools.deps import ToolDeps


class PaymentHistoryInput(BaseModel):
    group_by: Literal["customer", "segment"] = Field(
        "customer", description="one row per customer, or one per segment"
    )
    segment: str | None = Field(
        None, description="only customers of this segment (e.g. enterprise, mid-market, smb)"
    )
    customer: str | None = Field(None, description="only this customer (name or id)")
    as_of: AsOfDate | None = Field(None, description="end of the window; today if empty")
    period_days: int = Field(
        365, ge=1, le=3650, description="window length: invoices fully paid in the last N days"
    )
    order: Literal["slowest", "fastest"] = Field("slowest", description="sort by average days late")
    limit: int = Field(10, ge=1, le=50, description="rows to return")


class PaySpeed(BaseModel):
    customer_id: str | None = None
    name: str = Field(description="customer name, or the segment name")
    segment: str | None
    invoices_paid: int
    avg_days_to_pay: Decimal = Field(description="issue date to full payment, in days")
    avg_days_late: Decimal = Field(description="due date to full payment, in days")
    max_days_late: int
    balance_by_currency: dict[str, int] = Field(default_factory=dict, description="owed now")


class PaymentHistory(BaseModel):
    as_of: date
    period_days: int
    group_by: str
    rows: list[PaySpeed]
    more_rows: int


def payment_history(deps: ToolDeps, args: PaymentHistoryInput) -> PaymentHistory:
    tz = deps.settings.tz
    as_of = args.as_of or today(tz)
    cut = day_cut(as_of, tz)
    start = day_cut(as_of - timedelta(days=args.period_days), tz)
    with deps.sessions() as session:
        ids = scope_of(session, args.customer, args.segment).ids
        speed = pay_speed(session, start, cut, by=args.group_by, customer_ids=ids)
        speed.sort(
            key=lambda r: (r.avg_days_late, r.avg_days_to_pay), reverse=args.order == "slowest"
        )
        top = speed[: args.limit]
        rows: list[PaySpeed]
        if args.group_by == "segment":
            rows = [
                PaySpeed(
                    name=str(r.key or "(none)"),
                    segment=None if r.key is None else str(r.key),
                    invoices_paid=r.invoices_paid,
                    avg_days_to_pay=r.avg_days_to_pay,
                    avg_days_late=r.avg_days_late,
                    max_days_late=r.max_days_late,
                )
                for r in top
            ]
        else:
            top_ids = [int(r.key) for r in top if r.key is not None]
            facts = customer_facts(session, top_ids)
            owed: dict[int, dict[str, int]] = {}
            for g in open_groups(session, cut, per_customer=True, customer_ids=top_ids):
                per = owed.setdefault(int(g.customer_id or 0), {})
                per[g.currency] = per.get(g.currency, 0) + g.open_minor
            rows = []
            for r in top:
                cid = int(r.key or 0)
                rows.append(
                    PaySpeed(
                        customer_id=facts[cid].external_id,
                        name=facts[cid].name,
                        segment=facts[cid].segment,
                        invoices_paid=r.invoices_paid,
                        avg_days_to_pay=r.avg_days_to_pay,
                        avg_days_late=r.avg_days_late,
                        max_days_late=r.max_days_late,
                        balance_by_currency=owed.get(cid, {}),
                    )
                )
        return PaymentHistory(
            as_of=as_of,
            period_days=args.period_days,
            group_by=args.group_by,
            rows=rows,
            more_rows=len(speed) - len(top),
        )
