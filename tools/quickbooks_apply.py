"""Writing QuickBooks objects into the ledger, inside the caller's transaction.

Rows go through db.ingest's staging, checks and upserts and db.settlement's refresh, the
path every source takes, so dated sums stay exact. An object that cannot be read, or whose
rows point at something the ledger lacks, is reported as a `Problem` and left out; the rest
of its page is written.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from db import source_rows
from db.books_payments import adopt_bank_payments
from db.settlement import refresh_settlement
from tools.books_apply import Problem, Rows, empty_rows, keep_write_offs, write_rows, zero_dropped
from tools.books_fields import BadDebt
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
BANK_NOTE = re.compile(r"Bank receipt (.+) applied in Slack ")  # tools.books_payment.post's note


def _map(
    mapper: Mapper, entity: str, obj: Obj, bad_debt: frozenset[str]
) -> tuple[list[tuple[str, Obj]], list[BadDebt]]:
    """(staging rows, bad debts) of one object."""
    if entity == "Customer":
        return [("customers", mapper.customer(obj))], []
    if entity == "Invoice":
        return [("invoices", mapper.invoice(obj))], []
    if entity == "CreditMemo":
        return [("payments", mapper.credit_memo(obj))], []
    got = mapper.payment(obj, bad_debt)
    rows = [("payments", p) for p in got.payments] + [("credit_notes", n) for n in got.credit_notes]
    return rows, got.bad_debts


def apply_page(
    conn: Connection,
    mapper: Mapper,
    entity: str,
    objs: list[Obj],
    *,
    any_written_off: bool | None = None,
) -> list[Problem]:
    """Write one page of one entity through the ledger's staging + upsert + settlement path;
    return the objects (or rows of them) left out. `any_written_off`: whether the ledger holds
    a written-off QuickBooks invoice, if known."""
    problems: list[Problem] = []
    rows: Rows = empty_rows()
    owner: dict[tuple[str, str], str] = {}  # (stage, row id) -> the object it came from
    bad_debts: list[BadDebt] = []
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
        bad_debts += written
        for stage, row in mapped:
            rows[stage][row["external_id"]] = row  # an object read twice: its last state
            owner[(stage, row["external_id"])] = obj_id(obj)
    if entity == "Payment":
        # SyncToken "0": never edited since created, so it cannot have dropped a line.
        edited = {obj_id(o) for o in objs if str(o.get("SyncToken", "")) not in ("", "0")}
        zero_dropped(conn, SOURCE, rows, edited & set(owner.values()))
    if entity == "Invoice":
        keep_write_offs(conn, SOURCE, rows["invoices"], any_=any_written_off)
    if entity == "Payment":
        adopt_bank_payments(conn, SOURCE, _bank_receipts(objs))
    documents = set(owner.values()) if entity == "Payment" else set()
    return write_rows(conn, SOURCE, entity, rows, owner, bad_debts, problems, documents=documents)


def _bank_receipts(objs: list[Obj]) -> list[tuple[str, str, str]]:
    """(bank payment, payment row id, invoice) of the Payments whose PrivateNote names a bank
    receipt, as arbot's write-back sets it (tools.quickbooks_write.post_payment)."""
    found = []
    for obj in objs:
        named = BANK_NOTE.match(str(obj.get("PrivateNote") or ""))
        if not named or not obj.get("Id"):
            continue
        for line in obj.get("Line") or []:
            for link in line.get("LinkedTxn") or []:
                if link.get("TxnType") == "Invoice" and link.get("TxnId"):
                    found.append((named[1], f"{obj['Id']}:{link['TxnId']}", str(link["TxnId"])))
    return found


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
    rows: Rows = empty_rows()
    zero_dropped(conn, SOURCE, rows, {pid for pid, _ in deleted.get("Payment", [])})
    memos = [f"creditmemo:{mid}" for mid, _ in deleted.get("CreditMemo", [])]
    for row in source_rows.payment_rows_with_ids(conn, SOURCE, memos):
        rows["payments"][row["external_id"]] = row | {"amount_minor": 0}
    voided = source_rows.void_by_external_id(conn, SOURCE, deleted.get("Invoice", []))
    gone = {pid for pid, _ in deleted.get("Payment", [])}  # their write-offs are undone
    problems = write_rows(conn, SOURCE, "deleted", rows, {}, [], [], documents=gone)
    refresh_settlement(conn, voided)
    for problem in problems:
        log.warning("event=quickbooks_deletion_skipped %s", problem)
