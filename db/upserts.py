"""Idempotent upserts of staged rows (db.ingest) into the ledger, one set-based statement each.

Two ways, the same result. By default `INSERT ... SELECT ... ON CONFLICT DO UPDATE`, which stays
right when another transaction writes the same row at the same time (a webhook and the sync
applying one Stripe object). A bulk import that locked the tables (db.ingest.defer_indexes)
has no such writer, so it updates the rows that differ and inserts the rest with an anti-join:
no speculative insertion per row, and no unique index to keep, which PostgreSQL then builds
once at the end instead of probing a million times.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

from db.link_keys import forget_moved, mark_pending
from db.settlement import settle_staged

# Target column -> SQL expression over the staging row `s` and the joined rows `c`
# (customer) and `i` (invoice). Joins resolve outside ids to ledger ids.
_CUSTOMER_JOIN = "JOIN customers c ON c.source = :source AND c.external_id = s.customer_ext"
_INVOICE_JOIN = "JOIN invoices i ON i.source = :source AND i.external_id = s.invoice_ext"
_UPSERTS: dict[str, tuple[str, dict[str, str]]] = {
    "customers": (
        "",
        {
            col: f"s.{col}"
            for col in [
                "name",
                "email",
                "ap_email",
                "segment",
                "payment_terms_days",
                "currency",
                "credit_limit_minor",
                "owner_slack_id",
            ]
        },
    ),
    "invoices": (
        _CUSTOMER_JOIN,
        {"customer_id": "c.id"}
        | {
            col: f"s.{col}"
            for col in [
                "number",
                "currency",
                "total_minor",
                "issued_at",
                "due_on",
                "voided_at",
                "written_off_at",
                "payment_url",
                "stripe_ref",
            ]
        },
    ),
    "payments": (
        _CUSTOMER_JOIN
        + " LEFT JOIN invoices i ON i.source = :source AND i.external_id = s.invoice_ext",
        {"customer_id": "c.id", "invoice_id": "i.id"}
        | {
            col: f"s.{col}"
            for col in ["amount_minor", "currency", "paid_at", "status", "method", "failure_reason"]
        },
    ),
    "credit_notes": (
        _INVOICE_JOIN,
        {"invoice_id": "i.id", "amount_minor": "s.amount_minor", "currency": "s.currency"}
        | {"issued_at": "s.issued_at"},
    ),
    "disputes": (
        _CUSTOMER_JOIN
        + " LEFT JOIN invoices i ON i.source = :source AND i.external_id = s.invoice_ext",
        {"customer_id": "c.id", "invoice_id": "i.id"}
        | {
            col: f"s.{col}"
            for col in [
                "amount_minor",
                "currency",
                "kind",
                "reason",
                "opened_at",
                "resolved_at",
                "outcome",
                "evidence_due_at",
            ]
        },
    ),
}


_DERIVED = ("settled_at", "applied_minor")


@dataclass(frozen=True)
class UpsertCounts:
    new: int
    changed: int
    unchanged: int


def staged_count(conn: Connection, entity: str) -> int:
    return int(conn.execute(text(f"SELECT count(*) FROM stage_{entity}")).scalar_one())


def _select(conn: Connection, entity: str, source: str, settle: bool) -> tuple[list[str], str]:
    """The written columns and the SELECT of staged rows, outside ids resolved, they come from."""
    joins, exprs = _UPSERTS[entity]
    if entity == "invoices" and settle:
        settle_staged(conn, source=source)
        joins += " LEFT JOIN settle_staged pre ON pre.invoice_ext = s.external_id"
        exprs = exprs | {c: f"pre.{c}" for c in _DERIVED}
    select = (
        "SELECT :source AS source, s.external_id, "
        + ", ".join(f"{e} AS {c}" for c, e in exprs.items())
        + f" FROM stage_{entity} s {joins}"
    )
    return list(exprs), select


def _on_conflict(entity: str, cols: list[str], select: str) -> str:
    differs = " OR ".join(f"{entity}.{c} IS DISTINCT FROM excluded.{c}" for c in cols)
    return (
        f"INSERT INTO {entity} (source, external_id, {', '.join(cols)}) {select} WHERE true "
        f"ON CONFLICT (source, external_id) DO UPDATE SET "
        f"{', '.join(f'{c} = excluded.{c}' for c in cols)} WHERE {differs}"
    )


def write(conn: Connection, entity: str, *, source: str) -> None:
    """`upsert` for callers that need no counts (the Stripe sync): one statement."""
    cols, select = _select(conn, entity, source, False)
    if entity == "invoices":
        forget_moved(conn, source)  # what they link to before they change
    conn.execute(text(_on_conflict(entity, cols, select)), {"source": source})
    if entity == "invoices":
        mark_pending(conn, source)


def upsert(
    conn: Connection, entity: str, *, source: str, settle: bool = False, alone: bool = False
) -> UpsertCounts:
    """Insert new rows and update changed ones; unchanged rows are not rewritten.

    `settle` (invoices, once every payment and credit note is staged): write each invoice with
    its settlement computed from the staged and stored rows, see `settle_staged`.
    `alone`: no other transaction can write these tables until this one ends (they are locked),
    so the upsert needs no unique index."""
    if entity == "fx_rates":
        return _upsert_fx(conn)
    cols, select = _select(conn, entity, source, settle)
    params = {"source": source}
    if alone:
        return _upsert_alone(conn, entity, cols, select, params)
    join_target = (
        f"FROM ({select}) x LEFT JOIN {entity} t "
        "ON t.source = x.source AND t.external_id = x.external_id"
    )
    new = conn.execute(text(f"SELECT count(*) {join_target} WHERE t.id IS NULL"), params)
    new_rows = int(new.scalar_one())
    own = [c for c in cols if c not in _DERIVED]
    own_differs = " OR ".join(f"t.{c} IS DISTINCT FROM x.{c}" for c in own)
    total = staged_count(conn, entity)
    changed_own = None
    if len(own) < len(cols) and new_rows == total:
        changed_own = 0  # all new (a first import): nothing to compare
    elif len(own) < len(cols):
        # Settlement is written whenever it differs, but a row counts as changed only when
        # its own fields do: a new payment does not change the invoice's line in the file.
        changed_own = conn.execute(
            text(f"SELECT count(*) {join_target} WHERE t.id IS NOT NULL AND ({own_differs})"),
            params,
        ).scalar_one()
    if entity == "invoices":
        forget_moved(conn, source)  # what they link to before they change
    result = conn.execute(text(_on_conflict(entity, cols, select)), params)
    written = max(result.rowcount, 0)
    if entity == "invoices":
        mark_pending(conn, source)
    changed = written - new_rows if changed_own is None else int(changed_own)
    return UpsertCounts(new=new_rows, changed=changed, unchanged=total - new_rows - changed)


def _upsert_alone(
    conn: Connection, entity: str, cols: list[str], select: str, params: dict[str, str]
) -> UpsertCounts:
    """Update the stored rows that differ, then insert the staged rows not stored yet."""
    total = staged_count(conn, entity)
    match = "t.source = :source AND t.external_id = s.external_id"
    held = conn.execute(
        text(f"SELECT 1 FROM stage_{entity} s JOIN {entity} t ON {match} LIMIT 1"), params
    ).first()
    changed = 0
    if held is not None:  # a first import has nothing to compare
        own = [c for c in cols if c not in _DERIVED]
        pairs = f"FROM ({select}) x JOIN {entity} t "
        pairs += "ON t.source = x.source AND t.external_id = x.external_id"
        own_differs = " OR ".join(f"t.{c} IS DISTINCT FROM x.{c}" for c in own)
        # As in `upsert`: only a row's own fields make it count as changed.
        changed = int(
            conn.execute(text(f"SELECT count(*) {pairs} WHERE {own_differs}"), params).scalar_one()
        )
        differs = " OR ".join(f"t.{c} IS DISTINCT FROM x.{c}" for c in cols)
        conn.execute(
            text(
                f"UPDATE {entity} AS t SET {', '.join(f'{c} = x.{c}' for c in cols)} "
                f"FROM ({select}) x "
                f"WHERE t.source = x.source AND t.external_id = x.external_id AND ({differs})"
            ),
            params,
        )
    inserted = conn.execute(
        text(
            f"INSERT INTO {entity} (source, external_id, {', '.join(cols)}) {select} "
            f"WHERE NOT EXISTS (SELECT 1 FROM {entity} t WHERE {match})"
        ),
        params,
    )
    new = max(inserted.rowcount, 0)
    if entity == "invoices":
        mark_pending(
            conn, params["source"], everything=True
        )  # a bulk load: the next relink is whole
    return UpsertCounts(new=new, changed=changed, unchanged=total - new - changed)


def _upsert_fx(conn: Connection) -> UpsertCounts:
    new = conn.execute(
        text(
            "SELECT count(*) FROM stage_fx_rates s LEFT JOIN fx_rates t "
            "ON t.currency = s.currency AND t.rate_on = s.rate_on WHERE t.id IS NULL"
        )
    ).scalar_one()
    result = conn.execute(
        text(
            "INSERT INTO fx_rates (currency, rate_on, rate) "
            "SELECT currency, rate_on, rate FROM stage_fx_rates WHERE true "
            "ON CONFLICT (currency, rate_on) DO UPDATE SET rate = excluded.rate "
            "WHERE fx_rates.rate <> excluded.rate"
        )
    )
    written = max(result.rowcount, 0)
    total = staged_count(conn, "fx_rates")
    return UpsertCounts(new=int(new), changed=written - int(new), unchanged=total - written)
