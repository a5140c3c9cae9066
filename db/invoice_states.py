"""Each invoice's state at a cut-off, per source: what reconciliation compares.

One row per invoice issued before the cut-off, with its open amount there (the formula of
db.open_amounts) and a status: void or written off when that happened before the cut-off,
paid when nothing is left open, open otherwise. Settled invoices skip the open-amount
subqueries, which keeps a million-invoice source to one pass over the table.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, Select, case, distinct, func, literal, or_, select

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


def _states_query(cut: datetime, currency: str, sources: list[str] | None) -> Select[Any]:
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
            Customer.name.label("customer"),
            Invoice.issued_at,
            Invoice.total_minor,
            open_minor.label("open_minor"),
            status.label("status"),
        )
        .join(Customer, Customer.id == Invoice.customer_id)
        .where(Invoice.issued_at < cut, Invoice.currency == currency)
    )
    if sources:
        query = query.where(Invoice.source.in_(sources))
    return query


def states_to_compare(
    conn: Connection, *, cut: datetime, currency: str, sources: list[str]
) -> tuple[dict[str, int], list[InvoiceState]]:
    """(open total per source, the invoices a comparison must look at): those without a
    number, and those whose number is not held exactly once by every source with one total,
    open amount and status. Invoices that agree everywhere, nearly all of them, stay in SQL."""
    st = _states_query(cut, currency, sources).cte("st").prefix_with("MATERIALIZED")
    ar = {
        str(source): int(total or 0)
        for source, total in conn.execute(
            select(st.c.source, func.sum(st.c.open_minor)).group_by(st.c.source)
        )
    }
    key = func.trim(st.c.number)
    live = st.c.status != literal("void")
    n = len(sources)
    differing = (
        select(key)
        .where(key != "")
        .group_by(key)
        .having(
            or_(
                func.count() != n,
                func.count(distinct(st.c.source)) != n,
                func.count(distinct(st.c.status)) > 1,
                func.count(distinct(case((live, st.c.total_minor)))) > 1,
                func.count(distinct(case((live, st.c.open_minor)))) > 1,
            )
        )
    )
    rows = conn.execute(
        select(*st.c).where(or_(st.c.number.is_(None), key == "", key.in_(differing)))
    )
    return ar, [InvoiceState(*row) for row in rows]


def invoice_sources(conn: Connection) -> list[str]:
    """The sources the ledger holds invoices from."""
    return sorted(conn.execute(select(Invoice.source).distinct()).scalars())
