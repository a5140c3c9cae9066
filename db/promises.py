"""Promises to pay and notes on a customer."""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from db.models import Invoice, Note, PromiseStatus, PromiseToPay


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


def broken_promises(session: Session, since: date, as_of: date) -> dict[int, int]:
    """Promises marked broken, or still open past their date, promised in (since, as_of)."""
    overdue_open = and_(PromiseToPay.status == PromiseStatus.OPEN, PromiseToPay.promised_on < as_of)
    query = (
        select(PromiseToPay.customer_id, func.count())
        .where(PromiseToPay.promised_on > since, PromiseToPay.promised_on <= as_of)
        .where(or_(PromiseToPay.status == PromiseStatus.BROKEN, overdue_open))
        .group_by(PromiseToPay.customer_id)
    )
    return {int(c): int(n) for c, n in session.execute(query)}
