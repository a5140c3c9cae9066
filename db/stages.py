"""The temporary staging tables outside rows are loaded into before db.ingest checks and
upserts them: one per entity, `line` first (the file line or position to blame)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Date,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    text,
)

from db.types import UTCDateTime

_stage_meta = MetaData()


def _stage(name: str, *columns: Column[Any]) -> Table:
    # Reference columns are indexed: without them a planner may loop over the ledger and scan
    # the staging table for every row, which is quadratic on a million-row import.
    table = Table(
        f"stage_{name}",
        _stage_meta,
        Column("line", Integer, nullable=False),
        *columns,
        prefixes=["TEMPORARY"],
    )
    for col in ("external_id", "customer_ext", "invoice_ext"):
        if col in table.c:
            Index(f"ix_stage_{name}_{col}", table.c[col])
    return table


STAGES: dict[str, Table] = {
    "customers": _stage(
        "customers",
        Column("external_id", String),
        Column("name", String),
        Column("email", String),
        Column("ap_email", String),
        Column("segment", String),
        Column("payment_terms_days", Integer),
        Column("currency", String),
        Column("credit_limit_minor", BigInteger),
        Column("owner_slack_id", String),
    ),
    "invoices": _stage(
        "invoices",
        Column("external_id", String),
        Column("customer_ext", String),
        Column("number", String),
        Column("currency", String),
        Column("total_minor", BigInteger),
        Column("issued_at", UTCDateTime()),
        Column("due_on", Date),
        Column("voided_at", UTCDateTime()),
        Column("written_off_at", UTCDateTime()),
        Column("payment_url", String),
        Column("stripe_ref", String),
    ),
    "payments": _stage(
        "payments",
        Column("external_id", String),
        Column("customer_ext", String),
        Column("invoice_ext", String),
        Column("amount_minor", BigInteger),
        Column("currency", String),
        Column("paid_at", UTCDateTime()),
        Column("status", String),
        Column("method", String),
        Column("failure_reason", String),
    ),
    "credit_notes": _stage(
        "credit_notes",
        Column("external_id", String),
        Column("invoice_ext", String),
        Column("amount_minor", BigInteger),
        Column("currency", String),
        Column("issued_at", UTCDateTime()),
    ),
    "disputes": _stage(
        "disputes",
        Column("external_id", String),
        Column("customer_ext", String),
        Column("invoice_ext", String),
        Column("amount_minor", BigInteger),
        Column("currency", String),
        Column("kind", String),
        Column("reason", Text),
        Column("opened_at", UTCDateTime()),
        Column("resolved_at", UTCDateTime()),
        Column("outcome", String),
        Column("evidence_due_at", UTCDateTime()),
    ),
    "fx_rates": _stage(
        "fx_rates",
        Column("external_id", String),  # "CUR:YYYY-MM-DD", for duplicate detection
        Column("currency", String),
        Column("rate_on", Date),
        Column("rate", Numeric(24, 12)),
    ),
}

# Flags on a database connection saying its staging tables (and their indexes) are there,
# so the syncs skip re-creating them per page (db.stripe_sql, db.source_rows). Whoever drops
# the tables must clear them, or the next sync on that pooled connection finds no table.
STAGES_READY = "arbot_stripe_stages"
STAGE_INDEXES_READY = "arbot_stage_indexes"


def forget_stages(dbapi_info: dict[Any, Any]) -> None:
    dbapi_info.pop(STAGES_READY, None)
    dbapi_info.pop(STAGE_INDEXES_READY, None)


def analyze_stage(conn: Connection, entity: str) -> None:
    """PostgreSQL keeps no statistics on temporary tables until asked; without them it plans
    the staged-rows joins as if the stage were large and scans whole ledger tables per page,
    which makes a 100,000-invoice sync quadratic. A truncated table is again one without
    statistics, so every staged page is analyzed (a thousand rows: about a millisecond)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"ANALYZE stage_{entity}"))
