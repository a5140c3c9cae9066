"""Writing an accounting system's rows into the ledger, inside the caller's transaction: the
part every accounting connector shares once its objects are mapped to staging rows.

Rows go through db.ingest's staging, checks and upserts and db.settlement's refresh, the
path every source takes, so dated sums stay exact. A row that points at something the ledger
lacks is reported as a `Problem` and left out; the rest of its page is written.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from db import books_state, ingest, source_rows, upserts
from db import stripe_sql as sq
from db.settlement import refresh_settlement
from tools.books_fields import BadDebt

log = logging.getLogger(__name__)
STAGE_ORDER = ("customers", "invoices", "payments", "credit_notes")
Rows = dict[str, dict[str, dict[str, Any]]]  # stage -> row id -> staging row
WAITS = "(kept: applied once it is read)"


@dataclass(frozen=True)
class Problem:
    """An object left out, and why: shown to the person running the sync."""

    entity: str
    object_id: str
    reason: str
    waiting: bool = False  # it points at an object not read yet: kept, applied once it arrives

    def __str__(self) -> str:
        return f"{self.entity} {self.object_id}: {self.reason}"


def empty_rows() -> Rows:
    return {stage: {} for stage in STAGE_ORDER}


def write_rows(
    conn: Connection,
    source: str,
    entity: str,
    rows: Rows,
    owner: dict[tuple[str, str], str],
    bad_debts: list[BadDebt],
    problems: list[Problem],
    *,
    documents: Collection[str] = (),
) -> list[Problem]:
    """Stage, check and upsert the rows, settle bad debts, refresh settlement. `owner` maps
    (stage, row id) to the object a row came from, to name it in a problem. `documents`: the
    documents read (or deleted) whose earlier write-offs are judged again from `bad_debts`."""
    full = _judge_bad_debts(conn, source, entity, rows, owner, bad_debts, problems)
    earlier = books_state.write_offs_by(conn, source, [f"{d}:" for d in documents])
    undone = [invoice for invoice in earlier if invoice not in full]
    sq.prepare_stages(conn)
    source_rows.index_stages(conn)
    dirty = []
    for stage in STAGE_ORDER:
        in_order = list(rows[stage].values())
        if not in_order:
            continue
        dirty.append(stage)
        ingest.stage_page(conn, stage, in_order)
        bad = ingest.unknown_references(conn, stage, source=source)
        if bad:
            ingest.discard_lines(conn, stage, [line for line, _ in bad])
            for n, why in bad:
                row_id = in_order[n - 1]["external_id"]
                doc = owner.get((stage, row_id)) or row_id.split(":")[0]
                problems.append(Problem(entity, doc, f"{why} {WAITS}", waiting=True))
        upserts.write(conn, stage, source=source)
    cleared = source_rows.clear_write_offs(conn, source, undone)
    books_state.forget_write_offs(conn, source, undone)
    stamped = source_rows.write_off_by_external_id(
        conn, source, [(invoice, b.at) for invoice, b in full.items()]
    )
    books_state.record_write_offs(conn, source, {inv: b.cause for inv, b in full.items()})
    overs = ingest.refresh_touched(conn, source=source) + refresh_settlement(
        conn, stamped + cleared
    )
    for over in overs:
        log.info(
            "event=books_over_applied source=%s invoice=%s total=%s applied=%s",
            source,
            over.external_id,
            over.total_minor,
            over.applied_minor,
        )
    sq.clear_stages(conn, dirty)
    for problem in problems:
        log.warning("event=books_object_skipped source=%s %s", source, problem)
    return problems


def _judge_bad_debts(
    conn: Connection,
    source: str,
    entity: str,
    rows: Rows,
    owner: dict[tuple[str, str], str],
    bad_debts: list[BadDebt],
    problems: list[Problem],
) -> dict[str, BadDebt]:
    """The bad debts that write their invoice off (invoice -> it): those covering all the
    invoice still owed at their date. The others become credits of their amount in `rows`:
    a partial bad-debt note leaves the rest owed."""
    full: dict[str, BadDebt] = {}
    for b in bad_debts:
        found = source_rows.open_at(conn, source, b.invoice, b.at, excluding=b.cause)
        if found is None:
            why = f"unknown invoice {b.invoice} {WAITS}"
            problems.append(Problem(entity, b.cause.split(":")[0], why, waiting=True))
        elif b.amount_minor >= found[0]:
            full[b.invoice] = b
        else:
            rows["credit_notes"][b.cause] = {
                "external_id": b.cause,
                "invoice_ext": b.invoice,
                "amount_minor": b.amount_minor,
                "currency": b.currency,
                "issued_at": b.at,
            }
            owner[("credit_notes", b.cause)] = b.cause.split(":")[0]
    return full


def keep_write_offs(
    conn: Connection, source: str, invoices: dict[str, dict[str, Any]], *, any_: bool | None = None
) -> None:
    """The accounting systems record a write-off as a credit document, not a stamp on the
    invoice: a re-read invoice keeps the stamp the ledger holds. `any_`: whether the source
    has any written-off invoice, when the caller knows (a probe per page scans the invoices)."""
    if not (source_rows.any_written_off(conn, source) if any_ is None else any_):
        return  # the common case, and one probe instead of a lookup per invoice
    for ext, (_voided, written) in sq.invoice_stamps(conn, source, list(invoices)).items():
        invoices[ext]["written_off_at"] = written


def zero_dropped(conn: Connection, source: str, rows: Rows, documents: set[str]) -> None:
    """Rows under `documents` (external ids "DOC:...") that are absent from what the current
    version maps to go to zero (db.source_rows says why); the mapped rows are kept as they are."""
    if not documents:
        return
    prefixes = [f"{doc}:" for doc in documents]
    for stage, found in (
        ("payments", source_rows.payment_rows_under(conn, source, prefixes)),
        ("credit_notes", source_rows.credit_rows_under(conn, source, prefixes)),
    ):
        for row in found:
            rows[stage].setdefault(row["external_id"], row | {"amount_minor": 0})
