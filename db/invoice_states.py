"""Each invoice's state at a cut-off, per source: what reconciliation compares.

One row per invoice issued before the cut-off, with its open amount there (the formula of
db.open_amounts) and a status: void or written off when that happened before the cut-off,
paid when nothing is left open, open otherwise. Settled invoices skip the open-amount
subqueries, which keeps a million-invoice source to one pass over the table.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, case, literal, select

from db.models import Customer, Invoice
from db.open_amounts import open_amount_at


class InvoiceState(NamedTuple):
    source: str
    external_id: str
    number: str | None
    customer: str
    issued_at: datetime
    total_minor: int
    open_minor: int
    status: str


def invoice_states_at(
    conn: Connection, *, cut: datetime, currency: str, sources: list[str] | None = None
) -> Iterator[InvoiceState]:
    settled_before = Invoice.settled_at.is_not(None) & (Invoice.settled_at < cut)
    status = case(
        (Invoice.voided_at.is_not(None) & (Invoice.voided_at < cut), literal("void")),
        (
            Invoice.written_off_at.is_not(None) & (Invoice.written_off_at < cut),
            literal("written_off"),
        ),
        (settled_before, literal("paid")),
        else_=literal("open"),
    )
    open_minor = case((settled_before, literal(0)), else_=open_amount_at(cut))
    query = (
        select(
            Invoice.source,
            Invoice.external_id,
            Invoice.number,
            Customer.name,
            Invoice.issued_at,
            Invoice.total_minor,
            open_minor,
            status,
        )
        .join(Customer, Customer.id == Invoice.customer_id)
        .where(Invoice.issued_at < cut, Invoice.currency == currency)
    )
    if sources:
        query = query.where(Invoice.source.in_(sources))
    for row in conn.execute(query.execution_options(yield_per=10_000)):
        yield InvoiceState(*row)


def invoice_sources(conn: Connection) -> list[str]:
    """The sources the ledger holds invoices from."""
    return sorted(conn.execute(select(Invoice.source).distinct()).scalars())
