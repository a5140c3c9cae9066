"""Payments: unapplied cash, a customer's recent payments, failed attempts, and the exchange rates
payments and invoices are converted at.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from db.models import Customer, FxRate, Invoice, Payment, PaymentStatus


def recent_payments(
    session: Session, customer_id: int, cut: datetime, limit: int
) -> list[tuple[Payment, str | None]]:
    """Newest first, with the number of the invoice each one applies to."""
    query = (
        select(Payment, Invoice.number)
        .outerjoin(Invoice, Invoice.id == Payment.invoice_id)
        .where(Payment.customer_id == customer_id, Payment.paid_at < cut)
        .order_by(Payment.paid_at.desc(), Payment.id.desc())
        .limit(limit)
    )
    return [(row[0], row[1]) for row in session.execute(query)]


def failed_attempts(session: Session, start: datetime, cut: datetime) -> dict[int, int]:
    query = (
        select(Payment.customer_id, func.count())
        .where(
            Payment.status == PaymentStatus.FAILED, Payment.paid_at >= start, Payment.paid_at < cut
        )
        .group_by(Payment.customer_id)
    )
    return {int(c): int(n) for c, n in session.execute(query)}


def unapplied_cash_where(cut: datetime) -> ColumnElement[bool]:
    """Cash received before the cut-off and applied to no invoice, of a customer none of whose
    invoices is shadowed: a customer whose invoice a better-ranked source holds is that
    source's customer too, and its cash on account counts once, from that source."""
    twin = select(Invoice.id).where(Invoice.customer_id == Payment.customer_id, Invoice.shadowed)
    return and_(
        Payment.invoice_id.is_(None),
        Payment.status == PaymentStatus.SUCCEEDED,
        Payment.paid_at < cut,
        ~twin.exists(),
    )


def unapplied_cash(
    session: Session, cut: datetime, *, currency: str | None = None
) -> dict[str, int]:
    query = select(Payment.currency, func.sum(Payment.amount_minor)).where(
        unapplied_cash_where(cut)
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


class UnappliedRow(BaseModel):
    """A row as the tools hand it on: their answers extend it, never copy its fields."""

    model_config = ConfigDict(frozen=True)

    payment_id: int
    external_id: str
    customer_id: int
    customer_name: str
    currency: str
    amount_minor: int
    paid_at: datetime
    method: str | None


def unapplied_payments(
    session: Session, cut: datetime, *, currency: str | None = None
) -> list[UnappliedRow]:
    """The payments `unapplied_cash` sums, one row each: cash on account counted once."""
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
        .where(unapplied_cash_where(cut))
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
