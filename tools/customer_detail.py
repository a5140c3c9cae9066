"""Everything about one customer in one answer: balance, open invoices, payments, disputes,
promises, notes and contacts.

The collector asks "what's going on with Acme?" before chasing; this gives the agent (and
anyone else) the whole picture from one call, bounded so a large account cannot flood a
prompt: each list keeps the newest rows and says how many more there are.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from db.disputes import customer_disputes
from db.invoices import open_invoices
from db.payments import recent_payments
from db.promises import customer_notes
from tools.buckets import days_past_due
from tools.clock import AsOfDate, day_cut, today
from tools.customer_lookup import resolve_customer
from tools.customers import InvoiceLine, invoice_line_fields
from tools.deps import ToolDeps
from tools.promise_outcome import promise_states


class CustomerDetailInput(BaseModel):
    customer: str = Field(description="customer name (a unique part is enough) or customer id")
    as_of: AsOfDate | None = Field(None, description="end-of-day date for balances; today if empty")
    max_rows: int = Field(10, ge=1, le=50, description="rows per list (invoices, payments, ...)")


class Contacts(BaseModel):
    billing_email: str | None
    ap_email: str | None
    account_owner_slack_id: str | None


class PaymentRow(BaseModel):
    paid_on: date
    currency: str
    amount_minor: int
    status: str
    method: str | None
    failure_reason: str | None
    invoice_number: str | None


class DisputeRow(BaseModel):
    kind: str
    currency: str
    amount_minor: int
    reason: str | None
    opened_on: date
    resolved_on: date | None
    outcome: str | None
    invoice_number: str | None


class PromiseRow(BaseModel):
    currency: str
    amount_minor: int
    promised_on: date
    status: str = Field(description="open, kept (paid in full by its day) or broken")
    invoice_number: str | None


class NoteRow(BaseModel):
    written_on: date
    author: str
    body: str


class CustomerDetail(BaseModel):
    customer_id: str
    name: str
    segment: str | None
    currency: str
    payment_terms_days: int | None
    credit_limit_minor: int | None
    do_not_dun: bool
    contacts: Contacts
    as_of: date
    balance_by_currency: dict[str, int] = Field(description="open amount per currency")
    past_due_by_currency: dict[str, int]
    open_invoice_count: int
    open_invoices: list[InvoiceLine]
    more_open_invoices: int
    recent_payments: list[PaymentRow]
    disputes: list[DisputeRow]
    promises: list[PromiseRow]
    notes: list[NoteRow]


def customer_detail(deps: ToolDeps, args: CustomerDetailInput) -> CustomerDetail:
    tz = deps.settings.tz
    as_of = args.as_of or today(tz)
    cut = day_cut(as_of, tz)
    n = args.max_rows
    with deps.sessions() as session:
        c = resolve_customer(session, args.customer)
        invoices = open_invoices(session, cut, customer_ids=[c.id])
        balance: dict[str, int] = {}
        past_due: dict[str, int] = {}
        for inv in invoices:
            balance[inv.currency] = balance.get(inv.currency, 0) + inv.open_minor
            if days_past_due(as_of, inv.due_on) > 0:
                past_due[inv.currency] = past_due.get(inv.currency, 0) + inv.open_minor
        # The oldest debts matter most to a collector: keep those when trimming.
        shown = invoices[:n]
        return CustomerDetail(
            customer_id=c.external_id,
            name=c.name,
            segment=c.segment,
            currency=c.currency,
            payment_terms_days=c.payment_terms_days,
            credit_limit_minor=c.credit_limit_minor,
            do_not_dun=c.do_not_dun,
            contacts=Contacts(
                billing_email=c.email, ap_email=c.ap_email, account_owner_slack_id=c.owner_slack_id
            ),
            as_of=as_of,
            balance_by_currency=balance,
            past_due_by_currency=past_due,
            open_invoice_count=len(invoices),
            open_invoices=[InvoiceLine(**invoice_line_fields(i, as_of, tz)) for i in shown],
            more_open_invoices=len(invoices) - len(shown),
            **_history(session, c.id, as_of, n, tz),
        )


def _history(
    session: Session, customer_id: int, as_of: date, n: int, tz: ZoneInfo
) -> dict[str, Any]:
    """The customer's recent payments, disputes, promises and notes, newest first."""
    cut = day_cut(as_of, tz)

    def day(stamp: datetime) -> date:
        return stamp.astimezone(tz).date()

    payments = [
        PaymentRow(
            paid_on=day(p.paid_at),
            currency=p.currency,
            amount_minor=p.amount_minor,
            status=p.status,
            method=p.method,
            failure_reason=p.failure_reason,
            invoice_number=number,
        )
        for p, number in recent_payments(session, customer_id, cut, n)
    ]
    disputes = [
        DisputeRow(
            kind=d.kind,
            currency=d.currency,
            amount_minor=d.amount_minor,
            reason=d.reason,
            opened_on=day(d.opened_at),
            resolved_on=day(d.resolved_at) if d.resolved_at else None,
            outcome=d.outcome,
            invoice_number=number,
        )
        for d, number in customer_disputes(session, customer_id, cut, n)
    ]
    states = promise_states(session, None, as_of, tz, customer_id, until=date.max)
    promises = [
        PromiseRow(
            currency=p.currency,
            amount_minor=p.amount_minor,
            promised_on=p.promised_on,
            status=state,
            invoice_number=p.invoice_number,
        )
        for p, _paid, state in reversed(states[-n:])
    ]
    notes = [
        NoteRow(written_on=day(note.created_at), author=note.author, body=note.body)
        for note in customer_notes(session, customer_id, min(n, 5))
    ]
    return {"recent_payments": payments, "disputes": disputes, "promises": promises, "notes": notes}
