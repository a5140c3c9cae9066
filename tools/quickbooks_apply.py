"""Writing QuickBooks objects into the ledger, inside the caller's transaction.

Rows go through db.ingest's staging, checks and upserts and db.settlement's refresh, the
path every source takes, so dated sums stay exact. An object that cannot be read, or whose
rows point at something the ledger lacks, is reported as a `Problem` and left out; the rest
of its page is written.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from db import ingest, source_rows, upserts
from db import stripe_sql as sq
from db.settlement import refresh_settlement
from tools.quickbooks_map import (
    BAD_DEBT_METHOD,
    SOURCE,
    Malformed,
    Mapper,
    Obj,
    memo_ids,
    obj_id,
    updated_at,
)

log = logging.getLogger(__name__)
_STAGE_ORDER = ("customers", "invoices", "payments", "credit_notes")


@dataclass(frozen=True)
class Problem:
    """An object left out, and why: shown to the person running the sync."""

    entity: str
    object_id: str
    reason: str

    def __str__(self) -> str:
        return f"{self.entity} {self.object_id}: {self.reason}"


def _map(
    mapper: Mapper, entity: str, obj: Obj, bad_debt: frozenset[str]
) -> tuple[list[tuple[str, Obj]], list[tuple[str, datetime]]]:
    """(staging rows, write-offs) of one object."""
    if entity == "Customer":
        return [("customers", mapper.customer(obj))], []
    if entity == "Invoice":
        return [("invoices", mapper.invoice(obj))], []
    if entity == "CreditMemo":
        return [("payments", mapper.credit_memo(obj))], []
    got = mapper.payment(obj, bad_debt)
    rows = [("payments", p) for p in got.payments] + [("credit_notes", n) for n in got.credit_notes]
    return rows, got.write_offs


def apply_page(conn: Connection, mapper: Mapper, entity: str, objs: list[Obj]) -> list[Problem]:
    """Write one page of one entity through the ledger's staging + upsert + settlement path;
    return the objects (or rows of them) left out."""
    problems: list[Problem] = []
    rows: dict[str, dict[str, Obj]] = {stage: {} for stage in _STAGE_ORDER}
    owner: dict[tuple[str, str], str] = {}  # (stage, row id) -> the object it came from
    write_offs: list[tuple[str, datetime]] = []
    bad_debt = frozenset[str]()
    if entity == "Payment":
        memos = {m for obj in objs for m in memo_ids(obj)}
        bad_debt = source_rows.memos_with_method(conn, SOURCE, memos, BAD_DEBT_METHOD)
    for position, obj in enumerate(objs, 1):
        try:
            mapped, written = _map(mapper, entity, obj, bad_debt)
        except (Malformed, TypeError, AttributeError) as exc:
            problems.append(Problem(entity, _label(obj, position), str(exc)))
            continue
        write_offs += written
        for stage, row in mapped:
            rows[stage][row["external_id"]] = row  # an object read twice: its last state
            owner[(stage, row["external_id"])] = obj_id(obj)
    if entity == "Payment":
        # SyncToken "0": never edited since created, so it cannot have dropped a line.
        edited = {obj_id(o) for o in objs if str(o.get("SyncToken", "")) not in ("", "0")}
        _zero_dropped(conn, rows, edited & set(owner.values()))
    if entity == "Invoice":
        _keep_write_offs(conn, rows["invoices"])
    return _write(conn, entity, rows, owner, write_offs, problems)


def _write(
    conn: Connection,
    entity: str,
    rows: dict[str, dict[str, Obj]],
    owner: dict[tuple[str, str], str],
    write_offs: list[tuple[str, datetime]],
    problems: list[Problem],
) -> list[Problem]:
    """Stage, check and upsert the rows, stamp write-offs, refresh settlement."""
    sq.prepare_stages(conn)
    source_rows.index_stages(conn)
    dirty = []
    for stage in _STAGE_ORDER:
        in_order = list(rows[stage].values())
        staged = [row | {"line": n} for n, row in enumerate(in_order, 1)]
        if not staged:
            continue
        dirty.append(stage)
        ingest.stage_rows(conn, stage, staged)
        bad = ingest.unknown_references(conn, stage, source=SOURCE)
        if bad:
            ingest.discard_lines(conn, stage, [line for line, _ in bad])
            problems += [
                Problem(entity, _owner_of(owner, stage, in_order[n - 1]["external_id"]), why)
                for n, why in bad
            ]
        upserts.write(conn, stage, source=SOURCE)
    stamped = source_rows.write_off_by_external_id(conn, SOURCE, write_offs)
    overs = ingest.refresh_touched(conn, source=SOURCE) + refresh_settlement(conn, stamped)
    for over in overs:
        log.info(
            "event=quickbooks_over_applied invoice=%s total=%s applied=%s",
            over.external_id,
            over.total_minor,
            over.applied_minor,
        )
    sq.clear_stages(conn, dirty)
    for problem in problems:
        log.warning("event=quickbooks_object_skipped %s", problem)
    return problems


def _keep_write_offs(conn: Connection, invoices: dict[str, Obj]) -> None:
    """QuickBooks has no write-off stamp of its own (it is a bad-debt credit memo): a re-read
    invoice keeps the one the ledger holds."""
    if not source_rows.any_written_off(conn, SOURCE):
        return  # the common case, and one indexed probe instead of a lookup per invoice
    for ext, (_voided, written) in sq.invoice_stamps(conn, SOURCE, list(invoices)).items():
        invoices[ext]["written_off_at"] = written


def _owner_of(owner: dict[tuple[str, str], str], stage: str, row_id: str) -> str:
    return owner.get((stage, row_id)) or row_id.split(":")[0]


def _zero_dropped(conn: Connection, rows: dict[str, dict[str, Obj]], payments: set[str]) -> None:
    """Rows an edited payment dropped go to zero (db.source_rows says why)."""
    if not payments:
        return
    prefixes = [f"{pid}:" for pid in payments]
    for stage, found in (
        ("payments", source_rows.payment_rows_under(conn, SOURCE, prefixes)),
        ("credit_notes", source_rows.credit_rows_under(conn, SOURCE, prefixes)),
    ):
        for row in found:
            rows[stage].setdefault(row["external_id"], row | {"amount_minor": 0})


def _label(obj: Any, position: int) -> str:
    try:
        return obj_id(obj)
    except (Malformed, AttributeError):
        return f"at position {position} (no Id)"


def tombstones(answer: dict[str, Any]) -> dict[str, list[tuple[str, datetime]]]:
    """Deleted objects in a change-data-capture answer: entity -> [(id, deleted at)]."""
    out: dict[str, list[tuple[str, datetime]]] = {}
    for block in answer.get("CDCResponse") or []:
        for response in block.get("QueryResponse") or []:
            for entity, objs in response.items():
                if not isinstance(objs, list):
                    continue
                for obj in objs:
                    if isinstance(obj, dict) and obj.get("status") == "Deleted":
                        try:
                            out.setdefault(entity, []).append((obj_id(obj), updated_at(obj)))
                        except Malformed as exc:
                            log.warning("event=quickbooks_tombstone_skipped reason=%s", exc)
    return out


def apply_deletions(conn: Connection, deleted: dict[str, list[tuple[str, datetime]]]) -> None:
    """What deleting in QuickBooks means for the ledger: a deleted payment's rows go to zero,
    a deleted credit memo's remaining credit too, a deleted invoice counts as voided then."""
    rows: dict[str, dict[str, Obj]] = {stage: {} for stage in _STAGE_ORDER}
    _zero_dropped(conn, rows, {pid for pid, _ in deleted.get("Payment", [])})
    memos = [f"creditmemo:{mid}" for mid, _ in deleted.get("CreditMemo", [])]
    for row in source_rows.payment_rows_with_ids(conn, SOURCE, memos):
        rows["payments"][row["external_id"]] = row | {"amount_minor": 0}
    voided = source_rows.void_by_external_id(conn, SOURCE, deleted.get("Invoice", []))
    problems = _write(conn, "deleted", rows, {}, [], [])
    refresh_settlement(conn, voided)
    for problem in problems:
        log.warning("event=quickbooks_deletion_skipped %s", problem)
