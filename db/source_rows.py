"""Rows of one outside document that a newer version of it no longer lists.

An accounting payment applies to several documents and is keyed per (payment, document) in
the ledger. When the payment is edited to apply elsewhere, the rows for documents it dropped
must go to zero, or the old invoice would stay paid: these lookups find them, with what their
upsert needs, so the caller writes the zero through the usual staging path.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Connection, or_, select

from db.models import CreditNote, Customer, Invoice, Payment


def _under(column: Any, prefixes: list[str]) -> Any:
    return or_(*(column.startswith(p, autoescape=True) for p in prefixes))


def payment_rows_under(
    conn: Connection, source: str, prefixes: Collection[str]
) -> list[dict[str, Any]]:
    """Payments of `source` whose external id starts with one of `prefixes`, as staging rows."""
    out: list[dict[str, Any]] = []
    items = sorted(prefixes)
    for i in range(0, len(items), 200):
        query = (
            select(
                Payment.external_id,
                Customer.external_id,
                Invoice.external_id,
                Payment.currency,
                Payment.paid_at,
                Payment.status,
                Payment.method,
            )
            .join(Customer, Customer.id == Payment.customer_id)
            .outerjoin(Invoice, Invoice.id == Payment.invoice_id)
            .where(Payment.source == source, _under(Payment.external_id, items[i : i + 200]))
        )
        for ext, cus, inv, cur, at, status, method in conn.execute(query):
            out.append(
                {
                    "external_id": ext,
                    "customer_ext": cus,
                    "invoice_ext": inv,
                    "currency": cur,
                    "paid_at": at,
                    "status": status,
                    "method": method,
                    "failure_reason": None,
                }
            )
    return out


def credit_rows_under(
    conn: Connection, source: str, prefixes: Collection[str]
) -> list[dict[str, Any]]:
    """Credit notes of `source` whose external id starts with one of `prefixes`."""
    out: list[dict[str, Any]] = []
    items = sorted(prefixes)
    for i in range(0, len(items), 200):
        query = (
            select(CreditNote.external_id, Invoice.external_id, CreditNote.currency)
            .add_columns(CreditNote.issued_at)
            .join(Invoice, Invoice.id == CreditNote.invoice_id)
            .where(CreditNote.source == source, _under(CreditNote.external_id, items[i : i + 200]))
        )
        for ext, inv, cur, at in conn.execute(query):
            out.append({"external_id": ext, "invoice_ext": inv, "currency": cur, "issued_at": at})
    return out
