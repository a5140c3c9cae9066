"""The SQL aggregates behind every AR metric; tools.metrics turns them into the formulas.

Each function takes cut-off instants (`cut` = start of the day after the as-of date in the
company time zone, so "on or before D" is `< cut`) and returns small grouped rows: sums per
currency (and due date or customer), never one row per invoice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select, union_all
from sqlalchemy.orm import Session, aliased

from db.models import CreditNote, FxRate, Invoice, Payment, PaymentStatus


@dataclass(frozen=True)
class OpenGroup:
    currency: str
    due_on: date
    customer_id: int | None
    open_minor: int
    invoice_count: int


def paid_before(cut: datetime | ColumnElement[datetime]) -> ColumnElement[int]:
    return (
        select(func.coalesce(func.sum(Payment.amount_minor), 0))
        .where(
            Payment.invoice_id == Invoice.id,
            Payment.status == PaymentStatus.SUCCEEDED,
            Payment.paid_at < cut,
        )
        .scalar_subquery()
    )


def credited_before(cut: datetime | ColumnElement[datetime]) -> ColumnElement[int]:
    return (
        select(func.coalesce(func.sum(CreditNote.amount_minor), 0))
        .where(CreditNote.invoice_id == Invoice.id, CreditNote.issued_at < cut)
        .scalar_subquery()
    )


def open_at(cut: datetime) -> ColumnElement[bool]:
    """Issued by the cut-off and not yet voided, written off or fully covered.

    Written as `id IN (unsettled UNION ALL settled after cut)` rather than an OR: each arm is
    an index range on settled_at, while planners given the OR scan every invoice issued
    before the cut-off, which is nearly the whole history.
    """
    other = aliased(Invoice)
    candidates = union_all(
        select(other.id).where(other.settled_at.is_(None)),
        select(other.id).where(other.settled_at >= cut),
    )
    return and_(Invoice.issued_at < cut, Invoice.id.in_(candidates))


def open_amount(cut: datetime) -> ColumnElement[int]:
    return Invoice.total_minor - paid_before(cut) - credited_before(cut)


SelectT = TypeVar("SelectT", bound=Select[*tuple[Any, ...]])


def _filtered(query: SelectT, currency: str | None) -> SelectT:
    return query if currency is None else query.where(Invoice.currency == currency)


def _alive(cut: datetime, currency: str | None, customer_ids: Sequence[int] | None) -> Any:
    """Invoices open at the cut-off, with the columns the sums need, as a subquery.

    Two index ranges on settled_at (still open; settled after the cut-off) read the columns
    directly: no OR for the planner to give up on, no per-row lookup by primary key.
    """
    cols = (Invoice.id, Invoice.currency, Invoice.due_on, Invoice.customer_id, Invoice.total_minor)
    arms = []
    for settled in (Invoice.settled_at.is_(None), Invoice.settled_at >= cut):
        arm = select(*cols).where(settled, Invoice.issued_at < cut)
        if customer_ids is not None:
            arm = arm.where(Invoice.customer_id.in_(customer_ids))
        arms.append(_filtered(arm, currency))
    return union_all(*arms).subquery("alive")


def open_groups(
    session: Session,
    cut: datetime,
    *,
    currency: str | None = None,
    per_customer: bool = False,
    customer_ids: Sequence[int] | None = None,
) -> list[OpenGroup]:
    """Open amounts at the cut-off, summed per currency and due date (and customer).

    Open = total - payments - credits before the cut-off, and every term is linear, so each is
    summed in its own GROUP BY (a hash join for payments and credits) instead of two
    correlated sub-queries per open invoice: about 30% faster on a million invoices.
    """
    alive = _alive(cut, currency, customer_ids)
    keys: list[Any] = [alive.c.currency, alive.c.due_on]
    if per_customer:
        keys.append(alive.c.customer_id)
    totals = select(*keys, func.sum(alive.c.total_minor), func.count()).group_by(*keys)
    paid = (
        select(*keys, func.sum(Payment.amount_minor))
        .join(Payment, Payment.invoice_id == alive.c.id)
        .where(Payment.status == PaymentStatus.SUCCEEDED, Payment.paid_at < cut)
        .group_by(*keys)
    )
    credited = (
        select(*keys, func.sum(CreditNote.amount_minor))
        .join(CreditNote, CreditNote.invoice_id == alive.c.id)
        .where(CreditNote.issued_at < cut)
        .group_by(*keys)
    )
    width = len(keys)
    groups: dict[tuple[Any, ...], list[int]] = {}
    for row in session.execute(totals):
        groups[tuple(row[:width])] = [int(row[width]), int(row[width + 1])]
    for query in (paid, credited):
        for row in session.execute(query):
            groups[tuple(row[:width])][0] -= int(row[width])
    return [
        OpenGroup(
            currency=key[0],
            due_on=key[1],
            customer_id=key[2] if per_customer else None,
            open_minor=amount,
            invoice_count=count,
        )
        for key, (amount, count) in groups.items()
    ]


def credit_sales(
    session: Session, start: datetime, cut: datetime, *, currency: str | None = None
) -> dict[str, int]:
    """Invoices issued in [start, cut) and not voided before cut, minus credit notes in it."""
    invoiced = _filtered(
        select(Invoice.currency, func.sum(Invoice.total_minor))
        .where(Invoice.issued_at >= start, Invoice.issued_at < cut)
        .where(or_(Invoice.voided_at.is_(None), Invoice.voided_at >= cut)),
        currency,
    ).group_by(Invoice.currency)
    credited = select(CreditNote.currency, func.sum(CreditNote.amount_minor)).where(
        CreditNote.issued_at >= start, CreditNote.issued_at < cut
    )
    if currency is not None:
        credited = credited.where(CreditNote.currency == currency)
    totals: dict[str, int] = {}
    for cur, amount in session.execute(invoiced):
        totals[cur] = totals.get(cur, 0) + int(amount)
    for cur, amount in session.execute(credited.group_by(CreditNote.currency)):
        totals[cur] = totals.get(cur, 0) - int(amount)
    return totals


def written_off(
    session: Session, start: datetime, cut: datetime, *, currency: str | None = None
) -> dict[str, int]:
    """Open amount just before write-off (payments and credits dated before it), per currency."""
    amount = (
        Invoice.total_minor
        - paid_before(Invoice.written_off_at)  # type: ignore[arg-type]
        - credited_before(Invoice.written_off_at)  # type: ignore[arg-type]
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
    covered = (paid_before(cut) + credited_before(cut)) >= Invoice.total_minor
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


BUCKET_BOUNDS = (
    ("current", 0, None),
    ("1-30", 30, 0),
    ("31-60", 60, 30),
    ("61-90", 90, 60),
    ("90+", None, 90),
)
"""(bucket, due on or after D - first days, due before D - second days); None = unbounded."""


@dataclass(frozen=True)
class TrendSums:
    """For each as-of date k: open amount per aging bucket and currency, and credit sales."""

    aging: list[dict[str, dict[str, int]]]
    credit_sales: list[dict[str, int]]


def trend_sums(
    session: Session,
    cuts: Sequence[datetime],
    as_of_days: Sequence[date],
    starts: Sequence[datetime],
) -> TrendSums:
    """Aging and CS(W_k) for many as-of dates in one pass each.

    Same definitions as open_groups and credit_sales (and tested equal to them), but one scan
    over the invoices open at any of the cut-offs instead of one scan per date: a 13-week
    trend costs about two reports instead of thirteen.
    """
    n = len(cuts)
    lo, hi = min(cuts), max(cuts)
    cols = (
        Invoice.id,
        Invoice.currency,
        Invoice.due_on,
        Invoice.total_minor,
        Invoice.issued_at,
        Invoice.settled_at,
    )
    alive = union_all(
        select(*cols).where(Invoice.settled_at.is_(None), Invoice.issued_at < hi),
        select(*cols).where(Invoice.settled_at >= lo, Invoice.issued_at < hi),
    ).subquery("alive_any")

    def in_bucket(k: int, since: int | None, before: int | None) -> ColumnElement[bool]:
        day = as_of_days[k]
        conds = [
            alive.c.issued_at < cuts[k],
            or_(alive.c.settled_at.is_(None), alive.c.settled_at >= cuts[k]),
        ]
        if since is not None:
            conds.append(alive.c.due_on >= day - timedelta(days=since))
        if before is not None:
            conds.append(alive.c.due_on < day - timedelta(days=before))
        return and_(*conds)

    def sums(amount: Any, dated: Any = None) -> list[Any]:
        out = []
        for k in range(n):
            for _, since, before in BUCKET_BOUNDS:
                when = in_bucket(k, since, before)
                if dated is not None:
                    when = and_(when, dated < cuts[k])
                out.append(func.sum(case((when, amount), else_=0)))
        return out

    width = len(BUCKET_BOUNDS)
    aging: list[dict[str, dict[str, int]]] = [
        {b: {} for b, _, _ in BUCKET_BOUNDS} for _ in range(n)
    ]

    def add(query: Any, sign: int) -> None:
        for row in session.execute(query):
            for k in range(n):
                for j, (bucket, _, _) in enumerate(BUCKET_BOUNDS):
                    per_cur = aging[k][bucket]
                    per_cur[row[0]] = per_cur.get(row[0], 0) + sign * int(
                        row[1 + k * width + j] or 0
                    )

    add(select(alive.c.currency, *sums(alive.c.total_minor)).group_by(alive.c.currency), 1)
    add(
        select(alive.c.currency, *sums(Payment.amount_minor, Payment.paid_at))
        .join(Payment, Payment.invoice_id == alive.c.id)
        .where(Payment.status == PaymentStatus.SUCCEEDED, Payment.paid_at < hi)
        .group_by(alive.c.currency),
        -1,
    )
    add(
        select(alive.c.currency, *sums(CreditNote.amount_minor, CreditNote.issued_at))
        .join(CreditNote, CreditNote.invoice_id == alive.c.id)
        .where(CreditNote.issued_at < hi)
        .group_by(alive.c.currency),
        -1,
    )

    sales: list[dict[str, int]] = [{} for _ in range(n)]
    first = min(starts)
    invoiced = (
        select(
            Invoice.currency,
            *(
                func.sum(
                    case(
                        (
                            and_(
                                Invoice.issued_at >= starts[k],
                                Invoice.issued_at < cuts[k],
                                or_(Invoice.voided_at.is_(None), Invoice.voided_at >= cuts[k]),
                            ),
                            Invoice.total_minor,
                        ),
                        else_=0,
                    )
                )
                for k in range(n)
            ),
        )
        .where(Invoice.issued_at >= first, Invoice.issued_at < hi)
        .group_by(Invoice.currency)
    )
    notes = (
        select(
            CreditNote.currency,
            *(
                func.sum(
                    case(
                        (
                            and_(CreditNote.issued_at >= starts[k], CreditNote.issued_at < cuts[k]),
                            CreditNote.amount_minor,
                        ),
                        else_=0,
                    )
                )
                for k in range(n)
            ),
        )
        .where(CreditNote.issued_at >= first, CreditNote.issued_at < hi)
        .group_by(CreditNote.currency)
    )
    for query, sign in ((invoiced, 1), (notes, -1)):
        for row in session.execute(query):
            for k in range(n):
                sales[k][row[0]] = sales[k].get(row[0], 0) + sign * int(row[1 + k] or 0)
    return TrendSums(aging=aging, credit_sales=sales)
