"""Writing one page of Xero objects into the ledger, inside the caller's transaction, through
the path every accounting connector takes (tools.books_apply)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from tools.books_apply import Problem, Rows, empty_rows, keep_write_offs, write_rows, zero_dropped
from tools.books_fields import Malformed, Obj
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
    write_offs: list[tuple[str, datetime]] = []
    read: set[str] = set()
    for position, obj in enumerate(objs, 1):
        try:
            mapped = mapper.map(entity, obj)
            doc = obj_id(entity, obj)
        except (Malformed, TypeError, AttributeError, KeyError) as exc:
            problems.append(Problem(entity, _label(entity, obj, position), str(exc)))
            continue
        read.add(doc)
        write_offs += mapped.write_offs
        for stage, row in mapped.rows:
            rows[stage][row["external_id"]] = row  # an object read twice: its last state
            owner[(stage, row["external_id"])] = doc
    if entity in _REALLOCATED:
        zero_dropped(conn, SOURCE, rows, read)
    if entity == "Invoices":
        keep_write_offs(conn, SOURCE, rows["invoices"], any_=any_written_off)
    return write_rows(conn, SOURCE, entity, rows, owner, write_offs, problems)


def _label(entity: str, obj: Any, position: int) -> str:
    try:
        return obj_id(entity, obj)
    except Malformed:
        return f"at position {position} (no id)"
