"""The Stripe sync's own queries: links, cursors, processed events, and what already exists.

Rows themselves go through db.ingest (staging + upsert); this module holds the few lookups
the Stripe mapping needs around it, so no SQL lives in tools/.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ARRAY,
    Connection,
    Engine,
    String,
    Table,
    any_,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateTable

from db.bulk import empty, write_rows
from db.models import Customer, Dispute, Invoice, ProcessedEvent, StripeLink, SyncCursor
from db.stages import STAGES, STAGES_READY, analyze_stage

Link = tuple[str | None, str | None]  # (customer external id, invoice external id)


def _chunks(ids: Collection[str], size: int = 500) -> Iterable[list[str]]:
    items = list(ids)
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _among(conn: Connection, column: Any, ids: Collection[str]) -> Iterable[Any]:
    """`column IN ids` as few statements as the database allows: one array parameter on
    PostgreSQL (a statement with 500 parameters costs more to build and parse than to run,
    and a backfill batch asks for a thousand ids), chunks of 500 parameters on SQLite."""
    if not ids:
        return
    if conn.dialect.name == "postgresql":
        yield column == any_(bindparam(None, list(ids), type_=ARRAY(String)))
        return
    for chunk in _chunks(ids):
        yield column.in_(chunk)


_EXTERNAL: dict[str, type[Customer] | type[Invoice] | type[Dispute]] = {
    "customers": Customer,
    "invoices": Invoice,
    "disputes": Dispute,
}


_STAGES_READY = STAGES_READY


def prepare_stages(conn: Connection) -> None:
    """Make sure db.ingest's staging tables exist on this connection, without re-creating them.

    `ingest.create_stages` drops and re-creates them (with a catalogue lookup each), which is
    most of a page's database time in a backfill. Temporary tables live as long as the
    database connection, so they are created once per pooled connection; `clear_stages`
    empties what a page used.
    """
    info = conn.connection.info
    if not info.get(_STAGES_READY):
        for entity, table in STAGES.items():
            conn.execute(CreateTable(table, if_not_exists=True))
            conn.execute(table.delete())
            analyze_stage(conn, entity)
        info[_STAGES_READY] = True


def clear_stages(conn: Connection, entities: Collection[str]) -> None:
    empty(conn, [STAGES[entity].name for entity in sorted(entities)])


def analyze_ledger(conn: Connection) -> None:
    """Refresh PostgreSQL's statistics on the tables a backfill is filling.

    Autovacuum analyzes a table only after it has grown a while; until then the planner
    believes it nearly empty and joins the staged rows against it with full scans, so every
    page costs more than the last. The syncs call this each time their pages double
    (`StatisticsDue`).
    """
    if conn.dialect.name == "postgresql":
        for table in ("customers", "invoices", "payments", "credit_notes", "stripe_links"):
            conn.execute(text(f"ANALYZE {table}"))


class StatisticsDue:
    """When a sync filling the ledger next refreshes its statistics (`analyze_ledger`): after
    its first batch, then whenever the pages written have doubled since. Plans change with the
    order of magnitude of a table, and each ANALYZE of a grown table costs more, so a fixed
    interval would pay ever more for the same plans."""

    def __init__(self) -> None:
        self.at_pages = 1

    def after(self, engine: Engine, pages: int) -> None:
        """Called after each committed batch with the pages written so far."""
        if pages >= self.at_pages:
            with engine.begin() as conn:
                analyze_ledger(conn)
            self.at_pages = pages * 2


def existing_ids(conn: Connection, table: str, source: str, ids: Collection[str]) -> set[str]:
    """Which of these external ids the ledger already has in `table`."""
    model = _EXTERNAL[table]
    found: set[str] = set()
    for among in _among(conn, model.external_id, ids):
        query = select(model.external_id).where(model.source == source, among)
        found.update(conn.execute(query).scalars())
    return found


def invoice_stamps(
    conn: Connection, source: str, ids: Collection[str]
) -> dict[str, tuple[datetime | None, datetime | None]]:
    """(voided_at, written_off_at) already stored, so an older snapshot never clears them."""
    out: dict[str, tuple[datetime | None, datetime | None]] = {}
    for among in _among(conn, Invoice.external_id, ids):
        query = select(Invoice.external_id, Invoice.voided_at, Invoice.written_off_at).where(
            Invoice.source == source,
            among,
            (Invoice.voided_at.is_not(None)) | (Invoice.written_off_at.is_not(None)),
        )
        for ext, voided, written in conn.execute(query):
            out[ext] = (voided, written)
    return out


def invoice_ids(conn: Connection, source: str, ids: Collection[str]) -> list[int]:
    """The ledger ids of these invoices of `source`."""
    found: list[int] = []
    for among in _among(conn, Invoice.external_id, ids):
        query = select(Invoice.id).where(Invoice.source == source, among)
        found += conn.execute(query).scalars()
    return found


def invoice_customers(conn: Connection, source: str, ids: Collection[str]) -> dict[str, str]:
    """The customer external id of each known invoice."""
    out: dict[str, str] = {}
    for among in _among(conn, Invoice.external_id, ids):
        query = (
            select(Invoice.external_id, Customer.external_id)
            .join(Customer, Customer.id == Invoice.customer_id)
            .where(Invoice.source == source, among)
        )
        out.update({inv: cus for inv, cus in conn.execute(query)})
    return out


def dispute_ids(conn: Connection, source: str, ids: Collection[str]) -> dict[str, int]:
    """Ledger ids of these disputes, by external id."""
    out: dict[str, int] = {}
    for among in _among(conn, Dispute.external_id, ids):
        query = select(Dispute.external_id, Dispute.id).where(Dispute.source == source, among)
        out.update({ext: int(i) for ext, i in conn.execute(query)})
    return out


def links(conn: Connection, ids: Collection[str]) -> dict[str, Link]:
    out: dict[str, Link] = {}
    for among in _among(conn, StripeLink.object_id, ids):
        query = select(
            StripeLink.object_id, StripeLink.customer_external_id, StripeLink.invoice_external_id
        ).where(among)
        out.update({obj: (cus, inv) for obj, cus, inv in conn.execute(query)})
    return out


def save_links(conn: Connection, rows: Mapping[str, Link]) -> None:
    """Insert or refresh links; a known invoice is never forgotten by a later, vaguer row."""
    if not rows:
        return
    known = links(conn, rows.keys())
    new = [(k, c, i) for k, (c, i) in rows.items() if k not in known]
    changed = [
        {"k": k, "c": c or known[k][0], "i": i or known[k][1]}
        for k, (c, i) in rows.items()
        if k in known and (c or known[k][0], i or known[k][1]) != known[k]
    ]
    # One COPY (PostgreSQL) or executemany for the new links of a backfill batch.
    write_rows(conn, cast(Table, StripeLink.__table__), new)
    if changed:
        conn.execute(
            update(StripeLink)
            .where(StripeLink.object_id == bindparam("k"))
            .values(customer_external_id=bindparam("c"), invoice_external_id=bindparam("i")),
            changed,
        )


def get_cursor(conn: Connection, name: str) -> str | None:
    return conn.execute(
        select(SyncCursor.value).where(SyncCursor.name == name)
    ).scalar_one_or_none()


def set_cursor(conn: Connection, name: str, value: str) -> None:
    updated = conn.execute(
        update(SyncCursor).where(SyncCursor.name == name).values(value=value, updated_at=func.now())
    )
    if updated.rowcount == 0:
        conn.execute(insert(SyncCursor).values(name=name, value=value))


def delete_cursor(conn: Connection, name: str) -> None:
    conn.execute(delete(SyncCursor).where(SyncCursor.name == name))


def claim_events(conn: Connection, source: str, event_ids: Collection[str]) -> set[str]:
    """Record these event ids as processed; return those not processed before.

    `ON CONFLICT DO NOTHING` makes two concurrent deliveries of one event (webhook and
    incremental sync) agree: exactly one of them claims it.
    """
    ids = list(dict.fromkeys(event_ids))
    if not ids:
        return set()
    insert_ = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = (
        insert_(ProcessedEvent)
        .values([{"source": source, "event_id": i} for i in ids])
        .on_conflict_do_nothing(index_elements=["source", "event_id"])
        .returning(ProcessedEvent.event_id)
    )
    return set(conn.execute(stmt).scalars())
