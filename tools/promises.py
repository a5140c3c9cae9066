"""Record what a customer told a collector: a promise to pay, or a dispute note.

A promise not yet due stops reminders for the invoice (or the whole customer when no invoice
is named), which tools.dunning checks both when drafting and again before sending.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from db.actions import insert_audit
from db.disputes import open_dispute_for
from db.engine import transaction
from db.models import Note, PromiseStatus, PromiseToPay
from db.promises import insert_note, insert_promise
from tools.actions import ActionError, now_utc
from tools.clock import today
from tools.deps import ToolDeps
from tools.errors import ToolInputError
from tools.invoice_lookup import resolve_invoice
from tools.money import MoneyError, parse_major


class PromiseInput(BaseModel):
    invoice: str | None = Field(None, min_length=1, description="invoice number or external id")
    invoice_id: int | None = Field(None, description="internal id, from a form's invoice list")
    promised_on: date = Field(description="the date the customer said they will pay")
    amount: str | None = Field(None, description="amount promised in major units; open if empty")
    recorded_by: str = Field(min_length=1)

    def model_post_init(self, _context: Any) -> None:
        if self.invoice is None and self.invoice_id is None:
            raise ValueError("name the invoice the customer promised to pay")


class PromiseError(ActionError):
    """A promise that cannot be recorded; `field` names the PromiseInput field at fault, so a
    form can show the message under that input."""

    def __init__(self, field: Literal["invoice", "promised_on", "amount"], message: str) -> None:
        super().__init__(message)
        self.field = field


class PromiseRecorded(BaseModel):
    promise_id: int
    invoice_label: str
    amount_minor: int
    currency: str
    promised_on: date


class DisputeNoteInput(BaseModel):
    invoice: str = Field(min_length=1, description="invoice number, external id or id")
    text: str = Field(min_length=3, max_length=5000, description="what the customer disputes")
    author: str = Field(min_length=1)


class NoteRecorded(BaseModel):
    note_id: int
    invoice_label: str
    dispute_id: int | None


def _invoice(deps: ToolDeps, ref: str | int) -> tuple[int, int, str, str, int]:
    """(id, customer id, label, currency, total) of the invoice; ToolInputError if none."""
    with deps.sessions() as session:
        inv = resolve_invoice(session, ref)
        return inv.id, inv.customer_id, inv.number or inv.external_id, inv.currency, inv.total_minor


def record_promise(
    deps: ToolDeps, args: PromiseInput, *, now: datetime | None = None
) -> PromiseRecorded:
    now = now or now_utc()
    if args.promised_on < today(deps.settings.tz, now):
        raise PromiseError("promised_on", "a promise to pay must be dated today or later")
    try:
        ref = args.invoice_id if args.invoice_id is not None else str(args.invoice)
        invoice_id, customer_id, label, currency, total = _invoice(deps, ref)
    except ToolInputError as exc:
        raise PromiseError("invoice", str(exc)) from None
    try:
        amount = parse_major(args.amount, currency) if args.amount else total
    except MoneyError as exc:
        raise PromiseError("amount", str(exc)) from None
    with transaction(deps.sessions) as session:
        pid = insert_promise(
            session,
            PromiseToPay(
                customer_id=customer_id,
                invoice_id=invoice_id,
                amount_minor=amount,
                currency=currency,
                promised_on=args.promised_on,
                status=PromiseStatus.OPEN,
                recorded_by=args.recorded_by,
                created_at=now,
            ),
        )
        insert_audit(
            session,
            actor=args.recorded_by,
            event="promise_recorded",
            entity="invoice",
            entity_id=str(invoice_id),
            before=None,
            after={"promised_on": args.promised_on.isoformat(), "amount_minor": amount},
            at=now,
        )
    return PromiseRecorded(
        promise_id=pid,
        invoice_label=label,
        amount_minor=amount,
        currency=currency,
        promised_on=args.promised_on,
    )


def record_dispute_note(
    deps: ToolDeps, args: DisputeNoteInput, *, now: datetime | None = None
) -> NoteRecorded:
    now = now or now_utc()
    try:
        invoice_id, customer_id, label, _cur, _total = _invoice(deps, args.invoice)
    except ToolInputError as exc:
        raise ActionError(str(exc)) from None
    with transaction(deps.sessions) as session:
        dispute = open_dispute_for(session, invoice_id)
        nid = insert_note(
            session,
            Note(
                customer_id=customer_id,
                invoice_id=invoice_id,
                dispute_id=dispute.id if dispute else None,
                author=args.author,
                body=args.text.strip(),
                created_at=now,
            ),
        )
        insert_audit(
            session,
            actor=args.author,
            event="dispute_note",
            entity="invoice",
            entity_id=str(invoice_id),
            before=None,
            after={"note_id": nid},
            at=now,
        )
    return NoteRecorded(
        note_id=nid, invoice_label=label, dispute_id=dispute.id if dispute else None
    )
