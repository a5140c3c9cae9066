"""Writing one page of Xero objects into the ledger, inside the caller's transaction, through
the path every accounting connector takes (tools.books_apply)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from db.books_payments import adopt_bank_payments
from tools.books_apply import Problem, Rows, empty_rows, keep_write_offs, write_rows, zero_dropped
from tools.books_fields import BadDebt, Malformed, Obj
from tools.xero_map import SOURCE, Mapper, obj_id

# Documents whose allocations can change or vanish: their dropped rows go to zero.
_REALLOCATED = frozenset({"CreditNotes", "Overpayments", "Prepayments"})


def apply_page(
    conn: Connection,
    mapper: Mapper,
    entity: str,
    objs: list[Obj],
    *,
    any_written_off: bool | None = None,
) -> list[Problem]:
    """Write one page of one entity; return the objects (or rows of them) left out.
    `any_written_off`: whether the ledger holds a written-off Xero invoice, if known."""
    problems: list[Problem] = []
    rows: Rows = empty_rows()
    owner: dict[tuple[str, str], str] = {}
    bad_debts: list[BadDebt] = []
    read: set[str] = set()
    for position, obj in enumerate(objs, 1):
        try:
            mapped = mapper.map(entity, obj)
            doc = obj_id(entity, obj)
        except (Malformed, TypeError, AttributeError, KeyError) as exc:
            problems.append(Problem(entity, _label(entity, obj, position), str(exc)))
            continue
        read.add(doc)
        bad_debts += mapped.bad_debts
        for stage, row in mapped.rows:
            rows[stage][row["external_id"]] = row  # an object read twice: its last state
            owner[(stage, row["external_id"])] = doc
    if entity in _REALLOCATED:
        zero_dropped(conn, SOURCE, rows, read)
    if entity == "Invoices":
        keep_write_offs(conn, SOURCE, rows["invoices"], any_=any_written_off)
    if entity == "Payments":
        adopt_bank_payments(conn, SOURCE, _bank_receipts(objs))
    documents = read if entity == "CreditNotes" else set()
    return write_rows(conn, SOURCE, entity, rows, owner, bad_debts, problems, documents=documents)


def _bank_receipts(objs: list[Obj]) -> list[tuple[str, str, str]]:
    """(bank payment, payment row id, invoice) of the payments whose Reference names a bank
    payment, as arbot's write-back sets it (tools.xero_write.post_payment): the same money as
    that bank row, however the write-back ended."""
    found = []
    for obj in objs:
        ref, invoice = str(obj.get("Reference") or ""), (obj.get("Invoice") or {}).get("InvoiceID")
        if "/" in ref and invoice and obj.get("PaymentID"):
            found.append((ref, f"{obj['PaymentID']}:{invoice}", str(invoice)))
    return found


def _label(entity: str, obj: Any, position: int) -> str:
    try:
        return obj_id(entity, obj)
    except Malformed:
        return f"at position {position} (no id)"
