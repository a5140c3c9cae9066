"""Row-level queries behind the bot's answers: open invoices, disputes, unapplied payments.

The metrics in db.metrics_sql are aggregates; these return the rows a controller checks a
number against ("Show invoices"), using the same open-amount expressions so the rows always
add up to the aggregate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from db.models import Customer, Dispute, Invoice, Payment, PaymentStatus
from db.open_amounts import is_open_at, open_amount_at


@dataclass(frozen=True)
class CustomerName:
    id: int
    name: str
    external_id: str


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


@dataclass(frozen=True)
class DisputeRow:
    dispute_id: int
    external_id: str
    customer_id: int
    customer_name: str
    invoice_number: str | None
    currency: str
    amount_minor: int
    kind: str
    reason: str | None
    opened_at: datetime
    evidence_due_at: datetime | None
    invoice_id: int | None
    owner_slack_id: str | None


@dataclass(frozen=True)
class UnappliedRow:
    payment_id: int
    external_id: str
    customer_id: int
    customer_name: str
    currency: str
    amount_minor: int
    paid_at: datetime
    method: str | None


def customer_names(session: Session) -> list[CustomerName]:
    rows = session.execute(select(Customer.id, Customer.name, Customer.external_id))
    return [CustomerName(int(i), str(n), str(e)) for i, n, e in rows]


def customer_name(session: Session, customer_id: int) -> CustomerName | None:
    row = session.execute(
        select(Customer.id, Customer.name, Customer.external_id).where(Customer.id == customer_id)
    ).first()
    return None if row is None else CustomerName(int(row[0]), str(row[1]), str(row[2]))


def open_invoices(
    session: Session,
    cut: datetime,
    *,
    customer_ids: Sequence[int] | None = None,
    due_before: date | None = None,
    currency: str | None = None,
) -> list[OpenInvoiceRow]:
    """Invoices open at the cut-off with their open amount, oldest due date first.

    `due_before` keeps invoices due strictly before that day (i.e. past due at some date).
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
        for r in session.execute(query)
        if int(r[7]) != 0
    ]


def open_disputes(
    session: Session, cut: datetime, dispute_ids: Sequence[int] | None = None
) -> list[DisputeRow]:
    """Disputes opened before the cut-off and not resolved by then, oldest first."""
    query = (
        select(
            Dispute.id,
            Dispute.external_id,
            Dispute.customer_id,
            Customer.name,
            Invoice.number,
            Dispute.currency,
            Dispute.amount_minor,
            Dispute.kind,
            Dispute.reason,
            Dispute.opened_at,
            Dispute.evidence_due_at,
            Dispute.invoice_id,
            Customer.owner_slack_id,
        )
        .join(Customer, Customer.id == Dispute.customer_id)
        .outerjoin(Invoice, Invoice.id == Dispute.invoice_id)
        .where(Dispute.opened_at < cut)
        .where(or_(Dispute.resolved_at.is_(None), Dispute.resolved_at >= cut))
        .order_by(Dispute.opened_at, Dispute.id)
    )
    if dispute_ids is not None:
        query = query.where(Dispute.id.in_(list(dispute_ids)))
    return [
        DisputeRow(
            dispute_id=int(r[0]),
            external_id=str(r[1]),
            customer_id=int(r[2]),
            customer_name=str(r[3]),
            invoice_number=r[4],
            currency=str(r[5]),
            amount_minor=int(r[6]),
            kind=str(r[7]),
            reason=r[8],
            opened_at=r[9],
            evidence_due_at=r[10],
            invoice_id=r[11],
            owner_slack_id=r[12],
        )
        for r in session.execute(query)
    ]


def unapplied_payments(
    session: Session, cut: datetime, *, currency: str | None = None
) -> list[UnappliedRow]:
    """Succeeded payments not applied to any invoice, received before the cut-off."""
    query = (
        select(
            Payment.id,
            Payment.external_id,
            Payment.customer_id,
            Customer.name,
            Payment.currency,
            Payment.amount_minor,
            Payment.paid_at,
            Payment.method,
        )
        .join(Customer, Customer.id == Payment.customer_id)
        .where(
            Payment.invoice_id.is_(None),
            Payment.status == PaymentStatus.SUCCEEDED,
            Payment.paid_at < cut,
        )
        .order_by(Payment.paid_at, Payment.id)
    )
    if currency is not None:
        query = query.where(Payment.currency == currency)
    return [
        UnappliedRow(
            payment_id=int(r[0]),
            external_id=str(r[1]),
            customer_id=int(r[2]),
            customer_name=str(r[3]),
            currency=str(r[4]),
            amount_minor=int(r[5]),
            paid_at=r[6],
            method=r[7],
        )
        for r in session.execute(query)
    ]
