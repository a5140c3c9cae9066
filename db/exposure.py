"""Per-account open amounts the risk scan and the overdue list need, built on the one open-amount
formula of `db.open_amounts`: one row per account, never one per invoice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session

from db.models import Invoice
from db.open_amounts import OpenPart, counted_at, open_parts
from db.sql_dates import days_after


class Exposure(NamedTuple):
    """One customer's open amounts in one currency, at the scan date and at an earlier date."""

    balance: int
    over: int  # more than the scan's number of days past due
    past_due: int
    weighted: int  # sum of open amount x days past due, over past-due invoices
    past_due_before: int
    weighted_before: int
    balance_before: int = 0  # open at the earlier date (a credit limit's trend reads it)


def customer_exposure(
    session: Session,
    before: tuple[datetime, date],
    now: tuple[datetime, date],
    *,
    over_due_before: date,
    customer_ids: Sequence[int] | None = None,
) -> dict[tuple[int, str], Exposure]:
    """Per (customer, currency): the sums the risk score needs, at `now` and at `before`.

    One row per account, not one per open invoice: a daily scan of every customer stays a
    grouped query. `over` counts what is due before `over_due_before`, at `now`.
    """
    (before_cut, before_day), (now_cut, now_day) = before, now
    due = Invoice.due_on

    def when(cond: Any, value: Any) -> Any:  # BIGINT, not NUMERIC: ints, not Decimals
        return cast(func.sum(case((cond, value), else_=0)), BigInteger)

    def sums(part: OpenPart) -> list[Any]:
        counted_now, counted_before = counted_at(part, now_cut), counted_at(part, before_cut)
        late_now = and_(counted_now, due < now_day)
        late_before = and_(counted_before, due < before_day)
        amount = part.amount
        return [
            when(counted_now, amount),
            when(and_(counted_now, due < over_due_before), amount),
            when(late_now, amount),
            when(late_now, amount * days_after(session, due, now_day)),
            when(late_before, amount),
            when(late_before, amount * days_after(session, due, before_day)),
            when(counted_before, amount),
        ]

    key = (Invoice.customer_id, Invoice.currency)
    selects = []
    for part in open_parts(before_cut, by_index=False):
        query = (
            select(*key, *sums(part))
            .select_from(part.source)
            .where(part.where, Invoice.issued_at < now_cut)
        )
        if customer_ids is not None:
            query = query.where(Invoice.customer_id.in_(customer_ids))
        # Each part grouped on its own (SQLite sorts small sets faster than one big one),
        # then added up, so one row per account comes back.
        selects.append(query.group_by(*key))
    parts = union_all(*selects).subquery("parts")
    customer, currency, *columns = parts.c
    query = select(customer, currency, *(cast(func.sum(c), BigInteger) for c in columns)).group_by(
        customer, currency
    )
    return {
        (cid, cur): Exposure(*values) for cid, cur, *values in session.connection().execute(query)
    }


class OpenByBucket(NamedTuple):
    """One customer's open invoices in one currency at a cut-off, by aging bucket."""

    customer_id: int
    currency: str
    by_bucket: dict[str, int]
    oldest_due_on: date
    invoice_count: int


DueRange = tuple[str, date | None, date | None]
"""(bucket label, due on or after, due on or before); None: no limit. `tools.buckets` turns
the aging buckets into these for one as-of date."""


def open_by_customer_bucket(
    session: Session,
    cut: datetime,
    buckets: Sequence[DueRange],
    *,
    due_before: date | None = None,
    customer_ids: Sequence[int] | None = None,
) -> list[OpenByBucket]:
    """Open amounts per customer, currency and aging bucket at the cut-off, for invoices due
    before `due_before` (all open ones at None), of `customer_ids` (all at None): one row per
    account, not per invoice.
    """
    due = Invoice.due_on

    def in_bucket(first: date | None, last: date | None) -> ColumnElement[bool]:
        conds = [] if first is None else [due >= first]
        if last is not None:
            conds.append(due <= last)
        return and_(true(), *conds)

    limits = [in_bucket(first, last) for _, first, last in buckets]
    key = (Invoice.customer_id, Invoice.currency)
    selects = []
    for part in open_parts(cut, by_index=False):
        columns = [cast(func.sum(case((c, part.amount), else_=0)), BigInteger) for c in limits]
        invoices = part.applied_at is None  # payments after the cut-off add amounts only
        oldest = func.min(due) if invoices else cast(null(), Date)
        count = func.count() if invoices else literal(0)
        query = select(*key, *columns, oldest, count).select_from(part.source)
        query = query.where(part.where, counted_at(part, cut))
        if due_before is not None:
            query = query.where(due < due_before)
        if customer_ids is not None:
            query = query.where(Invoice.customer_id.in_(customer_ids))
        selects.append(query.group_by(*key))
    # Added up in the database: one row per account comes back, not one per account and part.
    parts = union_all(*selects).subquery("parts")
    customer, currency, *sums, oldest_col, count_col = parts.c
    query = select(
        customer,
        currency,
        *(cast(func.sum(c), BigInteger) for c in sums),
        func.min(oldest_col),
        cast(func.sum(count_col), BigInteger),
    ).group_by(customer, currency)
    labels = [label for label, _, _ in buckets]
    return [
        OpenByBucket(
            int(row[0]), str(row[1]), dict(zip(labels, row[2:-2], strict=True)), row[-2], row[-1]
        )
        for row in session.connection().execute(query).all()
    ]
