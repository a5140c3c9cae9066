"""A QuickBooks query for the next page of one entity, from the shared sync cursor
(tools.sync_cursor): QuickBooks' query endpoint filters and sorts on
`MetaData.LastUpdatedTime` and pages by STARTPOSITION / MAXRESULTS."""

from __future__ import annotations

import functools
from datetime import datetime

from tools.quickbooks_map import Malformed, Obj, updated_at
from tools.sync_cursor import Cursor

__all__ = ["Cursor", "object_id", "query", "stamp"]


def stamp(obj: Obj, default: str | None) -> str | None:
    try:
        return _stamp_of(updated_at(obj))
    except Malformed:
        return default


@functools.lru_cache(maxsize=4096)
def _stamp_of(at: datetime) -> str:
    """Objects changed together share their update time: each is written out once."""
    return at.isoformat()


def object_id(obj: Obj) -> str:
    return str(obj.get("Id")) if isinstance(obj, dict) else ""


def query(cursor: Cursor, entity: str, size: int) -> str:
    where, start = "", 1
    if cursor.ts is not None:
        op = "=" if cursor.tie else (">" if cursor.after else ">=")
        where = f" WHERE MetaData.LastUpdatedTime {op} '{cursor.ts}'"
        start = cursor.tie or 1
    return (
        f"SELECT * FROM {entity}{where} ORDERBY MetaData.LastUpdatedTime "
        f"STARTPOSITION {start} MAXRESULTS {size}"
    )
