"""What is open on an invoice at a cut-off: the one formula every AR figure is built on.

A cut-off is an instant (`cut` = the start of the day after the as-of date in the company's
time zone, so "on or before D" is `< cut`). An invoice is open at c when it was issued
before c and not settled (fully covered, voided or written off) before c. Its open amount is

    total - applied (all dates) + what was applied on or after c

where "applied" is succeeded payments plus credit notes (`Invoice.applied_minor` keeps the
all-dates sum). Written this way, the open amount at a past date never needs an invoice's
older payment history: only the payments and credits dated since the cut-off.

Two shapes of the same formula, so per-invoice rows always add up to the grouped sums:
`open_amount_at` for a query that returns one row per invoice, and `open_parts` for grouped
sums over many invoices (and many cut-offs at once), whose callers choose the columns to sum;
`open_groups_at` gives the sums per currency and due date that every metric starts from.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Select,
    and_,
    case,
    false,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from db.models import CreditNote, Invoice, Payment, PaymentStatus


class OpenGroup(NamedTuple):  # a tuple: the per-customer lists run to 100,000s
    currency: str
    due_on: date
    customer_id: int | None
    open_minor: int
    invoice_count: int


SelectT = TypeVar("SelectT", bound=Select[*tuple[Any, ...]])


def of_currency(query: SelectT, currency: str | None) -> SelectT:
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
        for row in conn.execute(of_currency(query, currency)).all():
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


def is_open_at(cut: datetime, *, joined: bool = False) -> ColumnElement[bool]:
    """Issued before the cut-off and not settled before it.

    Written as `id IN (unsettled UNION ALL settled after cut)` rather than an OR: each arm is
    an index range on settled_at, while planners given the OR scan every invoice issued
    before the cut-off, which is nearly the whole history. With `joined` (a query joining
    each open invoice to other rows) it is the OR over the (settled_at, issued_at) index:
    PostgreSQL estimates any IN list at 200 rows and, for the 100,000s an AR question
    holds, would probe the joined table once per id and per parallel worker, where with the
    OR it hashes the invoices it counted; SQLite reads the OR no slower (measured at a
    million invoices).
    """
    if joined:
        unsettled = or_(Invoice.settled_at.is_(None), Invoice.settled_at >= cut)
        return and_(Invoice.issued_at < cut, unsettled, counted())
    other = aliased(Invoice)
    candidates = union_all(
        select(other.id).where(other.settled_at.is_(None)),
        select(other.id).where(other.settled_at >= cut),
    )
    return and_(Invoice.issued_at < cut, Invoice.id.in_(candidates), counted())


def counted() -> ColumnElement[bool]:
    """The invoice is one the figures count: not shadowed by the same invoice in a source of
    higher rank (decided when links are derived, tools.ledger_record)."""
    return Invoice.shadowed == false()


def _applied_on_or_after(cut: datetime | ColumnElement[datetime]) -> ColumnElement[int]:
    paid = (
        select(func.coalesce(func.sum(Payment.amount_minor), 0))
        .where(
            Payment.invoice_id == Invoice.id,
            Payment.status == PaymentStatus.SUCCEEDED,
            Payment.paid_at >= cut,
        )
        .scalar_subquery()
    )
    credited = (
        select(func.coalesce(func.sum(CreditNote.amount_minor), 0))
        .where(CreditNote.invoice_id == Invoice.id, CreditNote.issued_at >= cut)
        .scalar_subquery()
    )
    return paid + credited


def open_amount_at(cut: datetime | ColumnElement[datetime]) -> ColumnElement[int]:
    """One invoice's open amount at the cut-off (meaningful where `is_open_at(cut)` holds).

    The cut-off may be a column of the invoice itself: at `written_off_at` it is what the
    write-off wrote off.
    """
    return Invoice.total_minor - Invoice.applied_minor + _applied_on_or_after(cut)


def applied_since(lo: datetime) -> Any:
    """Succeeded payments and credit notes dated on or after `lo`, as (invoice_id, at, amount)."""
    return union_all(
        select(Payment.invoice_id, Payment.paid_at.label("at"), Payment.amount_minor).where(
            Payment.status == PaymentStatus.SUCCEEDED, Payment.paid_at >= lo
        ),
        select(CreditNote.invoice_id, CreditNote.issued_at, CreditNote.amount_minor).where(
            CreditNote.issued_at >= lo
        ),
    ).subquery("recent")


class OpenPart(NamedTuple):
    """One source of open money for `open_parts`: select from `source` where `where`.

    `amount` is what the rows add to the open amount at a cut-off c, provided the invoice is
    open at c and `applied_at` is None or on or after c.
    """

    source: FromClause | type[Invoice]
    where: ColumnElement[bool]
    amount: ColumnElement[int]
    applied_at: ColumnElement[datetime] | None


def open_parts(lo: datetime, *, by_index: bool = True) -> list[OpenPart]:
    """The rows whose sums give open amounts at every cut-off on or after `lo`.

    Invoices (total - applied) come in two parts, the unsettled ones and those settled on or
    after `lo`, each an index range on settled_at; with `by_index=False` they come as one
    part with an OR, which planners read as one pass over the table: faster when the query
    reads most invoices anyway (a scan of every account). The last part reads the payments
    and credits dated on or after `lo`, which a cut-off c adds back when dated on or after c.
    A caller adds the invoice conditions it needs (issued before c, settled on or after c,
    a customer, a currency), picks its columns from `amount` and `applied_at`, and sums.
    """
    unsettled = and_(Invoice.settled_at.is_(None), counted())
    not_yet_applied = Invoice.total_minor - Invoice.applied_minor
    recent = applied_since(lo)
    invoices = (
        [unsettled, and_(Invoice.settled_at >= lo, counted())]
        if by_index
        else [and_(or_(Invoice.settled_at.is_(None), Invoice.settled_at >= lo), counted())]
    )
    return [
        *(OpenPart(Invoice, where, not_yet_applied, None) for where in invoices),
        OpenPart(
            recent.join(Invoice, Invoice.id == recent.c.invoice_id),
            and_(or_(Invoice.settled_at.is_(None), Invoice.settled_at >= lo), counted()),
            recent.c.amount_minor,
            recent.c.at,
        ),
    ]


def counted_at(part: OpenPart, cut: datetime) -> ColumnElement[bool]:
    """Whether a row of `part` belongs to the open amount at `cut`."""
    unsettled = or_(Invoice.settled_at.is_(None), Invoice.settled_at >= cut)
    alive = and_(Invoice.issued_at < cut, unsettled)
    if part.applied_at is None:
        return alive
    return and_(alive, part.applied_at >= cut)


def position(col: Any, bounds: Sequence[datetime]) -> ColumnElement[int]:
    """How many of the ascending `bounds` are <= col; len(bounds) when col is NULL.

    Turns "is this row before cut-off k" for many cut-offs into one small integer a query can
    group by, so N dates cost one scan instead of N. A binary search of nested CASEs: a
    row costs log2(N) comparisons, not N.
    """

    def between(lo: int, hi: int) -> ColumnElement[int]:  # the answer is in [lo, hi]
        if lo == hi:
            return literal(lo)
        mid = (lo + hi) // 2
        return case((col < bounds[mid], between(lo, mid)), else_=between(mid + 1, hi))

    return between(0, len(bounds))
