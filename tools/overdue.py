"""Who to chase: the accounts with the most past-due money, largest first.

Built on the same per-customer open-amount groups as the AR report, converted to the
reporting currency at the as-of date's rate, so the amounts tie out with the aging.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field

from db.customers import customer_facts, customer_ids_in_segment
from db.exposure import OpenByBucket, open_by_customer_bucket
from tools.buckets import BUCKETS, days_past_due, due_before, due_ranges
from tools.clock import AsOfDate, day_cut, today
from tools.deps import ToolDeps
from tools.metrics import Converter
from tools.money import round_minor


class TopOverdueInput(BaseModel):
    limit: int = Field(10, ge=1, le=200, description="how many accounts to list")
    more_than_days: int | None = Field(
        0,
        ge=0,
        le=3650,
        description="only invoices more than this many days past due (0: every past-due "
        "invoice; empty: every open invoice, due or not)",
    )
    as_of: AsOfDate | None = Field(None, description="end-of-day date; today if empty")
    segment: str | None = Field(None, description="one customer segment alone; all if empty")


class OverdueAccount(BaseModel):
    customer_id: int
    name: str
    overdue_minor: int
    oldest_days_past_due: int
    invoice_count: int
    aging_minor: dict[str, int]


class TopOverdue(BaseModel):
    as_of: date
    currency: str
    more_than_days: int | None
    segment: str | None = None
    total_overdue_minor: int = Field(description="over every matching account, not only the top")
    account_count: int
    accounts: list[OverdueAccount]


def top_overdue(deps: ToolDeps, args: TopOverdueInput) -> TopOverdue:
    s = deps.settings
    as_of = args.as_of or today(s.tz)
    more_than = args.more_than_days
    with deps.sessions() as session:
        fx = Converter(session, s.reporting_currency, as_of)
        rows = open_by_customer_bucket(
            session,
            day_cut(as_of, s.tz),
            due_ranges(as_of),
            due_before=None if more_than is None else due_before(as_of, more_than),
        )
        if args.segment is not None:
            members = set(customer_ids_in_segment(session, args.segment))
            rows = [row for row in rows if row.customer_id in members]
        # Converted once per account and currency (the conversion is linear and exact), and
        # per bucket only for the accounts listed: a daily list ranks every account.
        exact: dict[int, Decimal] = {}
        oldest: dict[int, int] = {}
        counts: dict[int, int] = {}
        per_account: dict[int, list[OpenByBucket]] = {}
        for row in rows:
            cid = row.customer_id
            total = sum(row.by_bucket.values())
            if total:
                exact[cid] = exact.get(cid, Decimal(0)) + fx.exact(total, row.currency)
            per_account.setdefault(cid, []).append(row)
            days = days_past_due(as_of, row.oldest_due_on)
            oldest[cid] = max(oldest.get(cid, days), days)
            counts[cid] = counts.get(cid, 0) + row.invoice_count
        ranked = sorted(exact, key=lambda cid: (-exact[cid], cid))
        top = ranked[: args.limit]
        facts = customer_facts(session, top)  # one query for all the names
        accounts = []
        for cid in top:
            accounts.append(
                OverdueAccount(
                    customer_id=cid,
                    name=facts[cid].name if cid in facts else str(cid),
                    overdue_minor=_round(exact[cid]),
                    oldest_days_past_due=oldest[cid],
                    invoice_count=counts[cid],
                    aging_minor=_aging(per_account[cid], fx),
                )
            )
    return TopOverdue(
        as_of=as_of,
        currency=s.reporting_currency,
        more_than_days=args.more_than_days,
        segment=args.segment,
        total_overdue_minor=_round(sum(exact.values(), Decimal(0))),
        account_count=len(exact),
        accounts=accounts,
    )


def _aging(rows: list[OpenByBucket], fx: Converter) -> dict[str, int]:
    """One account's open amounts per bucket, in the reporting currency."""
    per: dict[str, Decimal] = {}
    for row in rows:
        for b, minor in row.by_bucket.items():
            if minor:
                per[b] = per.get(b, Decimal(0)) + fx.exact(minor, row.currency)
    return {b: _round(per.get(b, Decimal(0))) for b in BUCKETS}


def _round(value: Decimal) -> int:
    return round_minor(value)
