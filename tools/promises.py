"""Record what a customer told a collector: a promise to pay, or a dispute note.

A promise not yet due stops reminders for the invoice (or the whole customer when no invoice
is named), which tools.dunning checks both when drafting and again before sending. A promise
must fall between today and ARBOT_PROMISE_MAX_DAYS ahead, whoever records it, so no promise
dated 2099 can pause dunning for ever.

A person records directly (the alert's form). The agent only proposes (`propose_promise`,
`propose_dispute_note`): the record waits as an action of its own kind until a finance user
or an approver confirms it (`confirm_record`), because what a model reads (a dispute reason,
a memo) may be written by the customer.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from db.actions import insert_audit
from db.customers import customer_name
from db.disputes import open_dispute_for
from db.engine import transaction
from db.models import ActionKind, ActionStatus, Note, PromiseStatus, PromiseToPay
from db.promises import insert_note, insert_promise
from tools import actions
from tools.action_model import RECORD_KINDS
from tools.actions import ActionError, ActionInfo, Decision, Refused, now_utc
from tools.clock import today
from tools.deps import ToolDeps
from tools.errors import ToolInputError
from tools.invoice_lookup import resolve_invoice
from tools.money import MoneyError, format_money, parse_major
from tools.settings import Settings


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


def promise_date_refusal(settings: Settings, promised_on: date, now: datetime) -> str | None:
    """Why a promise cannot carry this date, or None: from today to PROMISE_MAX_DAYS ahead."""
    first = today(settings.tz, now)
    last = first + timedelta(days=settings.promise_max_days)
    if promised_on < first:
        return "a promise to pay must be dated today or later"
    if promised_on > last:
        return (
            f"a promise to pay must fall within {settings.promise_max_days} days, by "
            f"{last.isoformat()}; ask the customer for a nearer date"
        )
    return None


class _Checked(BaseModel):
    invoice_id: int
    customer_id: int
    label: str
    currency: str
    amount_minor: int


def _check_promise(deps: ToolDeps, args: PromiseInput, now: datetime) -> _Checked:
    """Every rule of a promise, or PromiseError naming the field at fault."""
    why = promise_date_refusal(deps.settings, args.promised_on, now)
    if why is not None:
        raise PromiseError("promised_on", why)
    try:
        ref = args.invoice_id if args.invoice_id is not None else str(args.invoice)
        invoice_id, customer_id, label, currency, total = _invoice(deps, ref)
    except ToolInputError as exc:
        raise PromiseError("invoice", str(exc)) from None
    try:
        amount = parse_major(args.amount, currency) if args.amount else total
    except MoneyError as exc:
        raise PromiseError("amount", str(exc)) from None
    return _Checked(
        invoice_id=invoice_id,
        customer_id=customer_id,
        label=label,
        currency=currency,
        amount_minor=amount,
    )


def _insert_promise(
    session: Session, c: _Checked, promised_on: date, by: str, now: datetime
) -> PromiseRecorded:
    pid = insert_promise(
        session,
        PromiseToPay(
            customer_id=c.customer_id,
            invoice_id=c.invoice_id,
            amount_minor=c.amount_minor,
            currency=c.currency,
            promised_on=promised_on,
            status=PromiseStatus.OPEN,
            recorded_by=by,
            created_at=now,
        ),
    )
    insert_audit(
        session,
        actor=by,
        event="promise_recorded",
        entity="invoice",
        entity_id=str(c.invoice_id),
        before=None,
        after={"promised_on": promised_on.isoformat(), "amount_minor": c.amount_minor},
        at=now,
    )
    return PromiseRecorded(
        promise_id=pid,
        invoice_label=c.label,
        amount_minor=c.amount_minor,
        currency=c.currency,
        promised_on=promised_on,
    )


def record_promise(
    deps: ToolDeps, args: PromiseInput, *, now: datetime | None = None
) -> PromiseRecorded:
    now = now or now_utc()
    checked = _check_promise(deps, args, now)
    with transaction(deps.sessions) as session:
        return _insert_promise(session, checked, args.promised_on, args.recorded_by, now)


def _insert_note(
    session: Session, invoice_id: int, customer_id: int, label: str, text: str, by: str,
    now: datetime,
) -> NoteRecorded:  # fmt: skip
    dispute = open_dispute_for(session, invoice_id)
    nid = insert_note(
        session,
        Note(
            customer_id=customer_id,
            invoice_id=invoice_id,
            dispute_id=dispute.id if dispute else None,
            author=by,
            body=text.strip(),
            created_at=now,
        ),
    )
    insert_audit(
        session,
        actor=by,
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


def record_dispute_note(
    deps: ToolDeps, args: DisputeNoteInput, *, now: datetime | None = None
) -> NoteRecorded:
    now = now or now_utc()
    try:
        invoice_id, customer_id, label, _cur, _total = _invoice(deps, args.invoice)
    except ToolInputError as exc:
        raise ActionError(str(exc)) from None
    with transaction(deps.sessions) as session:
        return _insert_note(session, invoice_id, customer_id, label, args.text, args.author, now)


# --- proposed by the agent, confirmed by a person ------------------------------------------


def _customer_name(deps: ToolDeps, customer_id: int) -> str:
    with deps.sessions() as session:
        found = customer_name(session, customer_id)
        return found.name if found else str(customer_id)


def propose_promise(
    deps: ToolDeps, args: PromiseInput, *, now: datetime | None = None
) -> ActionInfo:
    """The promise, checked by every rule, waiting for a person to confirm; nothing recorded."""
    now = now or now_utc()
    c = _check_promise(deps, args, now)
    payload = {
        "customer_name": _customer_name(deps, c.customer_id),
        "invoice": {"label": c.label},
        "promised_on": args.promised_on.isoformat(),
        "amount_minor": c.amount_minor,
        "currency": c.currency,
        "amount": format_money(c.amount_minor, c.currency),
    }
    return actions.create(
        deps,
        kind=ActionKind.PROMISE_TO_PAY,
        customer_id=c.customer_id,
        invoice_id=c.invoice_id,
        payload=payload,
        proposed_by=args.recorded_by,
        now=now,
    )


def propose_dispute_note(
    deps: ToolDeps, args: DisputeNoteInput, *, now: datetime | None = None
) -> ActionInfo:
    """The dispute note waiting for a person to confirm; nothing recorded."""
    try:
        invoice_id, customer_id, label, _cur, _total = _invoice(deps, args.invoice)
    except ToolInputError as exc:
        raise ActionError(str(exc)) from None
    payload = {
        "customer_name": _customer_name(deps, customer_id),
        "invoice": {"label": label},
        "text": args.text.strip(),
    }
    return actions.create(
        deps,
        kind=ActionKind.DISPUTE_NOTE,
        customer_id=customer_id,
        invoice_id=invoice_id,
        payload=payload,
        proposed_by=args.author,
        now=now,
    )


def confirm_refusal(settings: Settings, a: ActionInfo, user: str, *, finance: bool) -> str | None:
    """Why `user` may not confirm this record, or None. A finance user or an approver may,
    the asker included: they could record it themselves with the alert's form; the point is
    that a person reads what the model proposed before it is written."""
    if a.kind not in RECORD_KINDS:
        return "Only proposed promises and dispute notes are confirmed; this needs approval."
    if not finance and user not in settings.approvers:
        return "Only the finance team (ARBOT_FINANCE_USERS) or approvers can confirm this."
    return None


def confirm_record(
    deps: ToolDeps, action_id: int, user: str, *, finance: bool, now: datetime | None = None
) -> Decision:
    """Write the proposed promise or note, once: the action turns done in the same
    transaction, so of two clicks one records and the other is told who did."""
    now = now or now_utc()
    a = actions.open_for_decision(deps, action_id, now)
    why = confirm_refusal(deps.settings, a, user, finance=finance)
    if why is not None:
        raise Refused(why)
    p = a.payload
    if a.invoice_id is None:
        raise Refused("This record names no invoice; discard it and propose it again.")
    if a.kind == ActionKind.PROMISE_TO_PAY:
        promised_on = date.fromisoformat(p["promised_on"])
        args = PromiseInput(
            invoice_id=a.invoice_id,
            promised_on=promised_on,
            amount=None,
            recorded_by=user,
        )
        checked = _check_promise(deps, args, now).model_copy(
            update={"amount_minor": int(p["amount_minor"])}
        )
    with transaction(deps.sessions) as session:
        won = actions.transition(
            session,
            a,
            to=ActionStatus.DONE,
            actor=user,
            event="confirmed",
            at=now,
            values={"decided_by": user, "decided_at": now},
        )
        if not won:
            raise actions.AlreadyDecided("Someone confirmed or discarded this first.")
        if a.kind == ActionKind.PROMISE_TO_PAY:
            _insert_promise(session, checked, promised_on, user, now)
        else:
            label = str(p["invoice"]["label"])
            _insert_note(session, a.invoice_id, a.customer_id, label, p["text"], user, now)
    return Decision(action=actions.load(deps, action_id), outcome="confirmed", message="Recorded.")
