"""Applied bank receipts recorded in the books, through the outbox, once.

When a bank line is applied to an invoice whose source is an accounting system with a writer
(QuickBooks: a Payment whose Line[].LinkedTxn names the invoice), the applying transaction
also queues an approved action: the person's click that applied the line is the approval.
The outbox posts it with a request id derived from the bank payment's id, so a retry after a
lost answer gets the books' first Payment back instead of a second one. On success the bank's
payment row becomes the books' row of that Payment (db.books_payments.move_payment): the next
sync updates it instead of counting the money twice, and reconciliation finds the payment in
the books (no `bank_not_in_books`). Sources are named: another accounting system plugs in by
adding its name to WRITABLE and its call to `post`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from db.actions import insert_action, insert_audit
from db.books_payments import books_invoices, move_payment
from db.models import Action, ActionKind, ActionStatus, Payment
from tools import quickbooks_map
from tools.action_model import ActionInfo
from tools.deps import ToolDeps

WRITABLE = frozenset({"quickbooks"})  # sources whose books take a written-back payment


def request_id(bank_payment_external_id: str) -> str:
    """One bank payment, one QuickBooks payment: retried, QuickBooks answers the first."""
    return quickbooks_map.request_id(f"bank-payment-{bank_payment_external_id}")


def queue_books_payments(
    session: Session, payments: Sequence[Payment], *, by: str, now: datetime
) -> list[int]:
    """One approved action per applied bank payment whose invoice's books take it; ids."""
    refs = books_invoices(session, [p.invoice_id for p in payments if p.invoice_id])
    queued = []
    for p in payments:
        inv = refs.get(p.invoice_id) if p.invoice_id else None
        if inv is None or inv.source not in WRITABLE:
            continue
        payload: dict[str, Any] = {
            "source": inv.source,
            "invoice": {"id": p.invoice_id, "external_id": inv.external_id, "number": inv.number},
            "customer_external_id": inv.customer_external_id,
            "amount_minor": p.amount_minor,
            "currency": p.currency,
            "paid_on": p.paid_at.date().isoformat(),
            "bank_payment": p.external_id,
            "request_id": request_id(p.external_id),
        }
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


def post(deps: ToolDeps, a: ActionInfo) -> dict[str, Any]:
    """Record the payment in the books; what the audit row of `done` keeps."""
    from tools import quickbooks_write  # the vendor client, loaded only to post

    p = a.payload
    payment_id = quickbooks_write.post_payment(
        deps,
        request_id=str(p["request_id"]),
        invoice_external_id=str(p["invoice"]["external_id"]),
        customer_external_id=str(p["customer_external_id"]),
        amount_minor=int(p["amount_minor"]),
        currency=str(p["currency"]),
        on=datetime.fromisoformat(str(p["paid_on"])).date(),
        note=f"Bank receipt {p['bank_payment']} applied in Slack (arbot action {a.id})",
    )
    return {"quickbooks_payment_id": payment_id, "quickbooks_request_id": p["request_id"]}


def record(session: Session, a: ActionInfo, posted: dict[str, Any]) -> None:
    """The bank's payment row becomes the books' row of the posted Payment."""
    p = a.payload
    books_id = f"{posted['quickbooks_payment_id']}:{p['invoice']['external_id']}"
    move_payment(
        session,
        ("bank", str(p["bank_payment"])),
        (str(p["source"]), books_id),
        int(p["invoice"]["id"]),
    )
