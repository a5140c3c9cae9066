"""Who to chase: the accounts with the most past-due money, largest first.

Built on the same per-customer open-amount groups as the AR report, converted to the
reporting currency at the as-of date's rate, so the amounts tie out with the aging.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field

from db.customers import customer_facts, customer_ids_in_segment
from db.exposure import OpenByBucket, open_by_customer_bucket
from tools.buckets import days_past_due, due_before, due_ranges
from tools.clock import AsOfDate, day_cut, today
from tools.deps import ToolDeps
from tools.metrics import Converter, converted_balance


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
    overdue_by_currency: dict[str, int] = Field(description="open minor units per currency")


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
        # Ranked on each account's exact converted total (one conversion per account and
        # currency: a daily list ranks every account); the amounts shown are converted per
        # bucket by `converted_balance`, for the accounts listed and for the total.
        exact: dict[int, Decimal] = {}
        oldest: dict[int, int] = {}
        counts: dict[int, int] = {}
        for row in rows:
            cid = row.customer_id
            total = sum(row.by_bucket.values())
            if total:
                exact[cid] = exact.get(cid, Decimal(0)) + fx.exact(total, row.currency)
            days = days_past_due(as_of, row.oldest_due_on)
            oldest[cid] = max(oldest.get(cid, days), days)
            counts[cid] = counts.get(cid, 0) + row.invoice_count
        ranked = sorted(exact, key=lambda cid: (-exact[cid], cid))
        top = ranked[: args.limit]
        listed = set(top)
        per_customer = buckets_by_customer(r for r in rows if r.customer_id in listed)
        converted = {cid: converted_balance(fx, per_customer[cid]) for cid in top}
        ledger = converted_balance(fx, _merged(rows))
        facts = customer_facts(session, top)  # one query for all the names
        accounts = []
        for cid in top:
            accounts.append(
                OverdueAccount(
                    customer_id=cid,
                    name=facts[cid].name if cid in facts else str(cid),
                    overdue_minor=converted[cid].balance_minor,
                    oldest_days_past_due=oldest[cid],
                    invoice_count=counts[cid],
                    aging_minor=converted[cid].aging_minor,
                    overdue_by_currency=_by_currency(per_customer[cid]),
                )
            )
    return TopOverdue(
        as_of=as_of,
        currency=s.reporting_currency,
        more_than_days=args.more_than_days,
        segment=args.segment,
        total_overdue_minor=ledger.balance_minor,
        account_count=len(exact),
        accounts=accounts,
    )


def buckets_by_customer(rows: Iterable[OpenByBucket]) -> dict[int, dict[str, dict[str, int]]]:
    """Open minor units per customer, aging bucket and currency, for `converted_balance`."""
    out: dict[int, dict[str, dict[str, int]]] = {}
    for row in rows:
        per = out.setdefault(row.customer_id, {})
        for b, minor in row.by_bucket.items():
            if minor:
                per.setdefault(b, {})[row.currency] = per.get(b, {}).get(row.currency, 0) + minor
    return out


def _by_currency(per_bucket: dict[str, dict[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for per_cur in per_bucket.values():
        for cur, minor in per_cur.items():
            out[cur] = out.get(cur, 0) + minor
    return {c: a for c, a in sorted(out.items()) if a}


def _merged(rows: Iterable[OpenByBucket]) -> dict[str, dict[str, int]]:
    """Every account's open minor units per bucket and currency, added up: the list's total
    converted the way the report converts the ledger."""
    out: dict[str, dict[str, int]] = {}
    for row in rows:
        for b, minor in row.by_bucket.items():
            out.setdefault(b, {})[row.currency] = out.get(b, {}).get(row.currency, 0) + minor
    return out
