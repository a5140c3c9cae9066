"""Promises to pay and notes on a customer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from db.models import Invoice, Note, Payment, PaymentStatus, PromiseStatus, PromiseToPay


def insert_promise(session: Session, promise: PromiseToPay) -> int:
    session.add(promise)
    session.flush()
    return promise.id


def insert_note(session: Session, note: Note) -> int:
    session.add(note)
    session.flush()
    return note.id


def customer_notes(session: Session, customer_id: int, limit: int) -> list[Note]:
    query = (
        select(Note)
        .where(Note.customer_id == customer_id)
        .order_by(Note.created_at.desc(), Note.id.desc())
        .limit(limit)
    )
    return list(session.execute(query).scalars())


@dataclass(frozen=True)
class PromiseFacts:
    """A promise and the payments that could count toward it, made from `paid_from` to the
    cut-off: (payment id, paid_at, amount) to its invoice, or to the account in its currency
    when it names none. Which of them do count is tools.promise_outcome's rule."""

    id: int
    customer_id: int
    invoice_id: int | None
    invoice_number: str | None
    currency: str
    amount_minor: int
    promised_on: date
    status: str
    created_at: datetime
    payments: tuple[tuple[int, datetime, int], ...]


def promises_due(
    session: Session,
    since: date | None,
    until: date,
    cut: datetime,
    *,
    paid_from: datetime | None = None,
    customer_id: int | None = None,
    recorded_before: datetime | None = None,
) -> list[PromiseFacts]:
    """Promises dated in (since, until], not cancelled, oldest date first, with the payments
    toward each made in [paid_from, cut); only those recorded before `recorded_before` when
    given (a forecast at a past date reads no later promise)."""
    window = and_(PromiseToPay.promised_on <= until, PromiseToPay.status != PromiseStatus.CANCELLED)
    if recorded_before is not None:
        window = and_(window, PromiseToPay.created_at < recorded_before)
    if since is not None:
        window = and_(window, PromiseToPay.promised_on > since)
    if customer_id is not None:
        window = and_(window, PromiseToPay.customer_id == customer_id)
    toward = and_(
        Payment.customer_id == PromiseToPay.customer_id,
        Payment.currency == PromiseToPay.currency,
        Payment.status == PaymentStatus.SUCCEEDED,
        Payment.amount_minor > 0,
        Payment.paid_at < cut,
        or_(PromiseToPay.invoice_id.is_(None), Payment.invoice_id == PromiseToPay.invoice_id),
    )
    if paid_from is not None:
        toward = and_(toward, Payment.paid_at >= paid_from)
    paid: dict[int, list[tuple[int, datetime, int]]] = {}
    # An outer join, so the promises are read first and each probes its customer's payments:
    # nothing imports promises, so their table may have no planner statistics, and SQLite
    # would then read every payment of the window and look for a promise for each.
    for pid, pay_id, at, amount in session.execute(
        select(PromiseToPay.id, Payment.id, Payment.paid_at, Payment.amount_minor)
        .outerjoin(Payment, toward)
        .where(window)
    ):
        if pay_id is not None:
            paid.setdefault(int(pid), []).append((int(pay_id), at, int(amount)))
    query = (
        select(PromiseToPay, Invoice.number)
        .outerjoin(Invoice, Invoice.id == PromiseToPay.invoice_id)
        .where(window)
        .order_by(PromiseToPay.promised_on, PromiseToPay.id)
    )
    return [
        PromiseFacts(
            id=p.id,
            customer_id=p.customer_id,
            invoice_id=p.invoice_id,
            invoice_number=number,
            currency=p.currency,
            amount_minor=p.amount_minor,
            promised_on=p.promised_on,
            status=p.status,
            created_at=p.created_at,
            payments=tuple(sorted(paid.get(p.id, []), key=lambda x: (x[1], x[0]))),
        )
        for p, number in session.execute(query)
    ]
