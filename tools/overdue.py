"""Who to chase: the accounts with the most past-due money, largest first.

Built on the same per-customer open-amount groups as the AR report, converted to the
reporting currency at the as-of date's rate, so the amounts tie out with the aging.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from db.customers import customer_facts, customer_ids_in_segment
from db.exposure import OpenByBucket, open_by_customer_bucket
from tools.buckets import days_past_due, due_before, due_ranges
from tools.clock import AsOfDate, day_cut, today
from tools.deps import ToolDeps
from tools.metrics import Converter, converted_balance
from tools.open_book import OpenBook


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


def top_overdue(
    deps: ToolDeps, args: TopOverdueInput, *, book: OpenBook | None = None
) -> TopOverdue:
    """`book` may hold the open invoices at `args.as_of`, read already (the digest's): the
    list is then ranked from them, and only the accounts listed are read again."""
    s = deps.settings
    as_of = args.as_of or today(s.tz)
    more_than = args.more_than_days
    cut = day_cut(as_of, s.tz)
    before = None if more_than is None else due_before(as_of, more_than)
    with deps.sessions() as session:
        fx = Converter(session, s.reporting_currency, as_of)
        members = (
            None if args.segment is None else set(customer_ids_in_segment(session, args.segment))
        )
        if book is not None and book.serves(as_of):
            every = book.buckets(due_before=before)
        else:
            every = _buckets_of(session, cut, as_of, before)
        if members is not None:
            every = {cid: b for cid, b in every.items() if cid in members}
        # Ranked on each account's exact converted total (one conversion per account and
        # currency: a daily list ranks every account); the amounts shown are converted per
        # bucket by `converted_balance`, for the accounts listed and for the total.
        exact: dict[int, Decimal] = {}
        for cid, per_bucket in every.items():
            for cur, total in _by_currency(per_bucket).items():
                exact[cid] = exact.get(cid, Decimal(0)) + fx.exact(total, cur)
        ranked = sorted(exact, key=lambda cid: (-exact[cid], cid))
        top = ranked[: args.limit]
        rows = (
            open_by_customer_bucket(
                session, cut, due_ranges(as_of), due_before=before, customer_ids=top
            )
            if top
            else []
        )
        oldest: dict[int, int] = {}
        counts: dict[int, int] = {}
        for row in rows:
            days = days_past_due(as_of, row.oldest_due_on)
            oldest[row.customer_id] = max(oldest.get(row.customer_id, days), days)
            counts[row.customer_id] = counts.get(row.customer_id, 0) + row.invoice_count
        per_customer = buckets_by_customer(rows)
        converted = {cid: converted_balance(fx, per_customer[cid]) for cid in top}
        ledger = converted_balance(fx, _merged(every.values()))
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


def _buckets_of(
    session: Session, cut: datetime, as_of: date, before: date | None
) -> dict[int, dict[str, dict[str, int]]]:
    rows = open_by_customer_bucket(session, cut, due_ranges(as_of), due_before=before)
    return buckets_by_customer(rows)


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


def _merged(accounts: Iterable[dict[str, dict[str, int]]]) -> dict[str, dict[str, int]]:
    """Every account's open minor units per bucket and currency, added up: the list's total
    converted the way the report converts the ledger."""
    out: dict[str, dict[str, int]] = {}
    for per_bucket in accounts:
        for b, per_cur in per_bucket.items():
            for cur, minor in per_cur.items():
                out.setdefault(b, {})[cur] = out.get(b, {}).get(cur, 0) + minor
    return out
