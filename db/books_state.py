"""What the accounting connectors remember between runs besides their cursors.

`books_write_offs`: which document wrote an invoice off (a bad-debt credit note's allocation,
a payment applying a bad-debt credit memo). The books record a write-off as a document, not
as a stamp on the invoice, so when that document is voided, deleted or unallocated the
ledger's stamp must go, and only the document that made it can tell.

`books_pending`: objects read before the object they point at (a payment of an invoice
created while the sync was past invoices). They wait here, as read, and are applied again
after each run's parents until their parent arrives.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import Connection, String, Text, and_, delete, false, func, insert, or_, select
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from db.models import Base, utcnow


class BooksWriteOff(Base):
    __tablename__ = "books_write_offs"

    source: Mapped[str] = mapped_column(String(20), primary_key=True)
    invoice_ext: Mapped[str] = mapped_column(String(255), primary_key=True)
    # The row key of the allocation that wrote the invoice off, "DOCUMENT-ID:...".
    cause: Mapped[str] = mapped_column(String(512), index=True)


class BooksPending(Base):
    __tablename__ = "books_pending"

    source: Mapped[str] = mapped_column(String(20), primary_key=True)
    entity: Mapped[str] = mapped_column(String(40), primary_key=True)
    object_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    body: Mapped[str] = mapped_column(Text)  # the object as read, JSON
    reason: Mapped[str] = mapped_column(Text)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


def record_write_offs(conn: Connection, source: str, causes: dict[str, str]) -> None:
    """invoice external id -> the allocation that wrote it off."""
    for invoice, cause in causes.items():
        conn.execute(
            delete(BooksWriteOff).where(
                BooksWriteOff.source == source, BooksWriteOff.invoice_ext == invoice
            )
        )
        conn.execute(insert(BooksWriteOff).values(source=source, invoice_ext=invoice, cause=cause))


def write_offs_by(conn: Connection, source: str, prefixes: Collection[str]) -> dict[str, str]:
    """invoice external id -> cause, for causes under one of the document `prefixes`
    ("DOCUMENT-ID:")."""
    if not prefixes:
        return {}
    held = conn.execute(
        select(func.count()).select_from(BooksWriteOff).where(BooksWriteOff.source == source)
    ).scalar_one()
    if not held:
        return {}  # the common case: a page of documents and no write-off to look up
    if held <= SCAN_AT_MOST:
        # Few write-offs (one per written-off invoice): reading them all costs less than a
        # range per document, which a page of a thousand documents would send.
        wanted = set(prefixes)
        query = select(BooksWriteOff.invoice_ext, BooksWriteOff.cause).where(
            BooksWriteOff.source == source
        )
        return {
            str(inv): str(cause)
            for inv, cause in conn.execute(query)
            if any(p in wanted for p in _doc_prefixes(str(cause)))
        }
    out: dict[str, str] = {}
    items = sorted(prefixes)
    for i in range(0, len(items), 200):
        chunk = items[i : i + 200]
        query = select(BooksWriteOff.invoice_ext, BooksWriteOff.cause).where(
            BooksWriteOff.source == source,
            _starts(chunk),
        )
        out.update({str(inv): str(cause) for inv, cause in conn.execute(query)})
    return out


SCAN_AT_MOST = 5_000


def _doc_prefixes(cause: str) -> list[str]:
    """Every prefix of `cause` that ends in ":" (a document id may hold one itself)."""
    return [cause[: i + 1] for i, ch in enumerate(cause) if ch == ":"]


def _starts(prefixes: list[str]) -> ColumnElement[bool]:
    """Causes under one of the prefixes (each ends in ":"), as index ranges (";" follows ":")."""
    if not prefixes:
        return false()
    c = BooksWriteOff.cause
    return or_(*(and_(c >= p, c < p[:-1] + ";") for p in prefixes))


def forget_write_offs(conn: Connection, source: str, invoices: Collection[str]) -> None:
    if invoices:
        conn.execute(
            delete(BooksWriteOff).where(
                BooksWriteOff.source == source, BooksWriteOff.invoice_ext.in_(list(invoices))
            )
        )


def keep_pending(
    conn: Connection, source: str, entity: str, items: dict[str, tuple[str, str]]
) -> None:
    """object id -> (body JSON, reason): objects waiting for their parent."""
    for oid, (body, reason) in items.items():
        conn.execute(
            delete(BooksPending).where(
                BooksPending.source == source,
                BooksPending.entity == entity,
                BooksPending.object_id == oid,
            )
        )
        conn.execute(
            insert(BooksPending).values(
                source=source,
                entity=entity,
                object_id=oid,
                body=body,
                reason=reason,
                first_seen_at=utcnow(),
            )
        )


def pending(conn: Connection, source: str, entity: str) -> dict[str, str]:
    """object id -> body JSON of the objects of `entity` waiting for their parent."""
    query = select(BooksPending.object_id, BooksPending.body).where(
        BooksPending.source == source, BooksPending.entity == entity
    )
    return {str(oid): str(body) for oid, body in conn.execute(query)}


def drop_pending(conn: Connection, source: str, entity: str, ids: Collection[str]) -> None:
    if ids:
        conn.execute(
            delete(BooksPending).where(
                BooksPending.source == source,
                BooksPending.entity == entity,
                BooksPending.object_id.in_(list(ids)),
            )
        )
