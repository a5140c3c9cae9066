"""The rows writing an applied bank receipt back to the books reads and moves."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy import Connection, delete, insert, select, tuple_, update
from sqlalchemy.orm import Session

from db.bank_models import BankTxn
from db.models import Action, ActionKind, ActionStatus, AuditLog, Customer, Invoice, Payment
from db.settlement import refresh_settlement

READ_BACK = "payment_read_back"  # the audit event of a bank receipt the books' sync took over


class BooksInvoice(NamedTuple):
    source: str
    external_id: str
    number: str | None
    customer_external_id: str
    currency: str


def books_invoices(session: Session, ids: Sequence[int]) -> dict[int, BooksInvoice]:
    """Each invoice's source, ids and its customer's id in that source."""
    query = (
        select(
            Invoice.id,
            Invoice.source,
            Invoice.external_id,
            Invoice.number,
            Customer.external_id,
            Invoice.currency,
        )
        .join(Customer, Customer.id == Invoice.customer_id)
        .where(Invoice.id.in_(list(ids)))
    )
    return {int(row[0]): BooksInvoice(*row[1:]) for row in session.execute(query)}


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


def bank_payment_place(session: Session, external_id: str) -> tuple[int | None, int] | None:
    """(invoice id, amount) of the bank's payment row `external_id`; None once it is gone
    (moved to the books' key, or unapplied)."""
    row = session.execute(
        select(Payment.invoice_id, Payment.amount_minor).where(
            Payment.source == "bank", Payment.external_id == external_id
        )
    ).first()
    return None if row is None else (row[0], int(row[1]))


def bank_txn_of(session: Session, payment: Payment) -> tuple[int, str] | None:
    """(id, statement account) of the bank line a bank payment row was applied from: its
    external id is the line's account, id and invoice, joined by "/" (tools.cash_apply)."""
    parts = payment.external_id.split("/")
    pairs = [
        ("/".join(parts[:i]), "/".join(parts[i:j]))
        for i in range(1, len(parts))
        for j in range(i + 1, len(parts))
    ]
    if not pairs:
        return None
    query = select(BankTxn.id, BankTxn.account).where(
        tuple_(BankTxn.account, BankTxn.external_id).in_(pairs)
    )
    row = session.execute(query.order_by(BankTxn.id)).first()
    return None if row is None else (int(row[0]), str(row[1]))


def unsent_writes(session: Session, bank_payment_ids: Sequence[str]) -> list[Action]:
    """Approved write-backs not yet being sent, of these bank payments."""
    if not bank_payment_ids:
        return []
    bank = Action.payload["bank_payment"].as_string()
    return list(
        session.scalars(
            select(Action).where(
                Action.kind == ActionKind.BOOKS_PAYMENT,
                Action.status == ActionStatus.APPROVED,
                bank.in_(list(bank_payment_ids)),
            )
        )
    )


def failed_writes(session: Session, action_id: int | None = None) -> list[Action]:
    """Write-backs that failed, oldest first; one when `action_id` is given."""
    query = select(Action).where(
        Action.kind == ActionKind.BOOKS_PAYMENT, Action.status == ActionStatus.FAILED
    )
    if action_id is not None:
        query = query.where(Action.id == action_id)
    return list(session.scalars(query.order_by(Action.id)))


def adopt_bank_payments(conn: Connection, source: str, found: list[tuple[str, str, str]]) -> None:
    """The books hold a payment naming a bank payment (bank payment id, the books' payment
    row id, the books' invoice id): the bank's row on that invoice becomes the books' row, so
    the sync about to write it updates that row instead of counting the money twice. An audit
    row (`READ_BACK`) keeps which books' payment the receipt became: a write-back still
    waiting for it ends recorded with that payment (tools.outbox_books), never posted again."""
    for bank_id, books_id, invoice_ext in found:
        row = conn.execute(
            select(Payment.id, Payment.invoice_id)
            .join(Invoice, Invoice.id == Payment.invoice_id)
            .where(
                Payment.source == "bank",
                Payment.external_id == bank_id,
                Invoice.source == source,
                Invoice.external_id == invoice_ext,
            )
        ).first()
        if row is None:
            continue
        there = conn.execute(
            select(Payment.id).where(Payment.source == source, Payment.external_id == books_id)
        ).first()
        if there is None:
            conn.execute(
                update(Payment)
                .where(Payment.id == row[0])
                .values(source=source, external_id=books_id)
            )
        else:
            conn.execute(delete(Payment).where(Payment.id == row[0]))
        refresh_settlement(conn, [int(row[1] or 0)])
        conn.execute(
            insert(AuditLog).values(
                at=datetime.now(UTC),
                actor=f"{source} sync",
                event=READ_BACK,
                entity="payment",
                entity_id=str(row[0] if there is None else there[0]),
                before={"source": "bank", "external_id": bank_id},
                after={"source": source, "external_id": books_id, "invoice": invoice_ext},
            )
        )


def read_back(session: Session, source: str, bank_id: str) -> str | None:
    """The books' payment row (`source`'s external id) that took over the bank payment
    `bank_id` when a sync read the books' payment naming it (`adopt_bank_payments`), or None.
    Looked up only for a write-back whose bank row is gone: a rare read, not worth an
    index on the audit log."""
    found = session.execute(
        select(AuditLog.after)
        .where(
            AuditLog.entity == "payment",
            AuditLog.event == READ_BACK,
            AuditLog.before["external_id"].as_string() == bank_id,
        )
        .order_by(AuditLog.id.desc())
    ).scalars()
    for after in found:
        if after and after.get("source") == source:
            return str(after["external_id"])
    return None
