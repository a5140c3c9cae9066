"""Applied bank receipts recorded in the books, through the outbox, once.

When a bank line is applied to an invoice whose source is an accounting system with a writer
(QuickBooks: a Payment whose Line[].LinkedTxn names the invoice, deposited to the account
ARBOT_QUICKBOOKS_DEPOSIT_ACCOUNTS names for the statement account, else
ARBOT_QUICKBOOKS_DEPOSIT_ACCOUNT_ID, else Undeposited Funds, QuickBooks' own default; Xero: a
Payment on the Invoice from the bank account ARBOT_XERO_BANK_ACCOUNTS names, else
ARBOT_XERO_BANK_ACCOUNT_CODE), the applying transaction also queues an approved action: the
person's click (or the rule they set) that applied the line is the approval. The outbox posts
it with a request id derived from the bank payment's id (QuickBooks' `requestid`, Xero's
`Idempotency-Key`), so a retry after a lost answer gets the books' first Payment back instead
of a second one. On success the bank's payment row becomes the books' row of that Payment
(db.books_payments.move_payment): the next sync updates it instead of counting the money twice,
and reconciliation finds the payment in the books (no `bank_not_in_books`). Another accounting
system plugs in with a line in WRITERS and a `post_payment(deps, order)` in its writer module.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from db.actions import insert_action, insert_audit
from db.books_payments import bank_txn_of, books_invoices, move_payment, unsent_writes
from db.models import Action, ActionKind, ActionStatus, Payment
from tools.action_model import ActionInfo
from tools.books_fields import bounded_id
from tools.clock import today
from tools.deps import ToolDeps
from tools.settings import SettingsError

# Sources whose books take a written-back payment: (name, longest request id it keeps).
WRITERS = {"quickbooks": ("QuickBooks", 50), "xero": ("Xero", 128)}
WRITABLE = frozenset(WRITERS)


@dataclass(frozen=True)
class PaymentOrder:
    """One payment to record in the books, as every writer takes it."""

    request_id: str  # the vendor's key for "this write, once"
    invoice_external_id: str
    invoice_number: str | None
    customer_external_id: str
    amount_minor: int
    currency: str
    on: date
    reference: str  # the bank payment it records
    note: str
    bank_account: str | None = None  # the statement account the receipt came in on


class Posted(NamedTuple):
    """What a writer's books answered: their payment's id, and where its money went when
    the card should say so."""

    payment_id: str
    place: str | None = None


def request_id(bank_payment_external_id: str, source: str) -> str:
    """One bank payment, one payment in the books: retried, the books answer the first."""
    return bounded_id(f"bank-payment-{bank_payment_external_id}", "", WRITERS[source][1])


def queue_books_payments(
    session: Session,
    payments: Sequence[Payment],
    *,
    by: str,
    now: datetime,
    tz: ZoneInfo,
    txn: tuple[int, str] | None = None,
) -> list[int]:
    """One approved action per applied bank payment whose invoice's books take it; ids.
    `txn`: (id, statement account) of the bank line applied, whose card then shows what the
    books received; found from each payment when not given. The day paid is the company's
    day (`tz`): a receipt read back from the database in UTC is not a day early east of it."""
    refs = books_invoices(session, [p.invoice_id for p in payments if p.invoice_id])
    queued = []
    for p in payments:
        inv = refs.get(p.invoice_id) if p.invoice_id else None
        if inv is None or inv.source not in WRITABLE:
            continue
        line = txn if txn is not None else bank_txn_of(session, p)
        payload: dict[str, Any] = {
            "source": inv.source,
            "invoice": {
                "id": p.invoice_id,
                "external_id": inv.external_id,
                "number": inv.number,
                "currency": inv.currency,
            },
            "customer_external_id": inv.customer_external_id,
            "amount_minor": p.amount_minor,
            "currency": p.currency,
            "paid_on": _day(p.paid_at, tz).isoformat(),
            "bank_payment": p.external_id,
            "request_id": request_id(p.external_id, inv.source),
        } | ({"bank_txn": line[0], "bank_account": line[1]} if line is not None else {})
        action = Action(
            kind=ActionKind.BOOKS_PAYMENT,
            status=ActionStatus.APPROVED,
            customer_id=p.customer_id,
            invoice_id=p.invoice_id,
            payload=payload,
            proposed_by=by,
            proposed_at=now,
            approvals={"approved_by": [{"user": by, "at": now.isoformat()}]},
            decided_by=by,
            decided_at=now,
            attempts=0,
            version=0,
        )
        insert_action(session, action)
        insert_audit(
            session,
            actor=by,
            event="books_payment_queued",
            entity="action",
            entity_id=str(action.id),
            before=None,
            after={"status": ActionStatus.APPROVED, "kind": action.kind, "payload": payload},
            at=now,
        )
        queued.append(action.id)
    return queued


def cancel_unsent_writes(
    session: Session, bank_payments: Sequence[str], *, by: str, at: datetime
) -> None:
    """Cancel the approved write-backs of these bank payments not yet being sent: their
    receipt now pays another row, whose books a new write-back names."""
    from tools.actions import info, transition

    note = "Cancelled before execution: the receipt now pays another source's copy of the invoice."
    for action in unsent_writes(session, bank_payments):
        transition(session, info(action), to=ActionStatus.CANCELLED, actor=by, event="cancelled",
                   at=at, values={"decision_note": note, "next_attempt_at": None})  # fmt: skip


def _day(at: datetime, tz: ZoneInfo) -> date:
    """The company's day of a moment (tools.clock.today); a naive one is UTC, as SQLite gives
    it back."""
    return today(tz, at if at.tzinfo else at.replace(tzinfo=UTC))


def books_label(source: str) -> str:
    """The books of a source, as people call them."""
    return WRITERS[source][0] if source in WRITERS else source


def books_name(a: ActionInfo) -> str:
    """The books the action writes to."""
    return books_label(str(a.payload.get("source") or ""))


def _writer(source: str) -> Callable[[ToolDeps, PaymentOrder], Posted]:
    """The vendor's writer, its client loaded only to post."""
    if source == "quickbooks":
        from tools.quickbooks_write import post_payment

        return post_payment
    if source == "xero":
        from tools.xero_write import post_payment as post_xero

        return post_xero
    raise ValueError(f"no writer for the books of {source!r}")


