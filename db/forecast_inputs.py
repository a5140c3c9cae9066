"""What a cash forecast needs besides the open invoices, the payment history and the promises
to pay (tools.promise_outcome): open disputes, invoices whose last card attempt failed, and
how disputes and failed attempts turned out before. Everything as the cut-off saw it, so a
forecast at a past date reads nothing later (the backtest depends on it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from db.disputes import dispute_open_at
from db.models import Customer, Dispute, Invoice, Payment, PaymentStatus
from db.open_amounts import counted
from db.sql_dates import whole_days


def _rows(session: Session, query: Any) -> Any:
    """The rows, untyped: the invoice ids selected are never NULL (the WHERE says so)."""
    return session.execute(query)


def disputed_amounts(session: Session, cut: datetime) -> dict[int, int]:
    """Per invoice: the amount under disputes open at the cut-off."""
    query = (
        select(Dispute.invoice_id, func.sum(Dispute.amount_minor))
        .where(dispute_open_at(cut), Dispute.invoice_id.is_not(None))
        .group_by(Dispute.invoice_id)
    )
    return {int(i): int(a) for i, a in _rows(session, query)}


def dispute_history(session: Session, start: datetime, cut: datetime) -> tuple[int, int, float]:
    """Disputes resolved in [start, cut): (won, resolved, average days from opening to
    resolution); won means the money stayed with us."""
    days = whole_days(session, Dispute.resolved_at, Dispute.opened_at)  # type: ignore[arg-type]
    query = select(
        func.count(Dispute.id).filter(Dispute.outcome == "won"), func.count(), func.avg(days)
    ).where(Dispute.resolved_at >= start, Dispute.resolved_at < cut)
    won, resolved, avg_days = session.execute(query).one()
    return int(won or 0), int(resolved or 0), float(avg_days or 0)


def failed_last_attempts(session: Session, cut: datetime) -> dict[int, datetime]:
    """Per invoice: its latest payment attempt before the cut-off, where that attempt failed.

    Failed attempts are few: they are read first (an index range on status), and only their
    invoices' succeeded payments after them."""
    failed = (
        select(Payment.invoice_id, func.max(Payment.paid_at).label("failed_at"))
        .where(Payment.status == PaymentStatus.FAILED, Payment.paid_at < cut)
        .where(Payment.invoice_id.is_not(None))
        .group_by(Payment.invoice_id)
        .subquery()
    )
    later = and_(
        Payment.invoice_id == failed.c.invoice_id,
        Payment.status == PaymentStatus.SUCCEEDED,
        Payment.paid_at >= failed.c.failed_at,
        Payment.paid_at < cut,
    )
    query = (
        select(failed.c.invoice_id, failed.c.failed_at)
        .select_from(failed)
        .outerjoin(Payment, later)
        .where(Payment.id.is_(None))
    )
    return {int(r[0]): r[1] for r in _rows(session, query)}


def recovery_days(session: Session, start: datetime, cut: datetime) -> float | None:
    """Average days from an invoice's first failed attempt in [start, cut) to its full payment,
    over the invoices paid before the cut-off."""
    first = (
        select(Payment.invoice_id, func.min(Payment.paid_at).label("failed_at"))
        .where(Payment.status == PaymentStatus.FAILED, Payment.paid_at >= start)
        .where(Payment.paid_at < cut, Payment.invoice_id.is_not(None))
        .group_by(Payment.invoice_id)
        .subquery()
    )
    days = whole_days(session, Invoice.settled_at, first.c.failed_at)  # type: ignore[arg-type]
    query = (
        select(func.avg(days))
        .select_from(first)
        .join(Invoice, Invoice.id == first.c.invoice_id)
        .where(
            counted(),
            Invoice.settled_at < cut,
            or_(Invoice.voided_at.is_(None), Invoice.voided_at > Invoice.settled_at),
            or_(Invoice.written_off_at.is_(None), Invoice.written_off_at > Invoice.settled_at),
        )
    )
    found = session.execute(query).scalar()
    return None if found is None else float(found)


def customer_terms(session: Session) -> dict[int, tuple[str | None, int | None]]:
    """Per customer: (segment, payment terms in days)."""
    query = select(Customer.id, Customer.segment, Customer.payment_terms_days)
    return {int(c): (s, t) for c, s, t in session.execute(query)}
