"""The rows writing an applied bank receipt back to the books reads and moves."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from db.models import Action, ActionKind, Customer, Invoice, Payment
from db.settlement import refresh_settlement


class BooksInvoice(NamedTuple):
    source: str
    external_id: str
    number: str | None
    customer_external_id: str


def books_invoices(session: Session, ids: Sequence[int]) -> dict[int, BooksInvoice]:
    """Each invoice's source, ids and its customer's id in that source."""
    query = (
        select(
            Invoice.id, Invoice.source, Invoice.external_id, Invoice.number, Customer.external_id
        )
        .join(Customer, Customer.id == Invoice.customer_id)
        .where(Invoice.id.in_(list(ids)))
    )
    return {int(i): BooksInvoice(s, e, n, c) for i, s, e, n, c in session.execute(query)}


class BooksWrite(NamedTuple):
    """Where writing one applied bank payment to the books stands."""

    source: str
    status: str
    note: str | None  # once done: what the books received
    error: str | None


def books_writes(session: Session, txn_ids: Sequence[int]) -> dict[int, list[BooksWrite]]:
    """The books writes queued for each bank line, in the order they were queued."""
    if not txn_ids:
        return {}
    txn = Action.payload["bank_txn"].as_integer()
    query = (
        select(txn, Action.payload["source"].as_string(), Action.status, Action.decision_note,
               Action.last_error)
        .where(Action.kind == ActionKind.BOOKS_PAYMENT, txn.in_(list(txn_ids)))
        .order_by(Action.id)
    )  # fmt: skip
    out: dict[int, list[BooksWrite]] = {}
    for t, source, status, note, error in session.execute(query):
        out.setdefault(int(t), []).append(BooksWrite(source, status, note, error))
    return out


def move_payment(
    session: Session, old: tuple[str, str], new: tuple[str, str], invoice_id: int
) -> None:
    """The bank's payment row becomes the books' row of the same money, so the books' next
    sync updates it instead of adding a second payment; when that sync came first, the bank's
    row goes and the books' stays. Settlement is refreshed either way."""
    there = session.execute(
        select(Payment.id).where(Payment.source == new[0], Payment.external_id == new[1])
    ).first()
    mine = (Payment.source == old[0], Payment.external_id == old[1])
    if there is None:
        session.execute(update(Payment).where(*mine).values(source=new[0], external_id=new[1]))
    else:
        session.execute(delete(Payment).where(*mine))
    session.flush()
    refresh_settlement(session.connection(), [invoice_id])
