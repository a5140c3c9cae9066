"""The SQL aggregates behind every AR metric; tools.metrics turns them into the formulas.

Each function takes cut-off instants (`cut` = start of the day after the as-of date in the
company time zone, so "on or before D" is `< cut`) and returns small grouped rows: sums per
currency (and due date or customer), never one row per invoice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import (
    ColumnElement,
    Select,
    case,
    func,
    literal,
    select,
)
from sqlalchemy.orm import Session

from db.models import CreditNote, FxRate, Invoice, Payment, PaymentStatus
from db.open_amounts import open_amount_at, open_parts, position


class OpenGroup(NamedTuple):  # a tuple: the per-customer lists run to 100,000s
    currency: str
    due_on: date
    customer_id: int | None
    open_minor: int
    invoice_count: int


def applied_before(instant: ColumnElement[datetime]) -> ColumnElement[int]:
    """Succeeded payments plus credit notes of this invoice dated before a per-invoice instant
    (its write-off date, say), where a fixed cut-off would not do."""
    paid = (
        select(func.coalesce(func.sum(Payment.amount_minor), 0))
        .where(
            Payment.invoice_id == Invoice.id,
            Payment.status == PaymentStatus.SUCCEEDED,
            Payment.paid_at < instant,
        )
        .scalar_subquery()
    )
    credited = (
        select(func.coalesce(func.sum(CreditNote.amount_minor), 0))
        .where(CreditNote.invoice_id == Invoice.id, CreditNote.issued_at < instant)
        .scalar_subquery()
    )
    return paid + credited


SelectT = TypeVar("SelectT", bound=Select[*tuple[Any, ...]])


def _filtered(query: SelectT, currency: str | None) -> SelectT:
    return query if currency is None else query.where(Invoice.currency == currency)


def open_groups(
    session: Session,
    cut: datetime,
    *,
    currency: str | None = None,
    per_customer: bool = False,
    customer_ids: Sequence[int] | None = None,
) -> list[OpenGroup]:
    """Open amounts at the cut-off, summed per currency and due date (and customer)."""
    return open_groups_at(
        session, [cut], currency=currency, per_customer=per_customer, customer_ids=customer_ids
    )[0]


def open_groups_at(
    session: Session,
    cuts: Sequence[datetime],
    *,
    currency: str | None = None,
    per_customer: bool = False,
    customer_ids: Sequence[int] | None = None,
) -> list[list[OpenGroup]]:
    """open_groups for each cut-off, in the order given, from three queries whatever their number.

    Every row of `open_parts` is read once, grouped by where its dates fall among the
    cut-offs (`position`); the groups are then spread over the cut-offs they count at.
    """
    bounds = sorted(set(cuts))
    keys: list[Any] = [Invoice.currency, Invoice.due_on]
    if per_customer:
        keys.append(Invoice.customer_id)
    born = position(Invoice.issued_at, bounds)
    ends = position(Invoice.settled_at, bounds)
    conn = session.connection()
    per_bound: list[dict[tuple[Any, ...], list[int]]] = [{} for _ in bounds]
    for part in open_parts(bounds[0]):
        # applied on or after bound k, so not yet applied at k
        applied = [] if part.applied_at is None else [position(part.applied_at, bounds)]
        count = func.count() if part.applied_at is None else literal(0)
        query = (
            select(born, ends, *applied, func.sum(part.amount), count, *keys)
            .select_from(part.source)
            .where(part.where, Invoice.issued_at < bounds[-1])
            .group_by(born, ends, *applied, *keys)
        )
        if customer_ids is not None:
            query = query.where(Invoice.customer_id.in_(customer_ids))
        lead = 3 if part.applied_at is not None else 2
        for row in conn.execute(_filtered(query, currency)).all():
            stop = row[1] if part.applied_at is None else min(row[1], row[2])
            amount, invoices, key = int(row[lead]), int(row[lead + 1]), tuple(row[lead + 2 :])
            for k in range(row[0], stop):
                acc = per_bound[k].setdefault(key, [0, 0])
                acc[0] += amount
                acc[1] += invoices
    return [
        [
            OpenGroup(key[0], key[1], key[2] if per_customer else None, amount, count)
            for key, (amount, count) in per_bound[bounds.index(c)].items()
        ]
        for c in cuts
    ]


def written_off(
    session: Session, start: datetime, cut: datetime, *, currency: str | None = None
) -> dict[str, int]:
    """Open amount just before write-off (payments and credits dated before it), per currency."""
    amount = (
        Invoice.total_minor - applied_before(Invoice.written_off_at)  # type: ignore[arg-type]
    )
    query = _filtered(
        select(Invoice.currency, func.sum(amount)).where(
            Invoice.written_off_at >= start, Invoice.written_off_at < cut
        ),
        currency,
    ).group_by(Invoice.currency)
    return {cur: int(total) for cur, total in session.execute(query)}


def dunning_recovery(
    session: Session, start: datetime, cut: datetime, *, currency: str | None = None
) -> tuple[int, int]:
    """(invoices with a failed attempt in the window, of those fully covered by the cut-off).

    Covered means payments plus credits reach the total; a void or write-off is no recovery.
    """
    failed = (
        select(Payment.invoice_id)
        .distinct()
        .where(Payment.status == PaymentStatus.FAILED)
        .where(Payment.paid_at >= start, Payment.paid_at < cut)
        .where(Payment.invoice_id.is_not(None))
        .scalar_subquery()
    )
    covered = open_amount_at(cut) <= 0
    query = _filtered(
        select(func.count(), func.coalesce(func.sum(case((covered, 1), else_=0)), 0)).where(
            Invoice.id.in_(failed)
        ),
        currency,
    )
    attempted, recovered = session.execute(query).one()
    return int(attempted), int(recovered)


def unapplied_cash(
    session: Session, cut: datetime, *, currency: str | None = None
) -> dict[str, int]:
    query = select(Payment.currency, func.sum(Payment.amount_minor)).where(
        Payment.invoice_id.is_(None),
        Payment.status == PaymentStatus.SUCCEEDED,
        Payment.paid_at < cut,
    )
    if currency is not None:
        query = query.where(Payment.currency == currency)
    return {cur: int(total) for cur, total in session.execute(query.group_by(Payment.currency))}


def fx_rate(session: Session, currency: str, on: date) -> Decimal | None:
    """The newest rate on or before `on`."""
    rate = session.execute(
        select(FxRate.rate)
        .where(FxRate.currency == currency, FxRate.rate_on <= on)
        .order_by(FxRate.rate_on.desc())
        .limit(1)
    ).scalar_one_or_none()
    return None if rate is None else Decimal(str(rate)).normalize()


def credit_sales_at(
    session: Session,
    windows: Sequence[tuple[datetime, datetime]],
    *,
    currency: str | None = None,
) -> list[dict[str, int]]:
    """credit_sales for each [start, cut) window, in the order given, from two queries.

    Rows are grouped by where their dates fall among all the windows' edges, and each window
    sums the groups inside it: equal to credit_sales per window, one scan for all of them.
    """
    edges = sorted({t for w in windows for t in w})
    lo, hi = edges[0], edges[-1]
    issued = position(Invoice.issued_at, edges)
    voided = position(Invoice.voided_at, edges)
    invoiced = _filtered(
        select(Invoice.currency, issued, voided, func.sum(Invoice.total_minor)).where(
            Invoice.issued_at >= lo, Invoice.issued_at < hi
        ),
        currency,
    ).group_by(Invoice.currency, issued, voided)
    noted = position(CreditNote.issued_at, edges)
    credited = select(
        CreditNote.currency, noted, literal(len(edges)), func.sum(CreditNote.amount_minor)
    ).where(CreditNote.issued_at >= lo, CreditNote.issued_at < hi)
    if currency is not None:
        credited = credited.where(CreditNote.currency == currency)
    credited = credited.group_by(CreditNote.currency, noted)
    spans = [(edges.index(start), edges.index(cut)) for start, cut in windows]
    out: list[dict[str, int]] = [{} for _ in windows]
    for query, sign in ((invoiced, 1), (credited, -1)):
        for cur, at, gone, total in session.execute(query):
            for k, (first, stop) in enumerate(spans):
                # issued in [start, cut); an invoice voided before the cut is not a sale
                if first < at <= stop and (sign < 0 or gone > stop):
                    out[k][cur] = out[k].get(cur, 0) + sign * int(total)
    return out
