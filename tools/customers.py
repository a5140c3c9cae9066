"""Find a customer by a name as people type it, and show what they owe.

Names are matched fuzzily ("acme", "Acme Inc", "acmee") against the customer list; a clear
winner is "found", several close names are "ambiguous" (the bot asks back with buttons),
nothing close is "none". The balance uses the same SQL and currency conversion as the AR
report, so a customer's open amounts add up to what the report shows.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from db.customers import customer_name, segments
from db.invoices import OpenInvoiceRow, open_invoices
from tools.buckets import bucket_of, days_past_due, due_before
from tools.clock import AsOfDate, day_cut, today
from tools.customer_lookup import CustomerMatch, match_customer
from tools.deps import ToolDeps
from tools.metrics import Converter, by_bucket, converted_balance


class CustomerBalanceInput(BaseModel):
    customer: str | None = Field(None, description="customer name (fuzzy) or external id")
    customer_id: int | None = Field(None, description="internal id, when already resolved")
    as_of: AsOfDate | None = Field(None, description="end-of-day date; today if empty")


class InvoiceLine(BaseModel):
    invoice_id: int
    number: str | None
    external_id: str
    currency: str
    total_minor: int
    open_minor: int
    issued_on: date
    due_on: date
    days_past_due: int
    bucket: str


class CustomerBalance(BaseModel):
    customer_id: int
    name: str
    external_id: str
    as_of: date
    currency: str = Field(description="reporting currency of the converted totals")
    balance_minor: int = Field(description="open amount, converted to the reporting currency")
    past_due_minor: int
    aging_minor: dict[str, int]
    balance_by_currency: dict[str, int] = Field(description="open minor units per currency")
    invoice_count: int
    invoices: list[InvoiceLine] = Field(description="open invoices, oldest due first")


def customer_balance(deps: ToolDeps, args: CustomerBalanceInput) -> CustomerBalance | CustomerMatch:
    """The balance and open invoices of one customer, or the match result when not unique."""
    customer_id = args.customer_id
    if customer_id is None:
        with deps.sessions() as session:
            match = match_customer(session, args.customer or "")
        if match.status != "found":
            return match
        customer_id = match.candidates[0].customer_id
    s = deps.settings
    as_of = args.as_of or today(s.tz)
    cut = day_cut(as_of, s.tz)
    with deps.sessions() as session:
        who = customer_name(session, customer_id)
        if who is None:
            return CustomerMatch(query=str(customer_id), status="none")
        fx = Converter(session, s.reporting_currency, as_of)
        rows = open_invoices(session, cut, customer_ids=[customer_id])
        converted = converted_balance(fx, by_bucket(rows, as_of))
    by_currency: dict[str, int] = {}
    for r in rows:
        by_currency[r.currency] = by_currency.get(r.currency, 0) + r.open_minor
    lines = [InvoiceLine(**invoice_line_fields(r, as_of, s.tz)) for r in rows]
    return CustomerBalance(
        customer_id=who.id,
        name=who.name,
        external_id=who.external_id,
        as_of=as_of,
        currency=s.reporting_currency,
        balance_minor=converted.balance_minor,
        past_due_minor=sum(v for b, v in converted.aging_minor.items() if b != "current"),
        aging_minor=converted.aging_minor,
        balance_by_currency={c: v for c, v in by_currency.items() if v},
        invoice_count=len(lines),
        invoices=lines,
    )


class OpenInvoicesInput(BaseModel):
    as_of: AsOfDate | None = Field(None, description="end-of-day date; today if empty")
    customer_id: int | None = Field(None, description="one customer; all when empty")
    more_than_days: int | None = Field(
        None, description="only invoices more than this many days past due; all open if empty"
    )


class OpenInvoiceLine(InvoiceLine):
    customer_id: int
    customer_name: str


def open_invoice_lines(deps: ToolDeps, args: OpenInvoicesInput) -> list[OpenInvoiceLine]:
    """The invoices behind AR, aging and overdue figures, oldest due date first."""
    s = deps.settings
    as_of = args.as_of or today(s.tz)
    before = None if args.more_than_days is None else due_before(as_of, args.more_than_days)
    with deps.sessions() as session:
        rows = open_invoices(
            session,
            day_cut(as_of, s.tz),
            customer_ids=None if args.customer_id is None else [args.customer_id],
            due_before=before,
        )
    return [
        OpenInvoiceLine(
            **invoice_line_fields(r, as_of, s.tz),
            customer_id=r.customer_id,
            customer_name=r.customer_name,
        )
        for r in rows
    ]


def invoice_line_fields(r: OpenInvoiceRow, as_of: date, tz: ZoneInfo) -> dict[str, Any]:
    """An open invoice as every answer lists it: days past due (negative: not yet due) and
    its aging bucket."""
    days = days_past_due(as_of, r.due_on)
    return {
        "invoice_id": r.invoice_id,
        "number": r.number,
        "external_id": r.external_id,
        "currency": r.currency,
        "total_minor": r.total_minor,
        "open_minor": r.open_minor,
        "issued_on": r.issued_at.astimezone(tz).date(),
        "due_on": r.due_on,
        "days_past_due": days,
        "bucket": bucket_of(days),
    }


def segment_names(deps: ToolDeps) -> list[str]:
    """The segments on record: the words the question router recognises as a segment."""
    with deps.sessions() as session:
        return segments(session)
