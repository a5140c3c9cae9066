"""Invoices one by one: the open ones with their open amount, the facts that decide whether one
may be dunned, lookups by number, the write-off mark.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, union_all, update
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from db.models import Customer, Dispute, Invoice, PromiseStatus, PromiseToPay
from db.open_amounts import applied_since, counted, is_open_at, open_amount_at
from db.settlement import refresh_settlement


@dataclass(frozen=True)
class InvoiceFacts:
    """What decides whether an invoice may be dunned or written off, as of one instant."""

    id: int
    customer_id: int
    source: str
    external_id: str
    number: str | None
    currency: str
    total_minor: int
    open_minor: int
    due_on: date
    payment_url: str | None
    is_open: bool
    voided: bool
    written_off: bool
    disputed: bool
    promised_on: date | None

    @property
    def label(self) -> str:
        return self.number or self.external_id


def find_invoices(session: Session, ref: str) -> Sequence[Invoice]:
    """By number, external id or internal id; case-insensitive on number and external id."""
    ref = ref.strip()
    low = ref.lower()
    conds = [func.lower(Invoice.number) == low, func.lower(Invoice.external_id) == low]
    if ref.isdigit():
        conds.append(Invoice.id == int(ref))
    return session.execute(select(Invoice).where(or_(*conds))).scalars().all()


def _dunning_blockers(today: date) -> tuple[ColumnElement[bool], ColumnElement[date]]:
    """(an unresolved dispute on the invoice or on its customer as a whole, the latest open
    promise to pay dated today or later on either).

    Both are the state now, whatever the cut-off: dunning acts today, and a dispute recorded
    today stops it even when the run reasons about an earlier day. A dispute or promise on a
    shadowed row of the same number (another source's copy of the invoice), or on that row's
    customer, counts as one on the invoice: the customer disputed or promised this invoice,
    whichever source recorded it.
    """
    twin = aliased(Invoice)
    twins = select(twin.id).where(
        twin.shadowed,
        twin.currency == Invoice.currency,
        func.trim(twin.number) == func.trim(Invoice.number),
    )
    twin_customers = select(twin.customer_id).where(
        twin.shadowed,
        twin.currency == Invoice.currency,
        func.trim(twin.number) == func.trim(Invoice.number),
    )

    def on(
        invoice_id: InstrumentedAttribute[int | None], customer_id: InstrumentedAttribute[int]
    ) -> ColumnElement[bool]:
        return or_(
            invoice_id == Invoice.id,
            invoice_id.in_(twins),
            and_(
                invoice_id.is_(None),
                or_(customer_id == Invoice.customer_id, customer_id.in_(twin_customers)),
            ),
        )

    disputed = exists().where(
        Dispute.resolved_at.is_(None), on(Dispute.invoice_id, Dispute.customer_id)
    )
    promised = (
        select(func.max(PromiseToPay.promised_on))
        .where(
            PromiseToPay.status == PromiseStatus.OPEN,
            PromiseToPay.promised_on >= today,
            on(PromiseToPay.invoice_id, PromiseToPay.customer_id),
        )
        .scalar_subquery()
    )
    return disputed, promised


def invoice_facts(
    session: Session,
    *,
    cut: datetime,
    today: date,
    customer_id: int | None = None,
    invoice_ids: Sequence[int] | None = None,
    only_open: bool = False,
) -> list[InvoiceFacts]:
    """Invoices with their open amount at `cut` and what blocks dunning them."""
    disputed, promised = _dunning_blockers(today)
    query = select(
        Invoice, open_amount_at(cut), is_open_at(cut), disputed.label("disputed"), promised
    ).order_by(Invoice.due_on, Invoice.id)
    if customer_id is not None:
        query = query.where(Invoice.customer_id == customer_id)
    if invoice_ids is not None:
        query = query.where(Invoice.id.in_(list(invoice_ids)))
    if only_open:
        query = query.where(is_open_at(cut))
    out = []
    for inv, open_minor, is_open, is_disputed, promised_on in session.execute(query):
        out.append(
            InvoiceFacts(
                id=inv.id,
                customer_id=inv.customer_id,
                source=inv.source,
                external_id=inv.external_id,
                number=inv.number,
                currency=inv.currency,
                total_minor=inv.total_minor,
                open_minor=int(open_minor) if is_open else 0,
                due_on=inv.due_on,
                payment_url=inv.payment_url,
                is_open=bool(is_open),
                voided=inv.voided_at is not None and inv.voided_at < cut,
                written_off=inv.written_off_at is not None and inv.written_off_at < cut,
                disputed=bool(is_disputed),
                promised_on=promised_on,
            )
        )
    return out


def mark_written_off(session: Session, invoice_id: int, at: datetime) -> bool:
    """Record the write-off in the ledger once, and keep settled_at true to it."""
    result = session.execute(
        update(Invoice)
        .where(Invoice.id == invoice_id, Invoice.written_off_at.is_(None))
        .values(written_off_at=at)
        .execution_options(synchronize_session=False)
    )
    refresh_settlement(session.connection(), [invoice_id])
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class OpenInvoiceRow:
    invoice_id: int
    external_id: str
    number: str | None
    customer_id: int
    customer_name: str
    currency: str
    total_minor: int
    open_minor: int
    issued_at: datetime
    due_on: date


def open_invoices(
    session: Session,
    cut: datetime,
    *,
    customer_ids: Sequence[int] | None = None,
    due_before: date | None = None,
    currency: str | None = None,
    keep_zero: bool = False,
) -> list[OpenInvoiceRow]:
    """Invoices open at the cut-off with their open amount, oldest due date first.

    `due_before` keeps invoices due strictly before that day (i.e. past due at some date);
    `keep_zero` keeps open invoices with nothing left to pay, which count as open invoices.
    """
    amount = open_amount_at(cut).label("open_minor")
    query = (
        select(
            Invoice.id,
            Invoice.external_id,
            Invoice.number,
            Invoice.customer_id,
            Customer.name,
            Invoice.currency,
            Invoice.total_minor,
            amount,
            Invoice.issued_at,
            Invoice.due_on,
        )
        .join(Customer, Customer.id == Invoice.customer_id)
        .where(is_open_at(cut))
    )
    if customer_ids is not None:
        query = query.where(Invoice.customer_id.in_(customer_ids))
    if due_before is not None:
        query = query.where(Invoice.due_on < due_before)
    if currency is not None:
        query = query.where(Invoice.currency == currency)
    query = query.order_by(Invoice.due_on, Invoice.id)
    return [
        OpenInvoiceRow(
            invoice_id=int(r[0]),
            external_id=str(r[1]),
            number=r[2],
            customer_id=int(r[3]),
            customer_name=str(r[4]),
            currency=str(r[5]),
            total_minor=int(r[6]),
            open_minor=int(r[7]),
            issued_at=r[8],
            due_on=r[9],
        )
        for r in session.execute(query).all()
        if keep_zero or int(r[7]) != 0
    ]


OpenAmount = tuple[int, str, str | None, int, str, int, date]


def open_amounts(session: Session, cut: datetime) -> list[OpenAmount]:
    """(id, external id, number, customer id, currency, open amount, due date) of every
    invoice open at the cut-off, oldest due first: `open_invoices` without the customer's
    name and the issue time, for matching a whole bank statement against the ledger.

    The same open amount as `open_amount_at` (total - applied + applied on or after the
    cut-off), with what was applied since summed once and joined rather than looked up per
    invoice, and the open invoices read as `is_open_at`'s two index ranges on settled_at
    directly rather than by id: on a million invoices the per-row lookups cost seconds."""
    recent = applied_since(cut)
    later = (
        select(recent.c.invoice_id, func.sum(recent.c.amount_minor).label("back"))
        .group_by(recent.c.invoice_id)
        .subquery("later")
    )
    amount = Invoice.total_minor - Invoice.applied_minor + func.coalesce(later.c.back, 0)
    columns = (
        Invoice.id,
        Invoice.external_id,
        Invoice.number,
        Invoice.customer_id,
        Invoice.currency,
        amount.label("open_minor"),
        Invoice.due_on,
    )
    arms = [
        select(*columns)
        .outerjoin(later, later.c.invoice_id == Invoice.id)
        .where(settled, Invoice.issued_at < cut, counted())
        for settled in (Invoice.settled_at.is_(None), Invoice.settled_at >= cut)
    ]
    query = union_all(*arms).subquery("open")
    ordered = select(query).order_by(query.c.due_on, query.c.id)
    return [
        (int(r[0]), str(r[1]), r[2], int(r[3]), str(r[4]), int(r[5]), r[6])
        for r in session.execute(ordered)
        if int(r[5]) != 0
    ]


def settled_between(
    session: Session, lo: datetime, hi: datetime
) -> list[tuple[str, str, int, int]]:
    """(number or import id, currency, total, customer id) of the invoices settled in
    [lo, hi) and not voided: a bank credit of one of these amounts may be a second payment
    of a paid one."""
    query = select(
        Invoice.number,
        Invoice.external_id,
        Invoice.currency,
        Invoice.total_minor,
        Invoice.customer_id,
    ).where(Invoice.settled_at >= lo, Invoice.settled_at < hi, Invoice.voided_at.is_(None))
    return [(str(r[0] or r[1]), str(r[2]), int(r[3]), int(r[4])) for r in session.execute(query)]
