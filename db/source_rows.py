"""Lookups and stamps an accounting sync needs around db.ingest's upserts.

Rows of one outside document that its newest version omits:
An accounting payment applies to several documents and is keyed per (payment, document) in
the ledger. When the payment is edited to apply elsewhere, the rows for documents it dropped
must go to zero, or the old invoice would stay paid: these lookups find them, with what their
upsert needs, so the caller writes the zero through the usual staging path.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, or_, select, update

from db.models import CreditNote, Customer, Invoice, Payment
from db.stages import STAGE_INDEXES_READY, STAGES


def _under(column: Any, prefixes: list[str]) -> Any:
    """Ids starting with a prefix ending in ":", as index ranges (";" sorts right after ":")."""
    assert all(p.endswith(":") for p in prefixes)
    return or_(*(and_(column >= p, column < p[:-1] + ";") for p in prefixes))


_STAGE_INDEXES = STAGE_INDEXES_READY


def index_stages(conn: Connection) -> None:
    """Index the staging tables' reference columns, once per database connection: checks
    that join the staged rows to the ledger would otherwise scan the stage per ledger row."""
    info = conn.connection.info
    if not info.get(_STAGE_INDEXES):
        for table in STAGES.values():
            for index in table.indexes:
                index.create(conn, checkfirst=True)
        info[_STAGE_INDEXES] = True


def payment_rows_under(
    conn: Connection, source: str, prefixes: Collection[str]
) -> list[dict[str, Any]]:
    """Payments of `source` whose external id starts with one of `prefixes`, as staging rows."""
    return _payment_rows(
        conn, source, sorted(prefixes), lambda part: _under(Payment.external_id, part)
    )


def payment_rows_with_ids(
    conn: Connection, source: str, ids: Collection[str]
) -> list[dict[str, Any]]:
    """Payments of `source` with these external ids, as staging rows."""
    return _payment_rows(conn, source, sorted(ids), Payment.external_id.in_)


def _payment_rows(
    conn: Connection, source: str, items: list[str], where: Any
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
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
            .where(Payment.source == source, where(items[i : i + 200]))
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


def memos_with_method(
    conn: Connection, source: str, memo_ids: Collection[str], method: str
) -> frozenset[str]:
    """Which of these credit memos are stored (as `creditmemo:ID` credit rows) with `method`."""
    keys = [f"creditmemo:{m}" for m in memo_ids]
    found: set[str] = set()
    for i in range(0, len(keys), 500):
        query = select(Payment.external_id).where(
            Payment.source == source,
            Payment.method == method,
            Payment.external_id.in_(keys[i : i + 500]),
        )
        found.update(ext.split(":", 1)[1] for ext in conn.execute(query).scalars())
    return frozenset(found)


def write_off_by_external_id(
    conn: Connection, source: str, write_offs: Collection[tuple[str, datetime]]
) -> list[int]:
    """Stamp these invoices written off at the given instants, unless already written off;
    returns the ledger ids stamped, for the caller's settlement refresh."""
    stamped: list[int] = []
    for ext, at in write_offs:
        found = conn.execute(
            update(Invoice)
            .where(
                Invoice.source == source,
                Invoice.external_id == ext,
                Invoice.written_off_at.is_(None),
            )
            .values(written_off_at=at)
            .returning(Invoice.id)
        ).scalar_one_or_none()
        if found is not None:
            stamped.append(int(found))
    return stamped


def void_by_external_id(
    conn: Connection, source: str, voids: Collection[tuple[str, datetime]]
) -> list[int]:
    """Stamp these invoices voided at the given instants, unless already voided; returns the
    ledger ids stamped, for the caller's settlement refresh."""
    stamped: list[int] = []
    for ext, at in voids:
        found = conn.execute(
            update(Invoice)
            .where(
                Invoice.source == source, Invoice.external_id == ext, Invoice.voided_at.is_(None)
            )
            .values(voided_at=at)
            .returning(Invoice.id)
        ).scalar_one_or_none()
        if found is not None:
            stamped.append(int(found))
    return stamped


def any_written_off(conn: Connection, source: str) -> bool:
    query = select(Invoice.id).where(Invoice.written_off_at.is_not(None), Invoice.source == source)
    return conn.execute(query.limit(1)).first() is not None
