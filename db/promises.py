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


def customer_promises(
    session: Session, customer_id: int, limit: int
) -> list[tuple[PromiseToPay, str | None]]:
    query = (
        select(PromiseToPay, Invoice.number)
        .outerjoin(Invoice, Invoice.id == PromiseToPay.invoice_id)
        .where(PromiseToPay.customer_id == customer_id)
        .order_by(PromiseToPay.promised_on.desc(), PromiseToPay.id.desc())
        .limit(limit)
    )
    return [(row[0], row[1]) for row in session.execute(query)]


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
    """A promise and what was paid toward it after it was recorded, before the cut-off:
    (paid_at, amount) to its invoice, or to the account in its currency when it names none."""

    id: int
    customer_id: int
    invoice_id: int | None
    invoice_number: str | None
    currency: str
    amount_minor: int
    promised_on: date
    status: str
    payments: tuple[tuple[datetime, int], ...]


def promises_due(
    session: Session, since: date, until: date, cut: datetime, customer_id: int | None = None
) -> list[PromiseFacts]:
    """Promises dated in (since, until], not cancelled, oldest date first, with the payments
    toward each made before `cut`."""
    window = and_(
        PromiseToPay.promised_on > since,
        PromiseToPay.promised_on <= until,
        PromiseToPay.status != PromiseStatus.CANCELLED,
    )
    if customer_id is not None:
        window = and_(window, PromiseToPay.customer_id == customer_id)
    toward = and_(
        Payment.customer_id == PromiseToPay.customer_id,
        Payment.currency == PromiseToPay.currency,
        Payment.status == PaymentStatus.SUCCEEDED,
        Payment.paid_at >= PromiseToPay.created_at,
        Payment.paid_at < cut,
        or_(PromiseToPay.invoice_id.is_(None), Payment.invoice_id == PromiseToPay.invoice_id),
    )
    paid: dict[int, list[tuple[datetime, int]]] = {}
    for pid, at, amount in session.execute(
        select(PromiseToPay.id, Payment.paid_at, Payment.amount_minor)
        .join(Payment, toward)
        .where(window)
    ):
        paid.setdefault(int(pid), []).append((at, int(amount)))
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
            payments=tuple(sorted(paid.get(p.id, []))),
        )
        for p, number in session.execute(query)
    ]