def post(deps: ToolDeps, a: ActionInfo) -> dict[str, Any]:
    """Record the payment in the books; what the audit row of `done` keeps."""
    p = a.payload
    source, rid = str(p["source"]), str(p["request_id"])
    order = PaymentOrder(
        request_id=rid,
        invoice_external_id=str(p["invoice"]["external_id"]),
        invoice_number=p["invoice"].get("number"),
        customer_external_id=str(p["customer_external_id"]),
        amount_minor=int(p["amount_minor"]),
        currency=str(p["currency"]),
        on=date.fromisoformat(str(p["paid_on"])),
        reference=str(p["bank_payment"]),
        note=f"Bank receipt {p['bank_payment']} applied in Slack (arbot action {a.id})",
        bank_account=p.get("bank_account"),
    )
    invoice_currency = p["invoice"].get("currency")
    if invoice_currency and invoice_currency != order.currency:
        raise SettingsError(
            f"the receipt is in {order.currency}, the invoice in {invoice_currency}: record it "
            f"by hand in {books_name(a)} (ARBOT_XERO_BANK_ACCOUNTS maps statement accounts)"
        )
    payment_id, place = _writer(source)(deps, order)
    return {
        f"{source}_payment_id": payment_id,
        f"{source}_request_id": rid,
        "books_payment_id": payment_id,
        "books_note": f"recorded in {books_name(a)} (payment {payment_id}"
        + (f", {place})" if place else ")"),
    } | ({"deposited": place} if place else {})


def found(a: ActionInfo, books_row: str) -> dict[str, Any]:
    """What the audit row of `done` keeps when the books' sync read the payment back first
    (`books_row`: its row in the ledger, "PAYMENT:INVOICE"): the books' payment id, as `post`
    gives it, and that nothing was posted."""
    p = a.payload
    source, suffix = str(p["source"]), f":{p['invoice']['external_id']}"
    payment_id = books_row[: -len(suffix)] if books_row.endswith(suffix) else books_row
    return {
        f"{source}_payment_id": payment_id,
        f"{source}_request_id": str(p["request_id"]),
        "books_payment_id": payment_id,
        "read_back": True,
        "books_note": f"recorded in {books_name(a)} (payment {payment_id}, found there by the "
        "sync)",
    }


def record(session: Session, a: ActionInfo, posted: dict[str, Any]) -> None:
    """The bank's payment row becomes the books' row of the posted Payment."""
    p = a.payload
    books_id = f"{posted['books_payment_id']}:{p['invoice']['external_id']}"
    move_payment(
        session,
        ("bank", str(p["bank_payment"])),
        (str(p["source"]), books_id),
        int(p["invoice"]["id"]),
    )
